"""`StandardMiddleware`: request id, security headers and timing in one layer.

`add_standard_middleware` installs this instead of the three classes stacked: the behaviour
is the same (it calls their methods, in their order: request id outermost, then security
headers, then timing and the access log), but every request pays for one layer and one
response wrapper instead of three, which is most of the cost of the stack. Each of the three
classes is still a middleware of its own for apps that want only one of them.

It also keeps the request's `ResponseProgress` in the scope, so an `UnhandledErrorMiddleware`
further in needs no wrapper of its own to know whether the response started.
"""

from __future__ import annotations

from time import perf_counter

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import RESPONSE_PROGRESS_KEY, ResponseProgress
from .performance import PerformanceMiddleware, server_timing
from .request_id import RequestIDMiddleware
from .security_headers import SecurityHeadersMiddleware

__all__ = ["StandardMiddleware"]

# Common response headers (lowercase, as Starlette sends them). A response with only these,
# minus any name the configured layers drop or set (see `StandardMiddleware.__init__`),
# takes the short path.
_COMMON = frozenset(
    (
        b"content-type",
        b"content-length",
        b"content-encoding",
        b"etag",
        b"last-modified",
        b"location",
        b"vary",
        b"allow",
        b"retry-after",
        b"www-authenticate",
        b"ratelimit",
        b"ratelimit-policy",
    )
)


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
        managed = {b"server", request_id.header}
        managed.update(name for name, _ in security_headers.api_headers)
        managed.update(name for name, _ in security_headers.docs_headers)
        self._ordinary = _COMMON - managed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                self.request_id.begin(scope)
            await self.app(scope, receive, send)
            return
        request_id = self.request_id.begin(scope)
        path = scope["path"]
        start = perf_counter()
        progress = scope[RESPONSE_PROGRESS_KEY] = ResponseProgress()
        status = 500
        sent = 0
        id_name = request_id[0]
        defaults_for = self.security_headers.defaults_for
        all_for = self.security_headers.all_for
        ordinary = self._ordinary

        async def send_wrapper(message: Message) -> None:
            nonlocal status, sent
            kind = message["type"]
            if kind == "http.response.body":
                sent += len(message.get("body", b""))
                if not message.get("more_body", False):
                    progress.complete = True
            elif kind == "http.response.start":
                progress.started = True
                status = message["status"]
                raw = message.get("headers", ())
                for name, _ in raw:
                    if name not in ordinary:
                        break
                else:
                    # The usual response (content type and length): none of its headers is
                    # one this layer drops or sets, so ours are simply added.
                    message["headers"] = [*raw, server_timing(start), *all_for(path), request_id]
                    await send(message)
                    return
                # One pass over the app's own headers serves all three: drop `Server` and any
                # request id the app set, add the defaults it did not set, then ours.
                headers = list(raw)
                present = {name.lower() for name, _ in headers}
                if b"server" in present or id_name in present:
                    headers = [h for h in headers if h[0].lower() not in (b"server", id_name)]
                headers.append(server_timing(start))
                headers += defaults_for(path, present)
                headers.append(request_id)
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.performance.record(scope, status, sent, start)
