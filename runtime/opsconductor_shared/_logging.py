"""Structured logging for services: one structlog pipeline for our events and stdlib logging.

`setup_service_logging` configures structlog to write one line per event (JSON via orjson in
production, coloured console output in development) and routes the standard library's
logging (uvicorn, httpx, asyncpg, anything else) through the same processors. Every line
carries `timestamp` (RFC 3339, UTC), `level`, `service`, `logger`, `event` and the request's
log context (`request_id`, `trace_id`, `user_id`: structlog's contextvars; see `_context`).
Every event passes through `mask_sensitive_data` before it is rendered, exceptions and the
log context included. There is one pipeline: the access log of every request goes through it
like any other event.

With `buffered=True` (what `create_service_app` asks for), lines reach a file descriptor
through a `LineWriter` (`_log_writer`): a request only appends its line to a bounded buffer
that a writer thread writes out in batches; errors are written at once, and the buffer is
flushed when the app shuts down and when the interpreter exits (`flush_logs`).

Calling `setup_service_logging` again reconfigures in place: loggers obtained earlier (and
cached by structlog) follow the new level, format and stream.
"""

from __future__ import annotations

import atexit
import io
import logging
import os
import select
import sys
import threading
import time
from collections.abc import Mapping, MutableMapping
from typing import IO, Any

import orjson
import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from ._log_writer import LineWriter
from ._masking import is_clean_flat_mapping, mask_sensitive_data, safe_repr

__all__ = [
    "DEFAULT_SLOW_QUERY_MS",
    "flush_logs",
    "get_logger",
    "log_database_operation",
    "log_service_call",
    "mask_event",
    "setup_service_logging",
]

DEFAULT_SLOW_QUERY_MS = 500.0
_QUIET_LOGGERS = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    # psycopg_pool logs every connection request, hand-out and return at INFO.
    "psycopg.pool": logging.WARNING,
    "uvicorn.access": logging.CRITICAL + 1,
}
# Loggers whose events are replaced by the runtime's own and never emitted: no handler and no
# propagation, so `hasHandlers()` is false. uvicorn checks exactly that, and then does not even
# format its access line (the access-log middleware writes one with more in it).
_SILENCED_LOGGERS = frozenset({"uvicorn.access"})
_ROUTED_LOGGERS = (
    "uvicorn",
    "uvicorn.error",
    "uvicorn.access",
    "httpx",
    "httpcore",
    "psycopg",
    "psycopg.pool",
    "redis",
)


def mask_event(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """structlog processor: `mask_sensitive_data` on the whole event.

    The event dict belongs to the pipeline, so a clean flat event (the common case, such as
    an access-log line) passes through without a copy.
    """
    if is_clean_flat_mapping(event_dict):
        return event_dict
    masked: EventDict = mask_sensitive_data(event_dict)
    return masked


class _UTCTimestamp:
    """Adds `timestamp` as RFC 3339 UTC with microseconds; formats the seconds once per second."""

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def __call__(self, _: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
        second, micro = divmod(time.time_ns() // 1000, 1_000_000)
        if second != self._second:
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        event_dict["timestamp"] = "%s.%06dZ" % (self._prefix, micro)  # noqa: UP031 (faster)
        return event_dict


class _Sink:
    """Where every rendered line goes; swapped, not replaced, when logging is reconfigured.

    A stream backed by a file descriptor (standard output, a file) gets each line with one
    `os.write` of its own, under a lock so lines never interleave: no copy through Python's
    buffers and nothing held back. What the stream's own buffers held when it was chosen is
    flushed then; later `print()` output still buffered in the same stream may come out after
    log lines written meanwhile (it never does when the stream is unbuffered or line-buffered,
    as with `PYTHONUNBUFFERED=1`). Other streams (`io.StringIO`, a test's capture) are written
    and flushed line by line. A buffered sink hands a descriptor's lines to a `LineWriter`.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.stream: Any = None
        self._binary: Any = None
        self._fd: int | None = None
        self._writer: LineWriter | None = None
        self.use(sys.stdout)

    def use(self, stream: Any, *, buffered: bool = False) -> None:
        """Write to `stream`: to its file descriptor (through a `LineWriter` when
        `buffered`), else its binary buffer, else as text."""
        # What the previous writer holds goes out first (outside the lock: flushing may log).
        self.flush()
        with self._lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
            self.stream = stream
            if isinstance(stream, io.TextIOBase):
                self._binary = getattr(stream, "buffer", None)
            else:
                self._binary = stream
            self._fd = _file_descriptor(stream)
            if self._fd is not None:
                stream.flush()
                if buffered:
                    self._writer = LineWriter(self._fd, on_dropped=_log_dropped_lines)

    def flush(self) -> None:
        """Write out what the writer holds (nothing to do when unbuffered)."""
        writer = self._writer
        if writer is not None:
            writer.flush()

    def write_line(self, line: str | bytes, *, urgent: bool = False) -> None:
        # Bytes from the JSON renderer (the usual case), text from the console renderer.
        data = (line if isinstance(line, bytes) else line.encode()) + b"\n"
        writer = self._writer
        if writer is not None:
            writer.write(data, urgent=urgent)
            return
        fd = self._fd
        with self._lock:
            if fd is not None:
                written = os.write(fd, data)
                if written < len(data):
                    _write_all(fd, memoryview(data)[written:])
                return
            stream, binary = self.stream, self._binary
            if binary is None:
                stream.write(data.decode())
                stream.flush()
                return
            if binary is not stream:
                # Whatever print() left in the text layer goes out first, in order.
                stream.flush()
            binary.write(data)
            binary.flush()


def _file_descriptor(stream: Any) -> int | None:
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):  # no descriptor: StringIO, captures
        return None
    return fd if isinstance(fd, int) and fd >= 0 else None


def _write_all(fd: int, rest: memoryview) -> None:
    # A short write (a full pipe, a signal): the rest goes out, waiting while the descriptor
    # cannot take it (it may be non-blocking), so no line is ever cut.
    while rest:
        try:
            rest = rest[os.write(fd, rest) :]
        except BlockingIOError:
            select.select([], [fd], [])


class _SinkLogger:
    """The logger structlog renders into: every level writes one line to the sink; errors
    and worse are written at once, not after the lines a buffered sink holds."""

    def __init__(self, sink: _Sink, name: str | None = None) -> None:
        self._sink = sink
        self.name = name

    def msg(self, message: str | bytes) -> None:
        self._sink.write_line(message)

    def urgent(self, message: str | bytes) -> None:
        self._sink.write_line(message, urgent=True)

    log = debug = info = warning = warn = msg
    error = critical = exception = fatal = urgent


class _State:
    def __init__(self) -> None:
        self.sink = _Sink()
        self.level = logging.INFO
        self.service = "service"
        # structlog keeps a reference to this list in every cached logger, so it is changed in
        # place on reconfiguration rather than replaced.
        self.processors: list[Processor] = []
        self.configured = False


_STATE = _State()


_LEVEL_OF = structlog.processors.NAME_TO_LEVEL


def _filter_level(_: WrappedLogger, method: str, event_dict: EventDict) -> EventDict:
    # A processor, not a filtering logger class: loggers structlog has cached follow a new
    # level at once. (`msg` is not in structlog's table: it logs at INFO.)
    if _LEVEL_OF.get(method, logging.INFO) < _STATE.level:
        raise structlog.DropEvent
    return event_dict


_STACK_INFO = structlog.processors.StackInfoRenderer()


def _add_fields(logger: WrappedLogger, method: str, event_dict: EventDict) -> EventDict:
    # What every line has besides the event and the log context, in one processor: `level`
    # (structlog's `add_log_level`), `service`, `logger` (the stdlib record's name
    # for routed records), and the exception and stack, rendered, when the event has one.
    event_dict = structlog.processors.add_log_level(logger, method, event_dict)
    event_dict.setdefault("service", _STATE.service)
    if "logger" not in event_dict:
        record = event_dict.get("_record")
        name = record.name if record is not None else getattr(logger, "name", None)
        event_dict["logger"] = name or "app"
    if "exc_info" in event_dict or "stack_info" in event_dict:
        event_dict = _STACK_INFO(logger, method, event_dict)
        event_dict = structlog.processors.format_exc_info(logger, method, event_dict)
    return event_dict


def _render_json(_: WrappedLogger, __: str, event_dict: EventDict) -> bytes:
    try:
        return orjson.dumps(event_dict, default=safe_repr)
    except TypeError:  # orjson's JSONEncodeError: a huge int, a lone surrogate, a key type
        return orjson.dumps(_jsonable(event_dict, 0))


_MAX_RENDER_DEPTH = 64
_INT_RANGE = range(-(2**63), 2**64)


def _jsonable(value: Any, depth: int) -> Any:
    # Logging never raises: what the fast path refused becomes plain JSON data, with text
    # (a safe repr) for whatever JSON cannot hold.
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, int):
        if value in _INT_RANGE:
            return value
        return f"<int of {value.bit_length()} bits>"
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if depth >= _MAX_RENDER_DEPTH:
        return "[TRUNCATED]"
    try:
        if isinstance(value, Mapping):
            return {
                _jsonable(key if isinstance(key, str) else safe_repr(key), depth): _jsonable(
                    item, depth + 1
                )
                for key, item in value.items()
            }
        if isinstance(value, list | tuple):
            return [_jsonable(item, depth + 1) for item in value]
    except Exception:  # a container that cannot be read is shown by its repr
        return _jsonable(safe_repr(value), depth)
    return _jsonable(safe_repr(value), depth)


class _NeverRaising:
    """Wraps a renderer: an event it cannot render is rendered again as plain JSON data."""

    def __init__(self, renderer: Processor) -> None:
        self._renderer = renderer

    def __call__(self, logger: WrappedLogger, method: str, event_dict: EventDict) -> Any:
        # The renderer takes fields out of the event as it goes: a failed attempt leaves it
        # half-empty, so the second starts from a copy.
        original = dict(event_dict)
        try:
            return self._renderer(logger, method, event_dict)
        except Exception:
            return self._renderer(logger, method, _jsonable(original, 0))


def _render_json_text(logger: WrappedLogger, method: str, event_dict: EventDict) -> str:
    return _render_json(logger, method, event_dict).decode()


def _shared_processors() -> list[Processor]:
    # The log context is merged first, so it is masked with the event.
    return [
        structlog.contextvars.merge_contextvars,
        _add_fields,
        mask_event,
        _UTCTimestamp(),
    ]


class _SinkHandler(logging.Handler):
    """Routes stdlib log records through the structlog pipeline into the sink."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            _STATE.sink.write_line(self.format(record), urgent=record.levelno >= logging.ERROR)
        except Exception:  # logging must never raise into the caller
            self.handleError(record)


def setup_service_logging(
    service_name: str,
    *,
    level: str | int = "INFO",
    json: bool = True,
    stream: IO[Any] | None = None,
    buffered: bool = False,
) -> None:
    """Configure structlog and stdlib logging for a service.

    Args:
        service_name: the `service` field of every line.
        level: minimum level, as a name (`"INFO"`) or a number.
        json: one JSON object per line (production); False for readable console output.
        stream: where lines go (default: standard output).
        buffered: a descriptor's lines are written by a writer thread, in batches, off the
            caller's path (see `_log_writer`); errors still go at once.

    Raises:
        ValueError: `level` is not a logging level.
    """
    numeric = (
        level if isinstance(level, int) else logging.getLevelNamesMapping().get(str(level).upper())
    )
    if numeric is None:
        raise ValueError(
            f"unknown log level {level!r}; use DEBUG, INFO, WARNING, ERROR or CRITICAL"
        )
    _STATE.level = numeric
    _STATE.service = service_name
    _STATE.sink.use(stream or sys.stdout, buffered=buffered)
    colours = not json and bool(getattr(_STATE.sink.stream, "isatty", lambda: False)())
    renderer: Processor = (
        _render_json if json else _NeverRaising(structlog.dev.ConsoleRenderer(colors=colours))
    )
    _STATE.processors[:] = [_filter_level, *_shared_processors(), renderer]
    if not _STATE.configured:
        structlog.configure(
            processors=_STATE.processors,
            wrapper_class=structlog.make_filtering_bound_logger(logging.NOTSET),
            logger_factory=lambda *args: _SinkLogger(_STATE.sink, str(args[0]) if args else None),
            cache_logger_on_first_use=True,
        )
        _STATE.configured = True
    _route_stdlib_logging(json, colours)


def _drop_color_message(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    # uvicorn passes its message again, with ANSI colours, as the `color_message` extra: the
    # line already has the message, and escapes have no place in it.
    event_dict.pop("color_message", None)
    return event_dict


def _route_stdlib_logging(json: bool, colours: bool) -> None:
    renderer: Processor = (
        _render_json_text if json else _NeverRaising(structlog.dev.ConsoleRenderer(colors=colours))
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.stdlib.ExtraAdder(),
            _drop_color_message,
            *_shared_processors(),
        ],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = _SinkHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(_STATE.level)
    for name in _ROUTED_LOGGERS:
        routed = logging.getLogger(name)
        routed.handlers = []
        routed.propagate = name not in _SILENCED_LOGGERS
        routed.setLevel(max(_STATE.level, _QUIET_LOGGERS.get(name, logging.NOTSET)))


def flush_logs() -> None:
    """Write out every line a buffered sink still holds (at shutdown; also at exit)."""
    _STATE.sink.flush()


atexit.register(flush_logs)


def _log_dropped_lines(count: int) -> None:
    structlog.get_logger("opsconductor.logging").warning(
        "log_lines_dropped",
        count=count,
        hint="the log buffer was full: the output cannot keep up with the lines logged",
    )


def get_logger(name: str) -> Any:
    """A structlog logger whose lines carry `logger=name`.

    Lazy: safe to create at import time, before `setup_service_logging` runs.
    """
    return structlog.get_logger(name)


def log_service_call(
    upstream: str,
    method: str,
    route: str,
    *,
    status: int | None,
    duration_ms: float,
    attempt: int = 1,
    error: str | None = None,
    **extra: Any,
) -> None:
    """Log one call to another service: INFO, or WARNING when it failed or answered 5xx."""
    failed = error is not None or status is None or status >= 500
    fields: MutableMapping[str, Any] = {
        "upstream": upstream,
        "method": method,
        "route": route,
        "status": status,
        "duration_ms": round(duration_ms, 3),
        "attempt": attempt,
        **extra,
    }
    if error is not None:
        fields["error"] = error
    logger = structlog.get_logger("opsconductor.client")
    (logger.warning if failed else logger.info)(
        "service_call", logger="opsconductor.client", **fields
    )


def log_database_operation(
    operation: str,
    *,
    duration_ms: float,
    rows: int | None = None,
    slow_threshold_ms: float = DEFAULT_SLOW_QUERY_MS,
    error: str | None = None,
    **extra: Any,
) -> None:
    """Log one database operation: INFO, or WARNING when slower than `slow_threshold_ms` or failed."""
    slow = duration_ms >= slow_threshold_ms
    fields: MutableMapping[str, Any] = {
        "operation": operation,
        "duration_ms": round(duration_ms, 3),
        "rows": rows,
        "slow": slow,
        **extra,
    }
    if error is not None:
        fields["error"] = error
    logger = structlog.get_logger("opsconductor.database")
    method = logger.warning if slow or error is not None else logger.info
    method("database_operation", **fields)
