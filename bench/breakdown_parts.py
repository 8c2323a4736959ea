"""The pieces of the production route's cost, each on its own, for `bench_breakdown.py --parts`.

Each `part_*` function sets a piece up and returns the call to count; callgrind counts the
instructions of calling it many times (see `bench_breakdown.part_instructions`), and the loop's
own cost (`part_nothing`) is taken off. They are the runtime's real objects and uvicorn's real
code, not copies, except the floors: `part_floor_*` is the least any implementation of that
behaviour could do in Python (the same fields into one JSON line, one dictionary lookup), the
figure that says what a faster design could save at most.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

import orjson

Call = Callable[[], Any]

# The access line's fields, as the standard layer logs them for the production route.
ACCESS_FIELDS = {
    "method": "GET",
    "route": "/items/{item_id}",
    "path": "/items/42",
    "status": 200,
    "duration_ms": 0.123,
    "bytes": 80,
    "client": "127.0.0.1",
    "slow": False,
}


def _logging() -> Any:
    """The runtime's pipeline into a buffered sink at /dev/null, inside a request's context
    (its request id and trace id, a verified user's id and principal type bound)."""
    import structlog
    from opsconductor_shared._context import begin_request
    from opsconductor_shared._logging import setup_service_logging

    setup_service_logging("bench-service", stream=open(os.devnull, "w"), buffered=True)  # noqa: SIM115
    begin_request(None, None)
    structlog.contextvars.bind_contextvars(user_id="u-1", principal_type="user")
    from opsconductor_shared import _logging as module

    return module


def _event() -> dict[str, Any]:
    return {**ACCESS_FIELDS, "event": "request"}


def part_nothing() -> Call:
    return lambda: None


def part_event_dict() -> Call:
    """Building the event dictionary, for scale: each processor's figure includes copying
    an event of this size."""
    return _event


def part_access_line() -> Call:
    """One access line through the whole pipeline: structlog's bound logger, every processor,
    the buffered sink."""
    from opsconductor_shared import get_logger

    _logging()
    log = get_logger("opsconductor.access").bind()
    return lambda: log.info("request", **ACCESS_FIELDS)


def _processor(name: str) -> Call:
    """The pipeline's processor `name`, on the event the processors before it made."""
    module = _logging()
    processors = list(module._STATE.processors)
    names = [getattr(p, "__name__", type(p).__name__) for p in processors]
    index = names.index(name)  # a renamed processor fails here, loudly
    template = _event()
    for earlier in processors[:index]:
        template = earlier(None, "info", template)
    processor = processors[index]
    return lambda: processor(None, "info", dict(template))


def part_processor_filter_level() -> Call:
    return _processor("_filter_level")


def part_processor_merge_contextvars() -> Call:
    return _processor("merge_contextvars")


def part_processor_add_fields() -> Call:
    return _processor("_add_fields")


def part_processor_mask_event() -> Call:
    return _processor("mask_event")


def part_processor_timestamp() -> Call:
    return _processor("_UTCTimestamp")


def part_processor_render_json() -> Call:
    return _processor("_render_json")


def part_sink_write() -> Call:
    """Handing a rendered line to the buffered sink (the writer thread's `os.write` included)."""
    module = _logging()
    line = orjson.dumps(_event())
    return lambda: module._STATE.sink.write_line(line)


def part_floor_access_line() -> Call:
    """The floor of any JSON access line with these fields and the log context: one dict,
    one `orjson.dumps`, one append to a list (no masking, no level, no timestamp)."""
    lines: list[bytes] = []
    context = {"request_id": "0" * 32, "trace_id": "1" * 32, "user_id": "u-1"}

    def line() -> None:
        lines.append(orjson.dumps({**context, **ACCESS_FIELDS, "event": "request"}))
        if len(lines) > 1000:
            lines.clear()

    return line


def _drive(coroutine: Any) -> None:
    """Run a coroutine that never waits to its end, without an event loop."""
    try:  # noqa: SIM105 - cheaper than contextlib.suppress, inside the measured call
        coroutine.send(None)
    except StopIteration:
        pass


def _uvicorn_send(extra_headers: int) -> Call:
    """uvicorn's `send` of a 200 response start with Starlette's two headers and
    `extra_headers` more, on a fake transport (the per-header cost is the difference)."""
    from uvicorn.config import Config
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle
    from uvicorn.server import ServerState

    from bench.bench_breakdown import _Transport

    config = Config(lambda *_: None, http="httptools", access_log=False, log_config=None)
    config.load()
    loop = asyncio.new_event_loop()
    protocol = HttpToolsProtocol(config, ServerState(), {}, _loop=loop)
    transport = _Transport()
    protocol.connection_made(transport)  # type: ignore[arg-type]
    headers = [(b"content-length", b"80"), (b"content-type", b"application/json")]
    headers += [(b"x-header-%d" % index, b"value-%d" % index) for index in range(extra_headers)]
    message = {"type": "http.response.start", "status": 200, "headers": headers}
    scope = {"method": "GET", "type": "http"}

    def send() -> None:
        cycle = RequestResponseCycle(
            scope=scope,  # type: ignore[arg-type]
            transport=transport,  # type: ignore[arg-type]
            flow=protocol.flow,
            logger=protocol.logger,
            access_logger=protocol.access_logger,
            access_log=False,
            default_headers=[],
            message_event=asyncio.Event(),
            expect_100_continue=False,
            keep_alive=True,
            on_response=lambda: None,
        )
        _drive(cycle.send(message))  # type: ignore[arg-type]

    return send


def part_uvicorn_start_2_headers() -> Call:
    return _uvicorn_send(0)


def part_uvicorn_start_10_headers() -> Call:
    return _uvicorn_send(8)


def part_token_digest_and_cache_hit() -> Call:
    """The auth cache hit's core: the SHA-256 of the token and the cache lookup."""
    from opsconductor_shared.auth._cache import TokenCache, token_digest

    from bench.http_apps import production_token

    token = production_token()
    cache: TokenCache[str] = TokenCache(1000)
    cache.put(token_digest(token), "verified", expires_at=cache.now() + 3600)
    return lambda: cache.get(token_digest(token))


def part_rate_limit_check() -> Call:
    """The in-memory GCRA check of one policy for one principal (`hit_now`)."""
    from opsconductor_shared.ratelimit import MemoryRateLimitStore, RateLimit

    store = MemoryRateLimitStore()
    policies = [RateLimit.parse("600000/minute")]
    return lambda: store.hit_now("user:u-1", policies)


def part_runtime_routes_miss() -> Call:
    """What a service's request pays for the runtime's own routes coming first (issue 13's
    fix for catch-all routes): `RuntimeRoutes.matches` on a path that is not one of them."""
    from opsconductor_shared import ServiceSettings, create_service_app
    from opsconductor_shared._app import get_runtime

    app = create_service_app(
        "bench-service", "1.0.0", ServiceSettings(environment="production"), configure_logging=False
    )
    routes = get_runtime(app).routes
    scope = {"type": "http", "method": "GET", "path": "/items/42", "root_path": ""}
    return lambda: routes.matches(scope)


_REQUEST_HEADERS = [
    (b"host", b"127.0.0.1:8000"),
    (b"user-agent", b"bench"),
    (b"accept", b"*/*"),
    (b"authorization", b"Bearer a.b.c"),
]


def _http_scope() -> dict[str, Any]:
    return {
        "type": "http",
        "http_version": "1.1",
        "method": "GET",
        "path": "/items/42",
        "root_path": "",
        "headers": _REQUEST_HEADERS,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


def _run_layer(layer: Any) -> Call:
    """One request through an ASGI layer whose app sends a 2-header response at once."""
    scope = _http_scope()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_: Any) -> None:
        return None

    def call() -> None:
        _drive(layer(dict(scope), receive, send))

    return call


async def _respond(_: Any, __: Any, send: Any) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-length", b"2"), (b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": b"{}"})


def part_app_alone() -> Call:
    """The inner app of the layer parts on its own (take it off their figures)."""
    return _run_layer(_respond)


def part_empty_layer() -> Call:
    """A pure-ASGI layer that only passes the request on, around the same app."""

    class Layer:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            await self.app(scope, receive, send)

    return _run_layer(Layer(_respond))


def part_standard_layer_without_log_and_headers() -> Call:
    """The standard layer's own work around the same app, with no access line and no default
    headers (its own two, `Server-Timing` and `X-Request-ID`, are still built): request id
    and trace context, the duplicate-header check, timing, the send wrapper, the error
    boundary, the route template and client address it would log."""
    from opsconductor_shared.middleware import StandardMiddleware

    _logging()
    return _run_layer(StandardMiddleware(_respond, headers={}, access_log=False))


def part_body_limit_layer() -> Call:
    """The body-limit layer around the same app, a GET without a body."""
    from opsconductor_shared.middleware import RequestBodyLimitMiddleware

    return _run_layer(RequestBodyLimitMiddleware(_respond))


def part_begin_request() -> Call:
    """Starting a request's context: ids from one random draw, the trace context, the log
    context cleared and bound (inside the standard layer's figure)."""
    from opsconductor_shared._context import begin_request

    return lambda: begin_request(None, None)


PARTS = {
    name.removeprefix("part_"): value
    for name, value in sorted(globals().items())
    if name.startswith("part_") and callable(value)
}
