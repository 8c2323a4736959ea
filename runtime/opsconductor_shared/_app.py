"""The app factory: `create_service_app` and what it wires together.

    create_service_app(name, version, settings)
      ├── setup_service_logging          (JSON in production, console in development)
      ├── add_error_handlers              (every error is the shared envelope)
      ├── add_standard_middleware         outermost first:
      │     StandardMiddleware (RequestID → SecurityHeaders → Performance, one layer)
      │     → CORSMiddleware (if configured) → RequestBodyLimitMiddleware
      │     → UnhandledErrorMiddleware → (FastAPI's exception middleware and router)
      ├── health routes                   /health/live, /health/ready, /health
      ├── /metrics                        when metrics are enabled (prometheus extra)
      ├── install_openapi                 errors documented as the envelope, contracts version
      └── lifespan                        runs the runtime's hooks (pools, clients, key
                                          refreshers) around the service's own lifespan

The `ServiceRuntime` on `app.state.runtime` is where later parts plug in: they add lifespan
hooks (opened at startup in order, closed at shutdown in reverse) and health checks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from ._client_ip import ClientAddressResolver
from ._handlers import add_error_handlers
from ._health import HEALTH_PATHS, CheckFunction, HealthRegistry, add_health_routes
from ._logging import get_logger, setup_service_logging
from ._openapi import install_openapi
from ._settings import ServiceSettings
from .middleware import (
    PerformanceMiddleware,
    RequestBodyLimitMiddleware,
    RequestIDMiddleware,
    RequestMetrics,
    SecurityHeadersMiddleware,
    StandardMiddleware,
    UnhandledErrorMiddleware,
)

__all__ = [
    "LifespanHook",
    "ServiceRuntime",
    "add_standard_middleware",
    "create_service_app",
    "get_runtime",
    "register_health_check",
]

LifespanHook = Callable[[FastAPI], AbstractAsyncContextManager[None]]
_log = get_logger("opsconductor.runtime")


class ServiceRuntime:
    """What the runtime owns for one app: settings, health checks, metrics, lifespan hooks."""

    def __init__(self, name: str, version: str, settings: ServiceSettings) -> None:
        self.name = name
        self.version = version
        self.settings = settings
        self.health = HealthRegistry(name, version, default_timeout=settings.health_check_timeout)
        self.client_address = ClientAddressResolver(
            [str(network) for network in settings.trusted_proxies]
        )
        self.metrics = RequestMetrics(name) if settings.metrics_enabled else None
        self._hooks: list[LifespanHook] = []
        self.started = False

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
        _move_rare_routes_last(app)
        async with AsyncExitStack() as stack:
            for hook in self._hooks:
                await stack.enter_async_context(hook(app))
            self.started = True
            _log.info(
                "service_started", version=self.version, environment=self.settings.environment
            )
            try:
                yield
            finally:
                _log.info("service_stopping")


def _move_rare_routes_last(app: FastAPI) -> None:
    # Routes match in order and each miss costs a few microseconds in FastAPI, so the routes
    # the factory registers first (health, documentation) move behind the service's own.
    # Their paths are unique, so the order changes nothing but the cost.
    rare = {
        path
        for path in (
            *HEALTH_PATHS,
            app.openapi_url,
            app.docs_url,
            app.swagger_ui_oauth2_redirect_url,
            app.redoc_url,
        )
        if path
    }
    routes = app.router.routes
    routes[:] = [r for r in routes if getattr(r, "path", None) not in rare] + [
        r for r in routes if getattr(r, "path", None) in rare
    ]


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
) -> None:
    """Add a readiness check to an app made by `create_service_app` (see `HealthRegistry.register`)."""
    get_runtime(app).health.register(name, check, timeout=timeout, critical=critical)


async def _composed_only(_: Scope, __: Receive, ___: Send) -> None:
    raise RuntimeError("this middleware is used through StandardMiddleware, which calls the app")


def add_standard_middleware(
    app: FastAPI,
    settings: ServiceSettings,
    *,
    client_address: ClientAddressResolver | None = None,
    metrics: RequestMetrics | None = None,
) -> None:
    """Install the runtime's middleware on `app` in the right order (see the module docstring).

    The production profile sends HSTS and allows no cross-origin callers unless configured;
    the development profile (`settings.environment == "development"`) drops HSTS and allows
    any origin without credentials.
    """
    docs_paths = [
        path for path in (app.docs_url, app.swagger_ui_oauth2_redirect_url, app.redoc_url) if path
    ]
    # Starlette wraps in reverse order of addition: the last added is the outermost.
    app.add_middleware(UnhandledErrorMiddleware)
    app.add_middleware(RequestBodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    cors = settings.cors_options()
    if cors is not None:
        app.add_middleware(CORSMiddleware, **cors)
    # Request id, security headers and timing as one layer (StandardMiddleware): the same
    # behaviour as the three classes stacked in that order, for the cost of one.
    app.add_middleware(
        StandardMiddleware,
        request_id=RequestIDMiddleware(
            _composed_only,
            header=settings.request_id_header,
            trust_incoming=settings.trust_incoming_request_id,
        ),
        security_headers=SecurityHeadersMiddleware(
            _composed_only,
            hsts=settings.hsts,
            hsts_max_age=settings.security_headers.hsts_max_age,
            hsts_include_subdomains=settings.security_headers.hsts_include_subdomains,
            docs_paths=docs_paths,
        ),
        performance=PerformanceMiddleware(
            _composed_only,
            slow_request_ms=settings.slow_request_ms,
            client_address=client_address
            or ClientAddressResolver([str(n) for n in settings.trusted_proxies]),
            metrics=metrics,
        ),
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
        description: the OpenAPI description.
        lifespan: the service's own lifespan, run inside the runtime's.
        configure_logging: call `setup_service_logging` (turn off when the host configures logs).
        **fastapi_options: passed to `FastAPI(...)`.
    """
    settings = settings or ServiceSettings.for_service(name)
    if configure_logging:
        setup_service_logging(name, level=settings.log.level, json=settings.log_json)
    runtime = ServiceRuntime(name, version, settings)

    @asynccontextmanager
    async def app_lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with runtime.lifespan(app):
            if lifespan is None:
                yield
            else:
                async with lifespan(app):
                    yield

    fastapi_options.setdefault("docs_url", "/docs" if settings.docs_enabled else None)
    fastapi_options.setdefault("redoc_url", None)
    fastapi_options.setdefault("openapi_url", "/openapi.json" if settings.docs_enabled else None)
    app = FastAPI(
        title=name,
        version=version,
        description=description,
        lifespan=app_lifespan,
        **fastapi_options,
    )
    app.state.runtime = runtime
    add_error_handlers(app)
    add_standard_middleware(
        app, settings, client_address=runtime.client_address, metrics=runtime.metrics
    )
    add_health_routes(app.router, runtime.health)
    if runtime.metrics is not None:
        metrics = runtime.metrics

        async def metrics_endpoint(_: Request) -> Response:
            body, content_type = metrics.render()
            return Response(body, media_type=content_type)

        app.add_route("/metrics", metrics_endpoint, include_in_schema=False)
    install_openapi(app)
    return app
