"""`StandardMiddleware`: what every request of a service gets, in one layer.

- **A request id and the trace context.** A valid incoming `X-Request-ID` (1-128 characters
  of `A-Z a-z 0-9 . _ : -`; anything else is replaced, never echoed) is kept, else one is
  generated; it is echoed on every response, errors included, and bound for code and logs
  (see `_context`). A valid `traceparent` is continued as a child span, else a trace starts.
  With `trust_incoming=False` both are always fresh. A singleton header the runtime reads
  (`Authorization`, the request id header, `traceparent`) sent more than once is a 400
  `BAD_REQUEST` (with a fresh request id): which copy counts is never guessed.
- **Security headers** (`security_headers`) on every response, except the ones the route set
  itself (a `Cache-Control` of its own, the documentation pages' CSP); any `Server` header
  the app sends is removed.
- **Timing.** `Server-Timing: app;dur=<ms>` (the time until the response started), one
  access-log event `request` per request when the response is done (method, route template,
  never the raw path's ids as a label, path, status, duration, bytes, the client address
  through trusted proxies only), at WARNING from `slow_request_ms`, and the Prometheus
  metrics when a `RequestMetrics` is given.
- **The last resort.** An exception raised anywhere inside this layer, by any middleware or
  by the app, becomes the envelope (`send_problem`): an `HTTPException` its own, anything
  else a 500 `INTERNAL_ERROR` whose stack goes to the log only, so even that response carries
  the request id and the security headers. After the response started it cannot be changed:
  the exception is logged, and re-raised if the body was not complete, so the server aborts
  the connection instead of passing off a truncated body as whole.

One layer, one `send` wrapper, every header list built in `__init__`: a response with none of
the headers this layer manages (Starlette's usual content type and length) gets its block of
headers appended, nothing more. A layer further in that adds headers to every response (the
rate limiter's) hands them to this layer with `add_response_headers` instead of wrapping
`send` itself.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .._client_ip import ClientAddressResolver
from .._context import begin_request, parse_traceparent, route_template
from .._errors import BadRequestError, InternalError, StandardHTTPException
from .._handlers import as_standard_error, log_failure
from .._logging import get_logger
from .._problem import send_problem
from .metrics import RequestMetrics
from .security_headers import security_headers

__all__ = [
    "DEFAULT_REQUEST_ID_HEADER",
    "DEFAULT_SLOW_REQUEST_MS",
    "StandardMiddleware",
    "add_response_headers",
    "route_template",
]

DEFAULT_REQUEST_ID_HEADER = "X-Request-ID"
DEFAULT_SLOW_REQUEST_MS = 1000.0
ACCESS_LOGGER = "opsconductor.access"
HeaderSource = Callable[[], Iterable[tuple[bytes, bytes]]]

_VALID_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,128}$")
_HEADER_SOURCES = "opsconductor.response_headers"
# Request headers the runtime reads once: sent twice, which one counts would be a guess.
_SINGLETON_HEADERS = (b"authorization", b"traceparent")
_SERVER = b"server"
_TIMING = b"server-timing"
_log = get_logger("opsconductor.errors")


def add_response_headers(scope: Scope, source: HeaderSource) -> None:
    """Have the standard layer add `source()`'s headers to this request's response.

    `source` is called once, when the response starts, so it can report what was decided
    after this call (a `rate_limit()` dependency's decision, say).
    """
    scope.setdefault(_HEADER_SOURCES, []).append(source)


def _duplicated(name: bytes) -> BadRequestError:
    error = BadRequestError(
        f"The {name.decode('latin-1')} header appears more than once; send it once."
    )
    log_failure(error)
    return error


class StandardMiddleware:
    """See the module docstring.

    Args:
        app: the ASGI app to wrap.
        request_id_header: the request id header name.
        trust_incoming: honour a client's request id and trace context; False to always
            start fresh, for services exposed to untrusted clients.
        headers: the headers of every response (default: `security_headers()`).
        slow_request_ms: requests at least this slow are logged at WARNING.
        client_address: resolves the client address (trusted proxies); default: the peer.
        metrics: record Prometheus metrics here (see `RequestMetrics`).
        access_log: log one `request` event per request; when False, only slow ones (at
            WARNING).

    Raises:
        ValueError: the header name is not ASCII, or `slow_request_ms` is not positive.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        request_id_header: str = DEFAULT_REQUEST_ID_HEADER,
        trust_incoming: bool = True,
        headers: Mapping[str, str] | None = None,
        slow_request_ms: float = DEFAULT_SLOW_REQUEST_MS,
        client_address: ClientAddressResolver | None = None,
        metrics: RequestMetrics | None = None,
        access_log: bool = True,
    ) -> None:
        if not request_id_header or not request_id_header.isascii():
            raise ValueError("the request id header must be a non-empty ASCII header name")
        if slow_request_ms <= 0:
            raise ValueError("slow_request_ms must be positive")
        self.app = app
        self.trust_incoming = trust_incoming
        self.slow_request_ms = slow_request_ms
        self.client_address = client_address or ClientAddressResolver()
        self.metrics = metrics
        self.access_log = access_log
        # The bound logger itself rather than structlog's lazy proxy, which would look it up
        # on every line; it follows reconfiguration (`setup_service_logging`) all the same.
        self._access_log = get_logger(ACCESS_LOGGER).bind()
        self._id_name = request_id_header.lower().encode("latin-1")
        self._singletons = frozenset({self._id_name, *_SINGLETON_HEADERS})
        defaults = security_headers() if headers is None else headers
        self._defaults = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in defaults.items()
        ]
        # What this layer drops (`Server`, a request id of the app's) or sets only when the
        # route did not: a response with none of these names takes the short path.
        self._replaced = frozenset({_SERVER, self._id_name})
        self._managed = self._replaced | {name for name, _ in self._defaults}

    def _begin(self, scope: Scope) -> tuple[tuple[bytes, bytes], bytes | None]:
        # The request id header, and the name of a singleton header sent more than once.
        singletons = self._singletons
        seen: dict[bytes, bytes] = {}
        duplicate = None
        for name, value in scope["headers"]:
            if name in singletons:
                if name in seen and duplicate is None:
                    duplicate = name
                seen[name] = value
        incoming_id = traceparent = None
        if self.trust_incoming and duplicate is None:
            incoming_id = seen.get(self._id_name)
            traceparent = seen.get(b"traceparent")
        caller = parse_traceparent(traceparent.decode("latin-1")) if traceparent else None
        request_id = begin_request(
            incoming_id.decode("ascii")
            if incoming_id is not None and _VALID_REQUEST_ID.match(incoming_id)
            else None,
            caller,
        )
        return (self._id_name, request_id.encode("ascii")), duplicate

    def _headers(
        self, raw: Iterable[tuple[bytes, bytes]], own: list[tuple[bytes, bytes]]
    ) -> list[tuple[bytes, bytes]]:
        # The full path: the app set a header this layer manages, or one in another case
        # than Starlette's lowercase.
        replaced = self._replaced
        headers = [header for header in raw if header[0].lower() not in replaced]
        present = {name.lower() for name, _ in headers}
        headers += [header for header in self._defaults if header[0] not in present]
        headers += own
        return headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                self._begin(scope)
            await self.app(scope, receive, send)
            return
        id_header, duplicate = self._begin(scope)
        start = time.perf_counter()
        status = 500
        sent = 0
        started = complete = False
        managed = self._managed
        defaults = self._defaults

        async def send_wrapper(message: Message) -> None:
            nonlocal status, sent, started, complete
            if message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
                if not message.get("more_body", False):
                    complete = True
            elif message["type"] == "http.response.start":
                started = True
                status = message["status"]
                own = [
                    (_TIMING, b"app;dur=%.2f" % ((time.perf_counter() - start) * 1000)),
                    id_header,
                ]
                for source in scope.get(_HEADER_SOURCES, ()):
                    own.extend(source())
                raw = message.get("headers", ())
                for name, _ in raw:
                    # Starlette sends lowercase names; anything else takes the full path.
                    if name in managed or not name.islower():
                        message["headers"] = self._headers(raw, own)
                        break
                else:
                    message["headers"] = [*raw, *defaults, *own]
            await send(message)

        try:
            if duplicate is None:
                await self.app(scope, receive, send_wrapper)
            else:
                await send_problem(send_wrapper, _duplicated(duplicate), scope)
        except Exception as exc:
            if started:
                _log.error(
                    "unhandled_exception",
                    exc_info=exc,
                    exc_type=type(exc).__name__,
                    response_started=True,
                )
                if not complete:
                    raise
            else:
                await send_problem(send_wrapper, self._error_for(exc), scope)
        finally:
            self._record(scope, status, sent, start)

    def _error_for(self, exc: Exception) -> StandardHTTPException:
        if isinstance(exc, HTTPException):
            error = as_standard_error(exc)
            log_failure(error)
            return error
        _log.error("unhandled_exception", exc_info=exc, exc_type=type(exc).__name__)
        return InternalError()

    def _record(self, scope: Scope, status: int, sent: int, start: float) -> None:
        duration_ms = (time.perf_counter() - start) * 1000
        route = route_template(scope)
        if self.metrics is not None:
            self.metrics.observe(scope["method"], route, status, duration_ms / 1000)
        slow = duration_ms >= self.slow_request_ms
        if not (self.access_log or slow):  # without the access log, slow requests still are
            return
        (self._access_log.warning if slow else self._access_log.info)(
            "request",
            method=scope["method"],
            route=route,
            path=scope["path"],
            status=status,
            # Rounded to the microsecond; round() itself costs more than the arithmetic.
            duration_ms=int(duration_ms * 1000 + 0.5) / 1000,
            bytes=sent,
            client=self.client_address(scope),
            slow=slow,
        )
