"""RequestBodyLimitMiddleware: 413 in the envelope, by declared length and by counting."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from opsconductor_shared.middleware import RequestBodyLimitMiddleware

from tests.shared.apps import make_app


@pytest.fixture
def client() -> TestClient:
    return TestClient(make_app(max_body_bytes=100))


def test_declared_length_over_limit(client: TestClient) -> None:
    response = client.post(
        "/echo-size", content=b"x" * 101, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["code"] == "PAYLOAD_TOO_LARGE"
    assert response.json()["request_id"] == response.headers["x-request-id"]
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_chunked_body_over_limit_is_counted(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"a": "'
        for _ in range(20):
            yield b"x" * 10
        yield b'"}'

    response = client.post(
        "/echo-size", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["code"] == "PAYLOAD_TOO_LARGE"


def test_body_within_limit_passes(client: TestClient) -> None:
    response = client.post("/echo-size", json={"a": 1, "b": 2})
    assert response.status_code == 200
    assert response.json() == {"keys": 2}


def test_negative_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        RequestBodyLimitMiddleware(make_app(), max_body_bytes=-1)
