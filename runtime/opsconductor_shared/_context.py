"""Per-request context in contextvars: the request id and the W3C trace context.

The request-id middleware sets them at the start of every request. Each request runs in its
own task with its own copy of the context, so routes, dependencies (also those run in the
threadpool), background tasks and outgoing service calls of one request all see its values,
and concurrent requests never see each other's. The same values are bound into structlog's
contextvars so every log line of the request carries them.
"""

from __future__ import annotations

import random
import re
from contextvars import ContextVar
from typing import Any, NamedTuple

import structlog

__all__ = [
    "TraceContext",
    "bind_log_context",
    "bind_request_context",
    "get_request_id",
    "get_trace_context",
    "new_request_id",
    "parse_traceparent",
]

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_INVALID_TRACE_ID = "0" * 32
_INVALID_SPAN_ID = "0" * 16

_request_id: ContextVar[str | None] = ContextVar("opsconductor_request_id", default=None)
_trace: ContextVar[TraceContext | None] = ContextVar("opsconductor_trace", default=None)


class TraceContext(NamedTuple):
    """The W3C trace context of the current request.

    `trace_id` is shared by every service on the call chain; `span_id` is this request's own
    span, which outgoing calls name as their parent.
    """

    trace_id: str
    span_id: str
    flags: str = "01"
    parent_id: str | None = None

    @classmethod
    def start(cls, incoming: TraceContext | None = None) -> TraceContext:
        """A new span: a child of `incoming`, or the root of a new trace."""
        if incoming is None:
            ids = _random_hex(192)  # trace id and span id from one draw
            return cls(ids[:32], ids[32:], "01", None)
        return cls(incoming.trace_id, _random_hex(64), incoming.flags, incoming.span_id)

    def traceparent(self) -> str:
        """The `traceparent` header for an outgoing call made within this span."""
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}"


def parse_traceparent(value: str | None) -> TraceContext | None:
    """A valid `traceparent` header as the caller's span, or None (invalid headers are ignored,
    as the W3C specification requires)."""
    if not value:
        return None
    match = _TRACEPARENT.match(value.strip().lower())
    if match is None:
        return None
    trace_id, span_id, flags = match.groups()
    if trace_id == _INVALID_TRACE_ID or span_id == _INVALID_SPAN_ID:
        return None
    return TraceContext(trace_id=trace_id, span_id=span_id, flags=flags)


def _random_hex(bits: int) -> str:
    # Ids, not secrets: the W3C trace context asks for randomness, not unpredictability, and
    # the OS random source costs a system call per request. The lowest bit set keeps the id
    # (and the span id at the end of a split draw) from being all zeros, which is invalid.
    return format(random.getrandbits(bits) | 1, f"0{bits // 4}x")


def new_request_id() -> str:
    """A fresh request id: 32 lowercase hex characters."""
    return _random_hex(128)


def get_request_id() -> str | None:
    """The current request's id, or None outside a request."""
    return _request_id.get()


def get_trace_context() -> TraceContext | None:
    """The current request's trace context, or None outside a request."""
    return _trace.get()


def bind_request_context(request_id: str, trace: TraceContext | None) -> None:
    """Make `request_id` and `trace` the current request's context, for code and for logs.

    Clears whatever log context the task inherited first, so nothing of an earlier request
    leaks into this one.
    """
    _request_id.set(request_id)
    _trace.set(trace)
    structlog.contextvars.clear_contextvars()
    if trace is None:
        structlog.contextvars.bind_contextvars(request_id=request_id)
    else:
        structlog.contextvars.bind_contextvars(request_id=request_id, trace_id=trace.trace_id)


def bind_log_context(**values: Any) -> None:
    """Add values (such as `user_id`) to every later log line of the current request."""
    structlog.contextvars.bind_contextvars(**values)
