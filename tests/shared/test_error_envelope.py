"""Every error path returns the shared envelope, with the request id and the security headers."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from opsconductor_conformance import load_schema_dir
from opsconductor_shared.testing import CapturedLogs

from tests.conftest import SCHEMAS
from tests.shared.apps import make_app

ENVELOPE = load_schema_dir(SCHEMAS).validator("ErrorResponse")


@pytest.fixture
def client() -> TestClient:
    return TestClient(make_app(max_body_bytes=1024), raise_server_exceptions=False)


def assert_envelope(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert [e.message for e in ENVELOPE.iter_errors(body)] == []
    assert body["status"] == status
    assert body["code"] == code
    assert body["request_id"] == response.headers["x-request-id"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "content-security-policy" in response.headers
    assert response.headers["cache-control"] == "no-store"
    return body


ERROR_PATHS = [
    pytest.param("GET", "/items/7", {}, 404, "NOT_FOUND", id="our-404"),
    pytest.param("GET", "/no/such/route", {}, 404, "NOT_FOUND", id="unknown-route-404"),
    pytest.param("DELETE", "/items/1", {}, 405, "METHOD_NOT_ALLOWED", id="wrong-method-405"),
    pytest.param("GET", "/items/abc", {}, 422, "VALIDATION_ERROR", id="path-422"),
    pytest.param(
        "POST",
        "/items",
        {"json": {"name": "x", "port": 70000}},
        422,
        "VALIDATION_ERROR",
        id="body-422",
    ),
    pytest.param(
        "POST",
        "/items",
        {"content": b"{not json", "headers": {"content-type": "application/json"}},
        422,
        "VALIDATION_ERROR",
        id="malformed-json-422",
    ),
    pytest.param(
        "POST", "/items", {"json": {"name": "taken", "port": 80}}, 409, "CONFLICT", id="our-409"
    ),
    pytest.param(
        "POST", "/echo-size", {"json": {"k": "v" * 2000}}, 413, "PAYLOAD_TOO_LARGE", id="body-413"
    ),
    pytest.param("GET", "/http-error", {}, 418, "IM_A_TEAPOT", id="http-exception-418"),
    pytest.param("GET", "/http-500", {}, 503, "SERVICE_UNAVAILABLE", id="http-exception-503"),
    pytest.param("GET", "/boom", {}, 500, "INTERNAL_ERROR", id="unhandled-500"),
]


EXPECTED_INSTANCE = {
    "/items/7": ("/items/{item_id}",),
    "/items/abc": ("/items/{item_id}",),
    "/items/1": ("/items/{item_id}",),
    "/no/such/route": (None,),
    "/echo-size": (None,),  # the body limit answers before any route is matched
}


@pytest.mark.parametrize(("method", "path", "options", "status", "code"), ERROR_PATHS)
def test_error_paths_return_the_envelope(
    client: TestClient, method: str, path: str, options: dict[str, Any], status: int, code: str
) -> None:
    body = assert_envelope(client.request(method, path, **options), status, code)
    # The route's template, never the path as sent (its ids are the client's input).
    assert body.get("instance") in EXPECTED_INSTANCE.get(path, (path,))


def test_405_keeps_allow(client: TestClient) -> None:
    response = client.delete("/items/1")
    assert response.headers["allow"] == "GET"


def test_incoming_request_id_is_kept_on_errors(client: TestClient) -> None:
    response = client.get("/boom", headers={"X-Request-ID": "caller-chosen-id.42"})
    assert response.headers["x-request-id"] == "caller-chosen-id.42"
    assert response.json()["request_id"] == "caller-chosen-id.42"


def test_500_hides_internals_and_logs_them(client: TestClient, captured_logs: CapturedLogs) -> None:
    response = client.get("/boom")
    body = response.json()
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text
    assert "unexpected error" in body["detail"]
    (event,) = captured_logs.events("unhandled_exception")
    assert event["request_id"] == body["request_id"]
    assert "RuntimeError" in event["exception"]
    assert "hunter2" not in event["exception"]
    assert "s3cret" not in event["exception"]


def test_http_5xx_detail_is_generic(client: TestClient) -> None:
    response = client.get("/http-500")
    assert "10.0.0.7" not in response.text


def test_422_never_echoes_the_password(client: TestClient) -> None:
    secret = "short-pw"  # too short: fails validation
    response = client.post("/login", json={"username": "al", "password": secret})
    body = assert_envelope(response, 422, "VALIDATION_ERROR")
    assert secret not in response.text
    assert {(e["pointer"], e["field"], e["code"]) for e in body["errors"]} == {
        ("/body/username", "username", "string_too_short"),
        ("/body/password", "password", "string_too_short"),
    }


def test_422_of_wrong_type_does_not_echo_input(client: TestClient) -> None:
    response = client.post(
        "/login", json={"username": "alice", "password": ["correct horse battery"]}
    )
    assert "correct horse" not in response.text
    assert response.json()["errors"][0]["pointer"] == "/body/password"


def test_missing_body_is_a_422(client: TestClient) -> None:
    body = assert_envelope(client.post("/items"), 422, "VALIDATION_ERROR")
    assert body["errors"][0]["code"] == "missing"


def test_stream_failing_after_start_aborts_instead_of_passing_truncated_body(
    client: TestClient,
) -> None:
    with pytest.raises(RuntimeError, match="mid-stream"):
        TestClient(make_app()).get("/stream-fails")


def test_success_is_not_an_envelope(client: TestClient) -> None:
    response = client.get("/items/1")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"id": 1}
