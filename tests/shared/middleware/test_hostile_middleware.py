"""An exception raised in any middleware of a service's stack, not only in a route, is answered
with the envelope, the request id and the security headers."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from opsconductor_shared import ServiceSettings, create_service_app
from starlette.types import ASGIApp, Receive, Scope, Send

from tests.shared.test_error_envelope import assert_envelope


class RaisingMiddleware:
    def __init__(self, app: ASGIApp, *, error: Exception) -> None:
        self.app = app
        self.error = error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raise self.error
        await self.app(scope, receive, send)


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (RuntimeError("boom"), 500, "INTERNAL_ERROR"),
        (OverflowError("date value out of range"), 500, "INTERNAL_ERROR"),
        (KeyError("exp"), 500, "INTERNAL_ERROR"),
    ],
)
def test_an_exception_in_a_services_middleware_is_the_envelope(
    error: Exception, status: int, code: str
) -> None:
    app = create_service_app(
        "mw", "1.0.0", ServiceSettings(environment="production"), configure_logging=False
    )
    app.add_middleware(RaisingMiddleware, error=error)

    @app.get("/x")
    async def x() -> dict[str, bool]:
        return {"ok": True}

    response = TestClient(app, raise_server_exceptions=False).get(
        "/x", headers={"X-Request-ID": "req-mw-1"}
    )
    body = assert_envelope(response, status, code)
    assert body["request_id"] == "req-mw-1"
    assert str(error) not in response.text
