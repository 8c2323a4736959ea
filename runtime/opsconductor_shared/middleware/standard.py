"""`StandardMiddleware`: request id, security headers and timing in one layer.

`add_standard_middleware` installs this instead of the three classes stacked: the behaviour
is the same (it calls their methods, in their order: request id outermost, then security
headers, then timing and the access log), but every request pays for one layer and one
response wrapper instead of three, which is most of the cost of the stack. Each of the three
classes is still a middleware of its own for apps that want only one of them.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .performance import PerformanceMiddleware
from .request_id import RequestIDMiddleware
from .security_headers import SecurityHeadersMiddleware

__all__ = ["StandardMiddleware"]


class StandardMiddleware:
    """See the module docstring.

    Args:
        app: the ASGI app to wrap.
        request_id: the configured request-id middleware (its `app` is not used).
        security_headers: the configured security-headers middleware.
        performance: the configured performance middleware.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        request_id: RequestIDMiddleware,
        security_headers: SecurityHeadersMiddleware,
        performance: PerformanceMiddleware,
    ) -> None:
        self.app = app
        self.request_id = request_id
        self.security_headers = security_headers
        self.performance = performance

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                self.request_id.begin(scope)
            await self.app(scope, receive, send)
            return
        request_id = self.request_id.begin(scope)
        path = scope["path"]
        start = time.perf_counter()
        status = 500
        sent = 0

        async def send_wrapper(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
                # One pass over the app's own headers serves all three: drop `Server` and any
                # request id the app set, add the defaults it did not set, then ours.
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                if b"server" in present or request_id[0] in present:
                    drop = (b"server", request_id[0])
                    headers = [h for h in headers if h[0].lower() not in drop]
                headers.append(self.performance.server_timing(start))
                headers.extend(self.security_headers.defaults_for(path, present))
                headers.append(request_id)
                message["headers"] = headers
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.performance.record(scope, status, sent, start)
