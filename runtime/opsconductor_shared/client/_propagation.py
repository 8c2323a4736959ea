"""What an outgoing call carries of the request it is made for.

Every call names the current request id (`X-Request-ID`) and the current span as its parent
(`traceparent`). The caller's bearer token is forwarded only when the client or the call asks
for it, and only a token that the auth dependencies verified: they bind it with
`bind_caller_token`, which lasts for the current request's context.
"""

from __future__ import annotations

from contextvars import ContextVar

from .._context import get_request_id, get_trace_context

__all__ = [
    "bind_caller_token",
    "get_caller_token",
    "propagation_headers",
]

_caller_token: ContextVar[str | None] = ContextVar("opsconductor_caller_token", default=None)


def bind_caller_token(token: str | None) -> None:
    """Make `token` the current request's verified bearer token (None to forget it)."""
    _caller_token.set(token)


def get_caller_token() -> str | None:
    """The current request's verified bearer token, or None."""
    return _caller_token.get()


def propagation_headers(
    *, request_id_header: str = "X-Request-ID", forward_authorization: bool = False
) -> dict[str, str]:
    """The headers that carry the current request's context to an upstream.

    Args:
        request_id_header: the header that names the request id.
        forward_authorization: add `Authorization: Bearer` with the caller's verified token.
    """
    headers: dict[str, str] = {}
    request_id = get_request_id()
    if request_id is not None:
        headers[request_id_header] = request_id
    trace = get_trace_context()
    if trace is not None:
        headers["traceparent"] = trace.traceparent()
    if forward_authorization:
        token = _caller_token.get()
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
    return headers
