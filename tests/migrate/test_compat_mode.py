"""The server's compatibility mode (issue 17 §2): off by default; on, every problem+json
body, from a handler or from a middleware, carries the old `error` member too, and the
OpenAPI document says so."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from opsconductor_contracts import ErrorResponse
from opsconductor_shared import ConflictError, ServiceSettings

from tests.shared.apps import make_app

# (method, path, body, status): a handler's error, FastAPI's 404 and 422, an unhandled
# exception, and the body limit's refusal, which a middleware sends itself.
ERROR_PATHS = [
    ("GET", "/items/7", None, 404),
    ("GET", "/no/such/route", None, 404),
    ("POST", "/items", b'{"name": 1}', 422),
    ("GET", "/boom", None, 500),
    ("POST", "/items", b'{"name": "' + b"x" * 200 + b'"}', 413),
]


def client(**settings: object) -> TestClient:
    return TestClient(make_app(max_body_bytes=100, **settings), raise_server_exceptions=False)


def test_the_mode_is_off_by_default() -> None:
    assert ServiceSettings().legacy_error_member is False
    with client() as http:
        for method, path, body, status in ERROR_PATHS:
            answer = http.request(
                method, path, content=body, headers={"content-type": "application/json"}
            )
            assert answer.status_code == status
            assert "error" not in answer.json()
        assert "x-opsconductor-legacy-errors" not in http.get("/openapi.json").json()["info"]


@pytest.mark.parametrize(("method", "path", "body", "status"), ERROR_PATHS)
def test_on_every_error_carries_the_old_member(
    method: str, path: str, body: bytes | None, status: int
) -> None:
    with client(legacy_error_member=True) as http:
        answer = http.request(
            method, path, content=body, headers={"content-type": "application/json"}
        )
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/problem+json"
    assert int(answer.headers["content-length"]) == len(answer.content)
    problem = answer.json()
    # Still the shared envelope for migrated callers ...
    shared = ErrorResponse.model_validate(problem)
    # ... and the old one for the others.
    assert problem["error"] == {
        "code": shared.code,
        "message": shared.detail,
        "status_code": status,
        **({"path": shared.instance} if shared.instance else {}),
    }


def test_on_a_returned_error_carries_it_too() -> None:
    app = make_app(legacy_error_member=True)

    @app.get("/returned", operation_id="returned")
    async def returned() -> object:
        return ConflictError("taken", code="TARGET_EXISTS").to_response()

    with TestClient(app) as http:
        answer = http.get("/returned")
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "TARGET_EXISTS"


def test_the_openapi_document_marks_the_mode() -> None:
    with client(legacy_error_member=True) as http:
        info = http.get("/openapi.json").json()["info"]
    assert info["x-opsconductor-legacy-errors"] is True


def test_the_environment_turns_it_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TARGETS_SERVICE_LEGACY_ERROR_MEMBER", "true")
    assert ServiceSettings.for_service("targets-service").legacy_error_member is True
