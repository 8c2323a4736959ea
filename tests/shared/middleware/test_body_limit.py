"""RequestBodyLimitMiddleware: 413 in the envelope, by declared length and by counting."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from opsconductor_shared.middleware import RequestBodyLimitMiddleware
from starlette.types import Message, Receive, Scope, Send

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


def _drive(middleware: RequestBodyLimitMiddleware, scope: dict[str, Any], body: bytes) -> int:
    """Send `body` in 10-byte chunks through `middleware`; the response status."""
    chunks = [body[i : i + 10] for i in range(0, len(body), 10)] or [b""]
    messages = [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ]
    statuses: list[int] = []

    async def receive() -> Message:
        return messages.pop(0)

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    asyncio.run(middleware(scope, receive, send))  # type: ignore[arg-type]
    return statuses[0]


async def _read_all(scope: Scope, receive: Receive, send: Send) -> None:
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def _scope(version: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "http_version": version,
        "method": "POST",
        "path": "/",
        "headers": headers,
    }


def test_http2_body_without_a_length_is_counted() -> None:
    middleware = RequestBodyLimitMiddleware(_read_all, max_body_bytes=50)
    assert _drive(middleware, _scope("2", []), b"x" * 40) == 200
    assert _drive(middleware, _scope("2", []), b"x" * 60) == 413


def test_chunked_http1_body_is_counted() -> None:
    middleware = RequestBodyLimitMiddleware(_read_all, max_body_bytes=50)
    chunked = [(b"transfer-encoding", b"chunked")]
    assert _drive(middleware, _scope("1.1", chunked), b"x" * 60) == 413


def test_framed_requests_reach_the_app_with_the_servers_receive() -> None:
    seen: list[object] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(receive)
        await _read_all(scope, receive, send)

    middleware = RequestBodyLimitMiddleware(app, max_body_bytes=50)
    for scope in (_scope("1.1", [(b"content-length", b"20")]), _scope("1.1", [])):

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Message) -> None:
            pass

        asyncio.run(middleware(scope, receive, send))  # type: ignore[arg-type]
        assert seen.pop() is receive
