"""Security headers (added by StandardMiddleware): the API set, HSTS by profile, the docs'
own CSP, kept Cache-Control, each header once."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from opsconductor_shared.middleware import StandardMiddleware
from opsconductor_shared.middleware.security_headers import API_CSP, DOCS_CSP, security_headers
from starlette.types import Message, Receive, Scope, Send

from tests.shared.apps import make_app

EXPECTED = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "cross-origin-resource-policy": "same-origin",
    "content-security-policy": API_CSP,
    "strict-transport-security": "max-age=31536000; includeSubDomains",
}
DOCUMENT_ONLY = (
    "x-frame-options",
    "cross-origin-opener-policy",
    "permissions-policy",
    "x-permitted-cross-domain-policies",
)
NOT_FOR_JSON = ("cross-origin-embedder-policy", *DOCUMENT_ONLY)


def test_production_api_headers() -> None:
    response = TestClient(make_app()).get("/items/1")
    for name, value in EXPECTED.items():
        assert response.headers[name] == value, name
    for name in NOT_FOR_JSON:
        assert name not in response.headers


def test_development_drops_hsts() -> None:
    response = TestClient(make_app(environment="development")).get("/items/1")
    assert "strict-transport-security" not in response.headers
    assert response.headers["x-content-type-options"] == "nosniff"


def test_docs_get_a_csp_that_lets_swagger_ui_load() -> None:
    client = TestClient(make_app())
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert docs.headers["content-security-policy"] == DOCS_CSP
    assert "https://cdn.jsdelivr.net" in DOCS_CSP
    assert "cross-origin-embedder-policy" not in docs.headers
    for name in DOCUMENT_ONLY:
        assert name in docs.headers
    assert client.get("/openapi.json").headers["content-security-policy"] == API_CSP


def test_route_cache_control_is_kept_and_server_removed() -> None:
    response = TestClient(make_app()).get("/cached")
    assert response.headers["cache-control"] == "max-age=60"
    assert "server" not in response.headers


def _standard(
    app_headers: list[tuple[bytes, bytes]], **security_options: Any
) -> list[tuple[bytes, bytes]]:
    """The response headers `StandardMiddleware` sends for an app that sends `app_headers`."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": app_headers})
        await send({"type": "http.response.body", "body": b"{}"})

    middleware = StandardMiddleware(
        app, headers=security_headers(**security_options), access_log=False
    )
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {"type": "http", "method": "GET", "path": "/x", "headers": [], "client": None}
    asyncio.run(middleware(scope, receive, send))
    return list(sent[0]["headers"])


@pytest.mark.parametrize(
    "app_headers",
    [
        [(b"content-type", b"application/json"), (b"content-length", b"2")],
        [(b"content-type", b"application/json"), (b"x-custom", b"1")],
        [(b"Content-Type", b"application/json")],
    ],
    ids=["ordinary", "other-header", "uppercase"],
)
def test_every_default_is_added_once(app_headers: list[tuple[bytes, bytes]]) -> None:
    headers = _standard(app_headers)
    names = [name.lower() for name, _ in headers]
    assert len(names) == len(set(names))
    values = {name.decode(): value.decode() for name, value in headers}
    for name, value in EXPECTED.items():
        assert values[name] == value
    assert re.fullmatch(r"[0-9a-f]{32}", values["x-request-id"])
    assert values["server-timing"].startswith("app;dur=")
    assert headers[: len(app_headers)] == app_headers


def test_headers_the_app_set_are_kept_or_replaced_whatever_their_case() -> None:
    headers = _standard(
        [
            (b"Cache-Control", b"max-age=60"),
            (b"Server", b"uvicorn"),
            (b"X-Request-ID", b"spoofed"),
            (b"content-type", b"application/json"),
        ]
    )
    names = [name.lower() for name, _ in headers]
    assert names.count(b"cache-control") == 1
    assert (b"Cache-Control", b"max-age=60") in headers
    assert b"server" not in names
    assert names.count(b"x-request-id") == 1
    assert (b"X-Request-ID", b"spoofed") not in headers


def test_a_configured_header_with_a_common_name_is_not_sent_twice() -> None:
    # `Vary` is usually the app's own; configured as a default it is one this layer sets, so
    # a response that sets it too must take the full path and keep only one.
    headers = _standard(
        [(b"content-type", b"application/json"), (b"vary", b"Accept")], extra={"Vary": "Origin"}
    )
    assert [value for name, value in headers if name == b"vary"] == [b"Accept"]
