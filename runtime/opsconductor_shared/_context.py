"""Per-request context in contextvars: the request id, the W3C trace context and the log context.

The request-id middleware sets them at the start of every request. Each request runs in its
own task with its own copy of the context, so routes, dependencies (also those run in the
threadpool), background tasks and outgoing service calls of one request all see its values,
and concurrent requests never see each other's.

The log context (`request_id`, `trace_id`, and whatever `bind_log_context` adds, such as
`user_id`) is one immutable mapping in one context variable: starting a request is one
`set`, and `merge_log_context` adds it to every log line with one `get`. Binding replaces the
mapping instead of changing it, so a value bound in one task (or one thread of the pool) is
never seen by a task that merely inherited the context. Values are masked once, when they are
bound (`mask_sensitive_data`), not again on every line that carries them.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any, NamedTuple

from structlog.typing import EventDict, WrappedLogger

from ._masking import is_clean_flat_mapping, mask_sensitive_data, mask_string

__all__ = [
    "TraceContext",
    "begin_request",
    "bind_log_context",
    "bind_request_context",
    "get_log_context",
    "get_request_id",
    "get_trace_context",
    "merge_log_context",
    "new_request_id",
    "parse_traceparent",
]

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_INVALID_TRACE_ID = "0" * 32
_INVALID_SPAN_ID = "0" * 16

_EMPTY: Mapping[str, Any] = MappingProxyType({})
# The whole request context is one value in one variable, (request id, trace context, log
# context): starting a request is one `set`. Never changed in place, only replaced.
_Current = tuple[str | None, "TraceContext | None", Mapping[str, Any]]
_current: ContextVar[_Current] = ContextVar("opsconductor_request", default=(None, None, _EMPTY))


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
            ids = "%048x" % (_getrandbits(192) | _NONZERO_SPAN)
            return cls(ids[:32], ids[32:], "01", None)
        return cls(
            incoming.trace_id, "%016x" % (_getrandbits(64) | 1), incoming.flags, incoming.span_id
        )

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


# One draw of 320 random bits makes a request id (32 hex digits), a trace id (32) and a span
# id (16). Ids, not secrets: the W3C trace context asks for randomness, not unpredictability,
# and the OS random source would cost a system call per request. The lowest bit of each id is
# set so that none of them can be all zeros, which the W3C trace context forbids.
_ID_BITS = 320
_NONZERO = (1 << 192) | (1 << 64) | 1
_NONZERO_SPAN = (1 << 64) | 1  # trace id and span id alone
# tuple.__new__ directly: the named tuple's generated constructor costs twice as much, and
# this runs once per request.
_TUPLE_NEW = tuple.__new__
_getrandbits = random.getrandbits


def new_request_id() -> str:
    """A fresh request id: 32 lowercase hex characters."""
    return "%032x" % (_getrandbits(128) | 1)


def begin_request(request_id: str | None, caller: TraceContext | None) -> str:
    """Start the current request's context: its id (`request_id`, or a fresh one) and a new
    span (a child of `caller`, or the root of a new trace). Returns the request id."""
    # Written out in one function, from one random draw: this runs for every request.
    ids = "%080x" % (_getrandbits(_ID_BITS) | _NONZERO)
    if request_id is None:
        request_id = logged_id = ids[:32]
    else:
        logged_id = mask_string(request_id)  # a caller's id could carry anything
    if caller is None:
        trace = _TUPLE_NEW(TraceContext, (ids[32:64], ids[64:], "01", None))
    else:
        trace = _TUPLE_NEW(TraceContext, (caller[0], ids[64:], caller[2], caller[1]))
    _current.set((request_id, trace, {"request_id": logged_id, "trace_id": trace[0]}))
    return request_id


def get_request_id() -> str | None:
    """The current request's id, or None outside a request."""
    return _current.get()[0]


def get_trace_context() -> TraceContext | None:
    """The current request's trace context, or None outside a request."""
    return _current.get()[1]


def bind_request_context(request_id: str, trace: TraceContext | None) -> None:
    """Make `request_id` and `trace` the current request's context, for code and for logs.

    Replaces the log context the task inherited, so nothing bound for an earlier request
    leaks into this one.
    """
    log = {"request_id": mask_string(request_id)}
    if trace is not None:
        log["trace_id"] = mask_string(trace.trace_id)
    _current.set((request_id, trace, log))


def bind_log_context(**values: Any) -> None:
    """Add values (such as `user_id`) to every later log line of the current request.

    They are masked now, once, as every log line is (`mask_sensitive_data`).
    """
    request_id, trace, log = _current.get()
    if not is_clean_flat_mapping(values):  # the usual ids and names need no copy
        values = mask_sensitive_data(values)
    _current.set((request_id, trace, {**log, **values}))


def get_log_context() -> Mapping[str, Any]:
    """The values every log line of the current request carries, masked (read-only)."""
    return MappingProxyType(dict(_current.get()[2]))


def merge_log_context(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """structlog processor: add the log context to the event (the event's own keys win).

    The context was masked when it was bound, so this may run after the masking processor.
    """
    context = _current.get()[2]
    if context.keys().isdisjoint(event_dict):
        event_dict.update(context)
        return event_dict
    for key, value in context.items():
        if key not in event_dict:
            event_dict[key] = value
    return event_dict
