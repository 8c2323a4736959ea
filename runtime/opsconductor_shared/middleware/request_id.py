"""`RequestIDMiddleware`: a request id and W3C trace context for every request.

Honours a valid incoming `X-Request-ID` (1-128 characters of `A-Z a-z 0-9 . _ : -`; anything
else is replaced, never echoed), else generates one; echoes it on every response, errors
included; binds it for logs and code (see `_context`). Accepts a valid `traceparent`,
starting a child span of it, or starts a new trace; the trace id is bound for logs and the
span is what outgoing calls name as their parent.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .._context import begin_request, parse_traceparent

__all__ = ["DEFAULT_REQUEST_ID_HEADER", "RequestIDMiddleware"]

DEFAULT_REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,128}$")


class RequestIDMiddleware:
    """See the module docstring.

    Args:
        app: the ASGI app to wrap.
        header: the request id header name.
        trust_incoming: honour a client's request id (and trace context); False to always
            start fresh, for services exposed to untrusted clients.
    """

    def __init__(
        self, app: ASGIApp, *, header: str = DEFAULT_REQUEST_ID_HEADER, trust_incoming: bool = True
    ) -> None:
        if not header or not header.isascii():
            raise ValueError("the request id header must be a non-empty ASCII header name")
        self.app = app
        self.header = header.lower().encode("latin-1")
        self.trust_incoming = trust_incoming

    def begin(self, scope: Scope) -> tuple[bytes, bytes]:
        """Bind this request's id and trace context; return the response header to echo."""
        incoming_id = None
        traceparent = None
        if self.trust_incoming:
            for name, value in scope["headers"]:
                if name == self.header:
                    incoming_id = value
                elif name == b"traceparent":
                    traceparent = value
        caller = parse_traceparent(traceparent.decode("latin-1")) if traceparent else None
        request_id = begin_request(
            incoming_id.decode("ascii")
            if incoming_id is not None and _VALID_REQUEST_ID.match(incoming_id)
            else None,
            caller,
        )
        scope.setdefault("state", {})["request_id"] = request_id
        return (self.header, request_id.encode("ascii"))

    def with_header(
        self, headers: list[tuple[bytes, bytes]], header: tuple[bytes, bytes]
    ) -> list[tuple[bytes, bytes]]:
        """`headers` with ours as the only request id header."""
        for name, _ in headers:
            if name.lower() == self.header:
                headers = [h for h in headers if h[0].lower() != self.header]
                break
        headers.append(header)
        return headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        header = self.begin(scope)

        async def send_with_request_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = self.with_header(list(message.get("headers", ())), header)
            await send(message)

        await self.app(scope, receive, send_with_request_id)
