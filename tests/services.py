"""Real services for integration tests: where they are, what a missing one means, and tools.

`DATABASE_URL` and `REDIS_URL` name the servers (default: PostgreSQL and Redis on loopback).
A service that does not answer SKIPS the test, with the reason, outside CI; with `CI=true`
in the environment it FAILS the test, so CI can never pass by skipping. Everything a test
creates in them carries `unique_name()`, so concurrent runs never collide. These variables
choose the servers of the tests in this process only: the services the suite launches
(`examples.launcher`) never inherit them, nor any `<NAME>_SERVICE_*` variable; each test
names its services' storage itself.

Also here: `TcpProxy` (a loopback proxy a test can stop or turn into a black hole, to take a
service away from the code under test without touching the shared server), and, from the
testing kit (`opsconductor_shared.testing`), `app_client` (an httpx client on an ASGI app with
its lifespan running) and `closed_port` (a loopback port nothing listens on).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import uuid
from typing import Any, NoReturn
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest
import redis
from opsconductor_shared.testing import app_client, closed_port

__all__ = [
    "TcpProxy",
    "app_client",
    "closed_port",
    "in_ci",
    "require_postgres",
    "require_redis",
    "service_missing",
    "unique_name",
]

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def _display(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}:{parts.port}{parts.path}"


def service_missing(service: str, url: str, error: BaseException) -> NoReturn:
    """Skip (or, in CI, fail) the current test because `service` is not reachable."""
    reason = f"{service} is not reachable at {_display(url)} ({type(error).__name__}: {error})"
    if in_ci():
        pytest.fail(f"{reason}; CI=true requires it", pytrace=False)
    pytest.skip(reason)


@functools.cache
def _probe_postgres(url: str) -> BaseException | None:
    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        return exc
    return None


@functools.cache
def _probe_redis(url: str) -> BaseException | None:
    try:
        client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:
        return exc
    return None


def require_postgres() -> str:
    """The PostgreSQL URL, after checking that it answers (see the module docstring)."""
    url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    error = _probe_postgres(url)
    if error is not None:
        service_missing("PostgreSQL", url, error)
    return url


def require_redis() -> str:
    """The Redis URL, after checking that it answers (see the module docstring)."""
    url = os.environ.get("REDIS_URL", DEFAULT_REDIS_URL)
    error = _probe_redis(url)
    if error is not None:
        service_missing("Redis", url, error)
    return url


def unique_name(prefix: str) -> str:
    """A name no other test run uses: `prefix_<pid>_<random>`, a valid SQL identifier."""
    return f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:10]}"


class TcpProxy:
    """A loopback TCP proxy to `target`, in this event loop, that a test can break.

    `stop()` closes the listening socket and every connection (clients see refused and reset
    connections); `blackhole()` keeps accepting and keeps connections open but forwards
    nothing (clients see timeouts); `heal()` forwards again.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.forwarding = True
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers.add(up_writer)
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.ensure_future(self._pipe(source, sink))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await source.read(65536):
                if self.forwarding:
                    sink.write(data)
                    await sink.drain()
        with contextlib.suppress(OSError):
            sink.close()

    def blackhole(self) -> None:
        self.forwarding = False

    def heal(self) -> None:
        self.forwarding = True

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._writers):
            with contextlib.suppress(OSError):
                writer.transport.abort()
        self._writers.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if server is not None:
            await server.wait_closed()


def assert_envelope(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response's error envelope, after checking it is one: `status`, problem+json,
    `code`, and the request id of its `X-Request-ID` header."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    assert body["request_id"] == response.headers["x-request-id"]
    return body
