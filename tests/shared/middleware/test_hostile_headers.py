"""Hostile request headers: a singleton header the runtime reads, sent twice, is a 400 envelope.

With two `Authorization`, `X-Request-ID` or `traceparent` headers, which one a layer reads
decides who the caller is or which trace the request joins; the runtime refuses to guess.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.shared.apps import make_app
from tests.shared.test_error_envelope import assert_envelope

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
SINGLETONS = {
    "Authorization": ["Bearer one", "Bearer two"],
    "X-Request-ID": ["req-1", "req-2"],
    "traceparent": [TRACEPARENT, TRACEPARENT.replace("b7ad", "c7ad")],
}


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(make_app(), raise_server_exceptions=False)


@pytest.mark.parametrize("name", sorted(SINGLETONS))
@pytest.mark.parametrize("spelling", [str.lower, str.upper, lambda name: name])
def test_a_duplicated_singleton_header_is_a_400(client: TestClient, name: str, spelling) -> None:  # type: ignore[no-untyped-def]
    headers = [(spelling(name), value) for value in SINGLETONS[name]]
    response = client.get("/items/1", headers=headers)
    body = assert_envelope(response, 400, "BAD_REQUEST")
    assert name.lower() in body["detail"].lower()
    for value in SINGLETONS[name]:
        assert value not in response.text


def test_the_request_id_of_a_duplicated_request_id_is_a_fresh_one(client: TestClient) -> None:
    response = client.get("/items/1", headers=[("X-Request-ID", "a"), ("X-Request-ID", "b")])
    assert response.status_code == 400
    assert response.headers["x-request-id"] not in ("a", "b")


@pytest.mark.parametrize("name", sorted(SINGLETONS))
def test_a_singleton_header_once_is_served(client: TestClient, name: str) -> None:
    response = client.get("/items/1", headers=[(name, SINGLETONS[name][0])])
    assert response.status_code == 200


def test_other_headers_may_repeat(client: TestClient) -> None:
    response = client.get("/items/1", headers=[("Accept", "a/b"), ("Accept", "application/json")])
    assert response.status_code == 200
