"""`PerformanceMiddleware`: timing header, one access-log event per request, slow-request
warnings and (optionally) Prometheus metrics.

Every response gets `Server-Timing: app;dur=<ms>` (time until the response started). When
the response is complete, one `request` event is logged with method, route template (never
the raw path with its ids, which would make every URL its own series), path, status,
duration, response bytes, request id and trace id (from the log context) and the client
address taken through trusted proxies only. Requests slower than `slow_request_ms` are logged
at WARNING. With a `RequestMetrics`, request count and latency are recorded by route
template, method and status.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .._client_ip import ClientAddressResolver
from .._logging import emit_event
from .metrics import RequestMetrics

__all__ = [
    "ACCESS_LOGGER",
    "DEFAULT_SLOW_REQUEST_MS",
    "PerformanceMiddleware",
    "route_template",
    "server_timing",
]

ACCESS_LOGGER = "opsconductor.access"
DEFAULT_SLOW_REQUEST_MS = 1000.0
UNMATCHED_ROUTE = "<unmatched>"


def route_template(scope: Scope) -> str:
    """The matched route's path template (`/targets/{target_id}`), or `<unmatched>`."""
    route = scope.get("route")
    path = getattr(route, "path_format", None)
    if path.__class__ is not str:
        path = getattr(route, "path", None)
        if not isinstance(path, str):
            return UNMATCHED_ROUTE
    root_path = scope.get("root_path")
    return f"{root_path}{path}" if root_path else path


def server_timing(start: float) -> tuple[bytes, bytes]:
    """The `Server-Timing` header for a response that started `start` (`perf_counter`) ago."""
    return (b"server-timing", b"app;dur=%.2f" % ((time.perf_counter() - start) * 1000))


class PerformanceMiddleware:
    """See the module docstring.

    Args:
        app: the ASGI app to wrap.
        slow_request_ms: requests at least this slow are logged at WARNING.
        client_address: resolves the client address (trusted proxies); default: the peer.
        metrics: record Prometheus metrics here (see `RequestMetrics`).
        access_log: log one event per request.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        slow_request_ms: float = DEFAULT_SLOW_REQUEST_MS,
        client_address: ClientAddressResolver | None = None,
        metrics: RequestMetrics | None = None,
        access_log: bool = True,
    ) -> None:
        if slow_request_ms <= 0:
            raise ValueError("slow_request_ms must be positive")
        self.app = app
        self.slow_request_ms = slow_request_ms
        self.client_address = client_address or ClientAddressResolver()
        self.metrics = metrics
        self.access_log = access_log

    def record(self, scope: Scope, status: int, sent: int, start: float) -> None:
        """Metrics and the access-log line of a finished request."""
        duration_ms = (time.perf_counter() - start) * 1000
        route = route_template(scope)
        if self.metrics is not None:
            self.metrics.observe(scope["method"], route, status, duration_ms / 1000)
        if not self.access_log:
            return
        slow = duration_ms >= self.slow_request_ms
        fields = {
            "method": scope["method"],
            "route": route,
            "path": scope["path"],
            "status": status,
            # Rounded to the microsecond; round() itself costs more than all the arithmetic.
            "duration_ms": int(duration_ms * 1000 + 0.5) / 1000,
            "bytes": sent,
            "client": self.client_address(scope),
            "slow": slow,
        }
        emit_event(ACCESS_LOGGER, "warning" if slow else "info", "request", fields)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        sent = 0

        async def timed_send(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), server_timing(start)]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            self.record(scope, status, sent, start)
