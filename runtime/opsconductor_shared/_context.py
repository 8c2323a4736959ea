"""Per-request context: the request id and trace context for code, the log context for logs.

The standard layer starts every request with `begin_request`. The request id and the W3C
trace context go in one context variable of the runtime's: `get_request_id` and
`get_trace_context` read it (error envelopes, outgoing calls). The log context, the values
every log line of the request carries (`request_id`, `trace_id`, and whatever
`bind_log_context` adds, such as `user_id`), is structlog's contextvars, the one mechanism for
it: cleared, then bound, at the start of every request, as structlog's documentation has it.
A service's own `structlog.contextvars.bind_contextvars` calls land in the same place. The
logging pipeline merges it into every line (`merge_contextvars`) and masks it with the event.

Each request runs in its own task with its own copy of the context, so routes, dependencies
(also those run in the threadpool), background tasks and outgoing service calls of one
request all see its values, concurrent requests never see each other's, and a value bound in
a child task never reaches its parent.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any, NamedTuple

from starlette.types import Scope
from structlog.contextvars import bind_contextvars, clear_contextvars, get_contextvars

from ._masking import MaskedStr, is_clean_flat_mapping, mask_sensitive_data, mask_string

__all__ = [
    "UNMATCHED_ROUTE",
    "route_template",
    "TraceContext",
    "begin_request",
    "bind_log_context",
    "bind_request_context",
    "get_log_context",
    "get_request_id",
    "get_trace_context",
    "log_context_values",
    "new_request_id",
    "parse_traceparent",
]

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_INVALID_TRACE_ID = "0" * 32
_INVALID_SPAN_ID = "0" * 16

# The request id and trace context are one value in one variable: starting a request is one
# `set`, and a task that merely inherited the context can never change its parent's.
_Current = tuple[str | None, "TraceContext | None"]
_current: ContextVar[_Current] = ContextVar("opsconductor_request", default=(None, None))


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
        request_id = ids[:32]
        logged_id = MaskedStr(request_id)
    else:
        logged_id = MaskedStr(mask_string(request_id))  # a caller's id could carry anything
    if caller is None:
        trace = _TUPLE_NEW(TraceContext, (ids[32:64], ids[64:], "01", None))
    else:
        trace = _TUPLE_NEW(TraceContext, (caller[0], ids[64:], caller[2], caller[1]))
    _current.set((request_id, trace))
    clear_contextvars()
    bind_contextvars(request_id=logged_id, trace_id=MaskedStr(trace[0]))
    return request_id


def get_request_id() -> str | None:
    """The current request's id, or None outside a request."""
    return _current.get()[0]


def get_trace_context() -> TraceContext | None:
    """The current request's trace context, or None outside a request."""
    return _current.get()[1]


def bind_request_context(request_id: str, trace: TraceContext | None) -> None:
    """Make `request_id` and `trace` the current request's context, for code and for logs.

    Clears the log context the task inherited first, so nothing bound for an earlier request
    leaks into this one.
    """
    _current.set((request_id, trace))
    clear_contextvars()
    bind_contextvars(request_id=MaskedStr(mask_string(request_id)))
    if trace is not None:
        bind_contextvars(trace_id=MaskedStr(mask_string(trace.trace_id)))


def bind_log_context(**values: Any) -> None:
    """Add values (such as `user_id`) to every later log line of the current request.

    They are masked now, once (`log_context_values`), so the log context never holds a secret
    in clear and its strings need no scan on every line (see `MaskedStr`).
    """
    bind_contextvars(**log_context_values(values))


def log_context_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """`values` as the log context holds them: masked (`mask_sensitive_data`), strings marked
    as `MaskedStr`. What binds the same values on many requests (a verified token's user id)
    computes this once and binds the result with `bind_contextvars`."""
    if not is_clean_flat_mapping(values):  # the usual ids and names need no copy
        values = mask_sensitive_data(values)
    return {
        key: MaskedStr(value) if value.__class__ is str else value for key, value in values.items()
    }


def get_log_context() -> Mapping[str, Any]:
    """The values every log line of the current request carries (read-only)."""
    return MappingProxyType(get_contextvars())


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
