"""The app factory: `create_service_app`, and the `ServiceRuntime` it puts on `app.state`.

    create_service_app(name, version, settings)
      ├── setup_service_logging          (JSON in production, console in development;
      │                                  buffered: lines written by a writer thread)
      ├── add_error_handlers             (every error FastAPI answers is the shared envelope)
      ├── the middleware stack           (below)
      ├── the runtime's routes           /health/live, /health/ready, /health, /metrics,
      │                                  the OpenAPI document and its docs pages: answered
      │                                  before the service's routes (see `_routes`)
      ├── install_openapi                operation ids from handler names, each route's
      │                                  errors derived and documented as the envelope, the
      │                                  runtime's routes with the service's, the contracts
      │                                  version (see `_operations`)
      └── lifespan                       the runtime's hooks (pools, clients, key refreshers)
                                         around the service's own lifespan; with
                                         `startup.require_dependencies`, startup fails
                                         with one sentence (no traceback) unless every
                                         critical readiness check passes in time

The middleware stack, outermost first, is `MIDDLEWARE_SLOTS`, written here once:

    standard     request id and trace context, security headers, Server-Timing, the access
                 log and metrics, and the last-resort envelope for any exception raised
                 anywhere inside it (`middleware.standard`)
    cors         Starlette's CORSMiddleware, when origins are configured
    auth         the bearer identity (`install_auth`)
    rate_limit   the service-wide limits (`install_rate_limiting`)
    body_limit   the request body limit
    idempotency  stores the response of a request that claimed an `Idempotency-Key`
                 (`install_idempotency`)
    ...          the app FastAPI builds: its error handling, the service's own middleware
                 (`app.add_middleware`), the routes

Why this order. `standard` is outermost so that every response, a refusal by any layer and a
500 from an exception in any layer included, carries the request id and the security headers,
and is timed and logged. `cors` comes next, so a browser can read every refusal (401, 429,
413: they carry the CORS headers) and preflights are answered before anything verifies or
counts them. `auth` is outside `rate_limit`, so limits count per principal and role, not per
address. `rate_limit` is outside `body_limit`, so a refused request costs no body reading,
and a flood of oversized requests is limited too. `body_limit` is innermost, right outside
the app that reads the body but for `idempotency`, which stores what the app answered for a
keyed request (the dependency that claims the key fingerprints a body the limit has already
bounded; a refusal by an outer layer is never stored).

`ServiceRuntime.middleware` holds one slot per name; `create_service_app` fills `standard`,
`cors` and `body_limit`, `install_auth` and `install_rate_limiting` fill theirs, each by
name, and the stack is built once, when the app first runs. Adding a layer to the runtime is
one more name in `MIDDLEWARE_SLOTS` and one `fill`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._client_ip import ClientAddressResolver
from ._handlers import add_error_handlers
from ._health import CheckFunction, DetailsFunction, HealthRegistry, add_health_routes
from ._logging import flush_logs, get_logger, setup_service_logging
from ._openapi import install_openapi
from ._operations import RouteErrors, check_operation_ids, operation_id_for
from ._problem import LEGACY_ERRORS_EXTENSION
from ._routes import RuntimeRoutes, docs_routes
from ._settings import ServiceSettings
from .middleware import RequestBodyLimitMiddleware, RequestMetrics, StandardMiddleware
from .middleware.security_headers import security_headers

__all__ = [
    "LifespanHook",
    "MIDDLEWARE_SLOTS",
    "MiddlewareStack",
    "ServiceRuntime",
    "create_service_app",
    "get_runtime",
    "register_health_check",
]

MIDDLEWARE_SLOTS = ("standard", "cors", "auth", "rate_limit", "body_limit", "idempotency")
"""The runtime's middleware, outermost first (see the module docstring)."""

LifespanHook = Callable[[FastAPI], AbstractAsyncContextManager[None]]
_log = get_logger("opsconductor.runtime")


class MiddlewareStack:
    """The runtime's middleware as named slots, built in the order of `MIDDLEWARE_SLOTS`."""

    def __init__(self) -> None:
        self._layers: dict[str, Middleware] = {}
        self._built = False

    def fill(self, slot: str, factory: Callable[..., ASGIApp], /, **options: Any) -> None:
        """Put the layer `factory(app, **options)` in `slot`.

        Raises:
            ValueError: there is no such slot.
            RuntimeError: the slot is filled already, or the app has started.
        """
        if slot not in MIDDLEWARE_SLOTS:
            raise ValueError(f"no middleware slot {slot!r}; the slots are {MIDDLEWARE_SLOTS}")
        if self._built:
            raise RuntimeError(f"fill the {slot} slot before the app starts")
        if slot in self._layers:
            raise RuntimeError(f"the {slot} middleware is already installed on this app")
        self._layers[slot] = Middleware(factory, **options)

    @property
    def filled(self) -> tuple[str, ...]:
        """The slots with a layer, outermost first."""
        return tuple(slot for slot in MIDDLEWARE_SLOTS if slot in self._layers)

    def build(self, app: ASGIApp) -> ASGIApp:
        """`app` inside every filled slot's layer (once: the slots are fixed afterwards)."""
        self._built = True
        for slot in reversed(MIDDLEWARE_SLOTS):
            if slot in self._layers:
                factory, args, kwargs = self._layers[slot]
                app = factory(app, *args, **kwargs)
        return app

    def __repr__(self) -> str:
        return f"MiddlewareStack({', '.join(self.filled)})"


class ServiceRuntime:
    """What the runtime owns for one app: settings, the middleware stack, its own routes,
    health checks, metrics and lifespan hooks."""

    def __init__(self, name: str, version: str, settings: ServiceSettings) -> None:
        self.name = name
        self.version = version
        self.settings = settings
        self.health = HealthRegistry(name, version, default_timeout=settings.health_check_timeout)
        self.client_address = ClientAddressResolver(
            [str(network) for network in settings.trusted_proxies]
        )
        self.metrics = RequestMetrics(name) if settings.metrics_enabled else None
        self.middleware = MiddlewareStack()
        self.routes = RuntimeRoutes()
        self.route_policies: list[RouteErrors] = []
        self._hooks: list[LifespanHook] = []
        self.started = False
        self.startup_failure: str | None = None

    def add_route_errors(self, policy: RouteErrors) -> None:
        """Document the errors a policy of the runtime adds to routes: `policy(route)` is the
        statuses it can answer that route with (see `_operations`)."""
        self.route_policies.append(policy)

    def add_lifespan_hook(self, hook: LifespanHook) -> None:
        """Run `hook(app)` as an async context manager around the app's lifetime.

        Raises:
            RuntimeError: the app has already started.
        """
        if self.started:
            raise RuntimeError("lifespan hooks must be added before the app starts")
        self._hooks.append(hook)

    @asynccontextmanager
    async def lifespan(self, app: FastAPI) -> AsyncIterator[None]:
        check_operation_ids(app.routes, self.routes.routes)
        try:
            async with AsyncExitStack() as stack:
                for hook in self._hooks:
                    await stack.enter_async_context(hook(app))
                if self.settings.startup.require_dependencies:
                    await self._require_dependencies()
                self.started = True
                _log.info(
                    "service_started",
                    version=self.version,
                    environment=self.settings.environment,
                )
                try:
                    yield
                finally:
                    _log.info("service_stopping")
        finally:
            flush_logs()  # the access log's last lines, whatever the hooks did

    async def _require_dependencies(self) -> None:
        timeout = self.settings.startup.timeout
        failing = await self.health.wait_ready(timeout)
        if not failing:
            return
        prefix = self.settings.env_prefix or ""
        missing = "; ".join(f"{check.name} ({check.message})" for check in failing)
        self.startup_failure = (
            f"{self.name} cannot start: not available after {timeout:g} s: {missing}; "
            f"{prefix}STARTUP__REQUIRE_DEPENDENCIES=false starts it anyway, not ready until "
            "they are"
        )
        raise RuntimeError(self.startup_failure)


class _ServiceApp(FastAPI):
    """A FastAPI app whose middleware stack is the runtime's around FastAPI's own."""

    def build_middleware_stack(self) -> ASGIApp:
        return get_runtime(self).middleware.build(super().build_middleware_stack())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await super().__call__(scope, receive, send)
            return
        runtime = get_runtime(self)

        async def send_failure_as_sentence(message: Message) -> None:
            # Starlette reports a failed startup with the traceback; a failure the runtime
            # expects (a dependency required and missing) is said in its one sentence.
            if message["type"] == "lifespan.startup.failed" and runtime.startup_failure:
                message = {**message, "message": runtime.startup_failure}
            await send(message)

        await super().__call__(scope, receive, send_failure_as_sentence)


def get_runtime(app: FastAPI) -> ServiceRuntime:
    """The `ServiceRuntime` of an app made by `create_service_app`.

    Raises:
        RuntimeError: the app was not made by `create_service_app`.
    """
    runtime = getattr(app.state, "runtime", None)
    if not isinstance(runtime, ServiceRuntime):
        raise RuntimeError("this app was not created with create_service_app")
    return runtime


def register_health_check(
    app: FastAPI,
    name: str,
    check: CheckFunction,
    *,
    timeout: float | None = None,
    critical: bool = True,
    details: DetailsFunction | None = None,
) -> None:
    """Add a readiness check to an app made by `create_service_app` (see `HealthRegistry.register`)."""
    get_runtime(app).health.register(
        name, check, timeout=timeout, critical=critical, details=details
    )


def _fill_standard_slots(runtime: ServiceRuntime) -> None:
    """The layers every app has: standard, CORS when configured, the body limit.

    The production profile sends HSTS and allows no cross-origin callers unless configured;
    the development profile (`settings.environment == "development"`) drops HSTS and allows
    any origin without credentials.
    """
    settings = runtime.settings
    runtime.middleware.fill(
        "standard",
        StandardMiddleware,
        request_id_header=settings.request_id_header,
        trust_incoming=settings.trust_incoming_request_id,
        headers=security_headers(
            hsts=settings.hsts,
            hsts_max_age=settings.security_headers.hsts_max_age,
            hsts_include_subdomains=settings.security_headers.hsts_include_subdomains,
        ),
        slow_request_ms=settings.slow_request_ms,
        client_address=runtime.client_address,
        metrics=runtime.metrics,
        access_log=settings.log.access,
    )
    cors = settings.cors_options()
    if cors is not None:
        runtime.middleware.fill("cors", CORSMiddleware, **cors)
    runtime.middleware.fill(
        "body_limit", RequestBodyLimitMiddleware, max_body_bytes=settings.max_body_bytes
    )


def _add_runtime_routes(app: FastAPI, runtime: ServiceRuntime, docs: dict[str, Any]) -> None:
    health = APIRouter()
    add_health_routes(health, runtime.health)
    for route in [*health.routes, *docs_routes(app, **docs)]:
        runtime.routes.add(route)
    if runtime.metrics is not None:
        metrics = runtime.metrics

        async def metrics_endpoint(_: Request) -> Response:
            body, content_type = metrics.render()
            return Response(body, media_type=content_type)

        runtime.routes.add(Route("/metrics", metrics_endpoint, include_in_schema=False))
    # The first route of the router, before any of the service's: see `_routes`.
    app.router.routes.append(runtime.routes)


def _warn_unknown_settings(name: str, settings: ServiceSettings) -> None:
    for variable, closest in settings.unknown_variables():
        hint = f"; did you mean {closest}?" if closest else ""
        _log.warning(
            "unknown_setting",
            variable=variable,
            closest=closest,
            hint=f"{variable} is no setting of {name} and is ignored{hint}",
        )


def create_service_app(
    name: str,
    version: str,
    settings: ServiceSettings | None = None,
    *,
    description: str = "",
    lifespan: LifespanHook | None = None,
    configure_logging: bool = True,
    **fastapi_options: Any,
) -> FastAPI:
    """A FastAPI app with the whole runtime wired in (see the module docstring).

    Args:
        name: the service name (`targets-service`); also its settings' environment prefix.
        version: the service version, reported by health and OpenAPI.
        settings: the service's settings; default: `ServiceSettings.for_service(name)`.
            Variables under its prefix that set nothing are logged once, here, as
            `unknown_setting` warnings with the closest valid name.
        description: the OpenAPI description.
        lifespan: the service's own lifespan, run inside the runtime's.
        configure_logging: call `setup_service_logging` (turn off when the host configures logs).
        **fastapi_options: passed to `FastAPI(...)`; `openapi_url`, `docs_url`, `redoc_url`
            and `swagger_ui_oauth2_redirect_url` say where the runtime serves the documents;
            `generate_unique_id_function` defaults to the handler's name in snake_case.

    Raises:
        SettingsError: `settings` is None and the environment does not validate; each
            problem names its variable.

    A plain route needs neither `operation_id=` nor `responses=` to validate: its id is its
    handler's name, and the errors it can give are derived from its dependencies, its path
    parameters and the runtime's policies (see `_operations`). The app refuses to start when
    two operations have one operation id, naming both.
    """
    settings = settings or ServiceSettings.for_service(name)
    if configure_logging:
        setup_service_logging(name, level=settings.log.level, json=settings.log_json, buffered=True)
    _warn_unknown_settings(name, settings)
    runtime = ServiceRuntime(name, version, settings)

    @asynccontextmanager
    async def app_lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with runtime.lifespan(app):
            if lifespan is None:
                yield
            else:
                async with lifespan(app):
                    yield

    enabled = settings.docs_enabled
    docs = {
        "openapi_url": fastapi_options.pop("openapi_url", "/openapi.json" if enabled else None),
        "docs_url": fastapi_options.pop("docs_url", "/docs" if enabled else None),
        "redoc_url": fastapi_options.pop("redoc_url", None),
        "oauth2_redirect_url": fastapi_options.pop(
            "swagger_ui_oauth2_redirect_url", "/docs/oauth2-redirect"
        ),
    }
    fastapi_options.setdefault("generate_unique_id_function", operation_id_for)
    # FastAPI serves no documents of its own: the runtime does, as its own routes.
    app = _ServiceApp(
        title=name,
        version=version,
        description=description,
        lifespan=app_lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        **fastapi_options,
    )
    app.openapi_url = docs["openapi_url"]
    app.docs_url = docs["docs_url"]
    app.redoc_url = docs["redoc_url"]
    app.swagger_ui_oauth2_redirect_url = docs["oauth2_redirect_url"]
    app.state.runtime = runtime
    add_error_handlers(app)
    _fill_standard_slots(runtime)
    _add_runtime_routes(app, runtime, docs)
    install_openapi(
        app,
        routes=runtime.routes.routes,
        route_policies=runtime.route_policies,
        info_extensions={LEGACY_ERRORS_EXTENSION: True} if settings.legacy_error_member else None,
    )
    return app
