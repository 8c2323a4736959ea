"""The app factory's stack: the runtime's own routes and the last-resort envelope, whatever a
service declares and wherever a layer fails."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from opsconductor_shared import ServiceSettings, create_service_app
from opsconductor_shared.auth import AuthSettings, LocalTokenVerifier, VerifiedToken, install_auth
from opsconductor_shared.middleware import RequestBodyLimitMiddleware
from opsconductor_shared.middleware.security_headers import API_CSP, DOCS_CSP
from opsconductor_shared.ratelimit import (
    MemoryRateLimitStore,
    RateLimitSettings,
    install_rate_limiting,
)
from opsconductor_shared.testing import CapturedLogs
from starlette.types import Receive, Scope, Send

from tests.shared.test_error_envelope import assert_envelope

HS256_SECRET = "a-test-secret-of-at-least-thirty-two-bytes"


def _app(**options: Any) -> FastAPI:
    return create_service_app(
        "stack-service",
        "1.0.0",
        ServiceSettings(environment="production"),
        configure_logging=False,
        **options,
    )


def _catch_all() -> FastAPI:
    app = _app()

    @app.get("/{slug}")
    async def by_slug(slug: str) -> dict[str, str]:
        return {"slug": slug}

    @app.get("/{section}/{slug}")
    async def nested(section: str, slug: str) -> dict[str, str]:
        return {"section": section, "slug": slug}

    return app


@pytest.fixture
def catch_all() -> Iterator[TestClient]:
    with TestClient(_catch_all()) as client:  # started: the lifespan has run
        yield client


@pytest.mark.parametrize("path", ["/health", "/health/ready", "/health/live"])
def test_a_catch_all_route_does_not_shadow_health(catch_all: TestClient, path: str) -> None:
    response = catch_all.get(path)
    assert response.status_code == 200
    assert response.json()["service"] == "stack-service"
    assert response.json()["status"] == "healthy"


def test_a_catch_all_route_does_not_shadow_the_documents(catch_all: TestClient) -> None:
    document = catch_all.get("/openapi.json")
    assert document.status_code == 200
    assert document.json()["info"]["title"] == "stack-service"
    docs = catch_all.get("/docs")
    assert docs.headers["content-type"].startswith("text/html")
    assert "swagger-ui" in docs.text
    assert catch_all.get("/docs/oauth2-redirect").headers["content-type"].startswith("text/html")
    # The service's own routes are still its own.
    assert catch_all.get("/targets").json() == {"slug": "targets"}
    assert catch_all.get("/health/other").json() == {"section": "health", "slug": "other"}


def test_the_runtime_routes_are_documented_with_the_services(catch_all: TestClient) -> None:
    paths = catch_all.get("/openapi.json").json()["paths"]
    assert {"/health", "/health/ready", "/health/live", "/{slug}", "/{section}/{slug}"} <= set(
        paths
    )
    assert paths["/health/live"]["get"]["operationId"] == "health_live"
    assert "/openapi.json" not in paths
    assert "/docs" not in paths


def test_a_runtime_path_with_another_method_is_the_runtimes_405(catch_all: TestClient) -> None:
    response = catch_all.post("/health")
    assert_envelope(response, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in response.headers["allow"]


def test_the_docs_csp_follows_the_docs_under_a_root_path() -> None:
    with TestClient(_app(), root_path="/api") as client:
        docs = client.get("/api/docs")
        assert docs.status_code == 200
        assert docs.headers["content-security-policy"] == DOCS_CSP
        assert docs.headers["x-frame-options"] == "DENY"
        assert "/api/openapi.json" in docs.text
        document = client.get("/api/openapi.json")
        assert document.status_code == 200
        assert document.headers["content-security-policy"] == API_CSP
        assert client.get("/api/health/live").json()["status"] == "healthy"


# -- an exception raised inside any layer is the envelope, with the request id and headers ---


class _FailingVerifier(LocalTokenVerifier):
    async def verify(self, token: str) -> VerifiedToken:
        raise OverflowError("date value out of range")  # what an exp of 10**12 used to raise


class _FailingStore(MemoryRateLimitStore):
    async def hit(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug in the store")


def _with_failing_auth() -> FastAPI:
    app = _app()
    install_auth(app, verifier=_FailingVerifier(AuthSettings(hs256_secret=HS256_SECRET)))
    return app


def _with_failing_rate_limiter() -> FastAPI:
    app = _app()
    install_rate_limiting(app, RateLimitSettings(default_limit="100/minute"), store=_FailingStore())
    return app


def _with_failing_route() -> FastAPI:
    app = _app()

    @app.get("/items/{item_id}")
    async def get_item(item_id: int) -> None:
        raise LookupError("database password=hunter2")

    return app


LAYERS = {
    "auth": _with_failing_auth,
    "rate_limit": _with_failing_rate_limiter,
    "body_limit": _app,
    "route": _with_failing_route,
}


@pytest.mark.parametrize("layer", list(LAYERS))
def test_an_exception_inside_a_layer_is_the_envelope(
    layer: str, captured_logs: CapturedLogs, monkeypatch: pytest.MonkeyPatch
) -> None:
    if layer == "body_limit":
        original = RequestBodyLimitMiddleware.__call__

        async def failing(self: Any, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http":
                raise MemoryError("the body limit itself failed")
            await original(self, scope, receive, send)

        monkeypatch.setattr(RequestBodyLimitMiddleware, "__call__", failing)
    # The test client raises whatever escapes the app: nothing may.
    with TestClient(LAYERS[layer]()) as client:
        response = client.get(
            "/items/1",
            headers={"Authorization": "Bearer a.b.c", "X-Request-ID": f"failing-{layer}"},
        )
    body = assert_envelope(response, 500, "INTERNAL_ERROR")
    assert body["request_id"] == f"failing-{layer}"
    assert "strict-transport-security" in response.headers
    assert "hunter2" not in response.text
    (event,) = captured_logs.events("unhandled_exception")
    assert event["request_id"] == f"failing-{layer}"
    (access,) = captured_logs.events("request")
    assert access["status"] == 500


@pytest.mark.parametrize(("setting", "lines"), [(None, 1), (True, 1), (False, 0)])
def test_the_access_log_setting(
    setting: bool | None, lines: int, captured_logs: CapturedLogs, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`<PREFIX>LOG__ACCESS=false` drops the `request` line (a gateway logs requests already)
    and nothing else: errors are still logged, the headers still sent."""
    if setting is not None:
        monkeypatch.setenv("STACK_SERVICE_LOG__ACCESS", str(setting).lower())
    settings = ServiceSettings.for_service("stack-service")
    app = create_service_app("stack-service", "1.0.0", settings, configure_logging=False)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/health/live").status_code == 200
        response = client.get("/boom")
    assert_envelope(response, 500, "INTERNAL_ERROR")
    assert "x-request-id" in response.headers
    assert len(captured_logs.events("request")) == 2 * lines
    assert len(captured_logs.events("unhandled_exception")) == 1


def test_without_the_access_log_slow_requests_are_still_logged(
    captured_logs: CapturedLogs, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`LOG__ACCESS=false` drops the line of every request, not the WARNING of a slow one."""
    monkeypatch.setenv("STACK_SERVICE_LOG__ACCESS", "false")
    monkeypatch.setenv("STACK_SERVICE_SLOW_REQUEST_MS", "0.001")
    settings = ServiceSettings.for_service("stack-service")
    app = create_service_app("stack-service", "1.0.0", settings, configure_logging=False)
    with TestClient(app) as client:
        assert client.get("/health/live").status_code == 200
    (line,) = captured_logs.events("request")
    assert line["level"] == "warning"
    assert line["slow"] is True
