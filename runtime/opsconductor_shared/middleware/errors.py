"""`UnhandledErrorMiddleware`: an unhandled exception becomes a 500 in the envelope, inside
the middleware stack, so the response still passes through the request-id, security-header
and timing middleware (Starlette's own last-resort handler sits outside all of them).

The exception and its stack go to the log, never to the client. An exception after the
response has started cannot change it: it is logged, and re-raised if the body was not
complete so the server aborts the connection instead of passing off a truncated body as whole.

Whether the response started is known from a `ResponseProgress`: the one an outer
`StandardMiddleware` keeps in the scope (it sees every message anyway), so this layer adds no
wrapper of its own, or, without one, the layer's own.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .._errors import InternalError
from .._logging import get_logger
from .._problem import send_problem

__all__ = ["RESPONSE_PROGRESS_KEY", "ResponseProgress", "UnhandledErrorMiddleware"]

RESPONSE_PROGRESS_KEY = "opsconductor.response_progress"

_log = get_logger("opsconductor.errors")


class ResponseProgress:
    """How far the response of one request has gone: started, and complete."""

    __slots__ = ("complete", "started")

    def __init__(self) -> None:
        self.started = False
        self.complete = False

    def observe(self, message: Message) -> None:
        """Note a message on its way to the server."""
        if message["type"] == "http.response.start":
            self.started = True
        elif message["type"] == "http.response.body" and not message.get("more_body", False):
            self.complete = True


class UnhandledErrorMiddleware:
    """See the module docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        progress: ResponseProgress | None = scope.get(RESPONSE_PROGRESS_KEY)
        if progress is None:
            progress = ResponseProgress()
            observe, outer_send = progress.observe, send

            async def tracking_send(message: Message) -> None:
                observe(message)
                await outer_send(message)

            send = tracking_send
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            _log.error(
                "unhandled_exception",
                exc_info=exc,
                exc_type=type(exc).__name__,
                response_started=progress.started,
            )
            if progress.started:
                if not progress.complete:
                    raise
                return
            await send_problem(send, InternalError(), scope)
