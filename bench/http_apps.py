"""The HTTP stacks the throughput benchmark compares, each serving the production route.

The route (issue 16) is `GET /items/{item_id}` with a 5-field `response_model`; every request
carries a bearer token (`production_token`).

- `bare_model`: FastAPI and the route, nothing else (no token checked).
- `runtime_model`: `create_service_app` in production: request id and trace context,
  security headers, timing, JSON access log with masking, body limit, error handlers.
- `runtime_auth`: the same plus local auth (HS256; a cache hit after the first request),
  the route requiring the verified token.
- `production`: the same plus the runtime's in-memory rate limiter, per principal.
- `peer_production`: what people assemble today: asgi-correlation-id, `secure` headers and a
  structlog access log in `@app.middleware("http")`, slowapi's middleware, and a PyJWT
  dependency for the token.
- `basehttp`: the runtime's behaviour written as `BaseHTTPMiddleware` layers.
"""

import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from pydantic import BaseModel
from starlette.middleware.base import BaseHTTPMiddleware

ROUTE = "/items/{item_id}"
TOKEN_VARIABLE = "BENCH_TOKEN"


class Item(BaseModel):
    id: int
    name: str
    owner: str
    price: float
    tags: list[str]


def production_token() -> str:
    """An HS256 access token the production apps accept (the testing kit's published secret)."""
    from opsconductor_shared.testing import KeySet, TokenFactory

    return TokenFactory(KeySet(), algorithm="HS256", ttl=24 * 3600).issue()


def _item(item_id: int, owner: str) -> Item:
    return Item(id=item_id, name=f"item-{item_id}", owner=owner, price=9.5, tags=["a", "b"])


def _model_route(app: FastAPI, *, health: bool = True) -> FastAPI:
    @app.get(ROUTE, response_model=Item)
    async def get_item(item_id: int) -> Item:
        return _item(item_id, "anyone")

    if health:

        @app.get("/health/live")
        async def live() -> dict[str, str]:
            return {"status": "healthy"}

    return app


def bare_model() -> FastAPI:
    return _model_route(FastAPI())


def runtime_model() -> FastAPI:
    from opsconductor_shared import ServiceSettings, create_service_app

    settings = ServiceSettings(environment="production")
    return _model_route(create_service_app("bench-service", "1.0.0", settings), health=False)


def runtime_model_without_access_log() -> FastAPI:
    """For the breakdown only: the runtime stack with `LOG__ACCESS=false` (what the access
    line costs is the difference)."""
    from opsconductor_shared import LoggingSettings, ServiceSettings, create_service_app

    settings = ServiceSettings(environment="production", log=LoggingSettings(access=False))
    return _model_route(create_service_app("bench-service", "1.0.0", settings), health=False)


def runtime_model_without_hsts() -> FastAPI:
    """For the breakdown only: the runtime stack without `Strict-Transport-Security` (what one
    response header costs is the difference)."""
    from opsconductor_shared import SecurityHeadersSettings, ServiceSettings, create_service_app

    settings = ServiceSettings(
        environment="production", security_headers=SecurityHeadersSettings(hsts=False)
    )
    return _model_route(create_service_app("bench-service", "1.0.0", settings), health=False)


def runtime_ratelimit() -> FastAPI:
    """The runtime stack with the in-memory rate limiter and no auth (keyed by client address)."""
    from opsconductor_shared import ServiceSettings, create_service_app
    from opsconductor_shared.ratelimit import RateLimitSettings, install_rate_limiting

    app = create_service_app("bench-service", "1.0.0", ServiceSettings(environment="production"))
    install_rate_limiting(app, RateLimitSettings(default_limit="600000/minute"))
    return _model_route(app, health=False)


def _authenticated(*, rate_limit: bool) -> FastAPI:
    from opsconductor_shared import ServiceSettings, create_service_app
    from opsconductor_shared.auth import get_verified_token, install_auth
    from opsconductor_shared.ratelimit import RateLimitSettings, install_rate_limiting
    from opsconductor_shared.testing import KeySet

    settings = ServiceSettings(environment="production")
    app = create_service_app("bench-service", "1.0.0", settings)
    install_auth(app, KeySet().hs256_settings())
    if rate_limit:
        # In memory, per principal; a limit the load never reaches.
        install_rate_limiting(app, RateLimitSettings(default_limit="600000/minute"))

    @app.get(ROUTE, response_model=Item)
    async def get_item(item_id: int, verified: Annotated[Any, Depends(get_verified_token)]) -> Item:
        return _item(item_id, verified.identity.user_id)

    return app


def runtime_auth() -> FastAPI:
    return _authenticated(rate_limit=False)


def runtime_auth_no_dependency() -> FastAPI:
    """For the breakdown only: local auth verifying in its middleware, and a route that reads
    the identity from the request state instead of declaring `get_verified_token` (so it has
    no declared security: what the dependency itself costs is the difference)."""
    from opsconductor_shared import ServiceSettings, create_service_app
    from opsconductor_shared.auth import install_auth
    from opsconductor_shared.testing import KeySet

    app = create_service_app("bench-service", "1.0.0", ServiceSettings(environment="production"))
    install_auth(app, KeySet().hs256_settings())

    @app.get(ROUTE, response_model=Item)
    async def get_item(item_id: int, request: Request) -> Item:
        return _item(item_id, request.state.identity.user_id)

    return app


def bare_dependency() -> FastAPI:
    """For the breakdown only: bare FastAPI whose route declares one trivial dependency (the
    price FastAPI asks for any dependency, for scale)."""
    app = FastAPI()

    async def caller(request: Request) -> str:
        return request.headers.get("authorization", "")

    @app.get(ROUTE, response_model=Item)
    async def get_item(item_id: int, user: Annotated[str, Depends(caller)]) -> Item:
        return _item(item_id, user[:8])

    return app


def production() -> FastAPI:
    return _authenticated(rate_limit=True)


def peer_production() -> FastAPI:
    import jwt
    from opsconductor_shared.testing import KeySet

    secret = KeySet().hs256_secret
    app = _peer_stack()

    def current_user(request: Request) -> str:
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("bearer "):
            raise HTTPException(401, "missing token")
        try:
            claims = jwt.decode(
                header[7:],
                secret,
                algorithms=["HS256"],
                audience="opsconductor",
                issuer="opsconductor-auth",
                options={"require": ["exp", "iat", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise HTTPException(401, "invalid token") from exc
        return str(claims["sub"])

    @app.get(ROUTE, response_model=Item)
    async def get_item(item_id: int, user: Annotated[str, Depends(current_user)]) -> Item:
        return _item(item_id, user)

    @app.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "healthy"}

    return app


def _peer_stack() -> FastAPI:
    import structlog
    from asgi_correlation_id import CorrelationIdMiddleware, correlation_id
    from secure import Secure
    from slowapi import Limiter
    from slowapi.middleware import SlowAPIMiddleware
    from slowapi.util import get_remote_address

    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.JSONRenderer(),
        ],
        logger_factory=structlog.PrintLoggerFactory(),
        cache_logger_on_first_use=True,
    )
    log = structlog.get_logger("access")
    secure_headers = Secure.with_default_headers()
    app = FastAPI()
    limiter = Limiter(key_func=get_remote_address, default_limits=["1000000/minute"])
    app.state.limiter = limiter

    @app.middleware("http")
    async def access_log(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=correlation_id.get())
        start = time.perf_counter()
        response = await call_next(request)
        elapsed = (time.perf_counter() - start) * 1000
        response.headers["Server-Timing"] = f"app;dur={elapsed:.2f}"
        log.info(
            "request",
            method=request.method,
            path=request.url.path,
            status=response.status_code,
            duration_ms=round(elapsed, 3),
        )
        return response

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        await secure_headers.set_headers_async(response)
        return response

    app.add_middleware(SlowAPIMiddleware)
    app.add_middleware(CorrelationIdMiddleware)
    return app


def basehttp() -> FastAPI:
    from opsconductor_shared import get_logger, setup_service_logging
    from opsconductor_shared._context import (
        TraceContext,
        bind_request_context,
        new_request_id,
        parse_traceparent,
    )
    from opsconductor_shared._handlers import add_error_handlers
    from opsconductor_shared.middleware.security_headers import API_CSP

    setup_service_logging("bench-service", json=True)
    log = get_logger("opsconductor.access")
    app = _model_route(FastAPI())
    add_error_handlers(app)
    headers = {
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "no-referrer",
        "cache-control": "no-store",
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-resource-policy": "same-origin",
        "cross-origin-embedder-policy": "require-corp",
        "content-security-policy": API_CSP,
        "strict-transport-security": "max-age=31536000; includeSubDomains",
    }

    class RequestID(BaseHTTPMiddleware):
        async def dispatch(
            self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
        ) -> Response:
            request_id = request.headers.get("x-request-id") or new_request_id()
            bind_request_context(
                request_id,
                TraceContext.start(parse_traceparent(request.headers.get("traceparent"))),
            )
            response = await call_next(request)
            response.headers["X-Request-ID"] = request_id
            return response

    class SecurityHeaders(BaseHTTPMiddleware):
        async def dispatch(
            self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
        ) -> Response:
            response = await call_next(request)
            for name, value in headers.items():
                response.headers.setdefault(name, value)
            return response

    class Timing(BaseHTTPMiddleware):
        async def dispatch(
            self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
        ) -> Response:
            start = time.perf_counter()
            response = await call_next(request)
            elapsed = (time.perf_counter() - start) * 1000
            response.headers["Server-Timing"] = f"app;dur={elapsed:.2f}"
            route = request.scope.get("route")
            log.info(
                "request",
                method=request.method,
                route=getattr(route, "path", None),
                path=request.url.path,
                status=response.status_code,
                duration_ms=round(elapsed, 3),
                client=request.client.host if request.client else None,
            )
            return response

    app.add_middleware(Timing)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestID)
    return app


if os.environ.get("BENCH_QUIET_STDLIB"):
    logging.disable(logging.CRITICAL)
