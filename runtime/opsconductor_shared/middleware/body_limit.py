"""`RequestBodyLimitMiddleware`: request bodies over the limit get 413 in the envelope.

A declared `Content-Length` over the limit is refused before the app runs; one within it is
enforced by the server, which never delivers more than the declared length. A body without
one (chunked, or HTTP/2 without the header) is counted as the app reads it; the read that
crosses the limit raises `PayloadTooLargeError` (an `HTTPException`, so FastAPI's body
parsing passes it on and the error handlers render it), and if it escapes the app before a
response started, this middleware sends it itself (`send_problem`). Either way the response
closes the connection: the rest of the body is never read.
"""

from __future__ import annotations

from collections.abc import Awaitable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .._errors import PayloadTooLargeError
from .._problem import send_problem

__all__ = ["DEFAULT_MAX_BODY_BYTES", "RequestBodyLimitMiddleware"]

DEFAULT_MAX_BODY_BYTES = 1_048_576
_FRAMED = ("1.0", "1.1")


def _too_large(limit: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"The request body is larger than the limit of {limit} bytes.",
        headers={"Connection": "close"},
    )


class RequestBodyLimitMiddleware:
    """See the module docstring.

    Args:
        app: the ASGI app to wrap.
        max_body_bytes: the largest body accepted.
    """

    def __init__(self, app: ASGIApp, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        if max_body_bytes < 0:
            raise ValueError("max_body_bytes must not be negative")
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def _refuse(self, scope: Scope, send: Send) -> None:
        await send_problem(send, _too_large(self.max_body_bytes), scope)

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not a coroutine itself: a request with nothing to count gets the app's own awaitable,
        # so this layer adds no frame to every await and every send of the request.
        if scope["type"] != "http":
            return self.app(scope, receive, send)
        declared: int | None = None
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
            elif name == b"transfer-encoding":
                chunked = True
        if declared is not None and declared > self.max_body_bytes:
            return self._refuse(scope, send)
        if not chunked and (declared is not None or scope.get("http_version") in _FRAMED):
            # The server frames the body to its declared length, and an HTTP/1 request with
            # neither header has none: nothing to count.
            return self.app(scope, receive, send)
        return self._counted(scope, receive, send)

    async def _counted(self, scope: Scope, receive: Receive, send: Send) -> None:
        received = 0
        started = False
        limit = self.max_body_bytes

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _too_large(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except PayloadTooLargeError:
            if started:
                raise
            await self._refuse(scope, send)
