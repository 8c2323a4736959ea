"""`install_rate_limiting`: a limiter, its store and its middleware, on an app.

The middleware fills the stack's `rate_limit` slot (see `_app`): inside the standard layer,
so a 429 carries the request id and the security headers and is timed and logged like any
response; inside CORS, so a browser can read a 429 (it gets the CORS headers) and preflights
are answered before they count; inside the bearer identity, so limits count per principal;
outside the body limit and everything else, so a refused request costs no body reading and
no app work.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from .._app import get_runtime
from .._logging import get_logger
from ._dependency import _STATE_ATTRIBUTE
from ._keys import IdentityResolver, principal_from_state
from ._limiter import RateLimiter
from ._memory import MemoryRateLimitStore
from ._middleware import RateLimitMiddleware
from ._redis import RedisRateLimitStore
from ._settings import RateLimitSettings
from ._store import RateLimitStore

__all__ = ["install_rate_limiting"]

_log = get_logger("opsconductor.ratelimit")


def install_rate_limiting(
    app: FastAPI,
    settings: RateLimitSettings | None = None,
    *,
    store: RateLimitStore | None = None,
    identity: IdentityResolver = principal_from_state,
    health_check: str = "rate_limit_store",
) -> RateLimiter:
    """Install rate limiting on an app made by `create_service_app` (see the module docstring).

    Args:
        app: the app; before it starts.
        settings: default: the service settings' `rate_limit` field, else the defaults.
        store: use this store instead of the one the settings name.
        identity: how to find a request's principal (default: `request.state.identity`).
        health_check: name of the store's readiness check (Redis only): critical when the
            failure policy is `closed`, else a failure only makes the service degraded.

    Raises:
        RuntimeError: the app was not made by `create_service_app`, has started, or has a
            limiter already.
    """
    runtime = get_runtime(app)
    if getattr(app.state, _STATE_ATTRIBUTE, None) is not None:
        raise RuntimeError("install_rate_limiting was already called for this app")
    if app.middleware_stack is not None:
        raise RuntimeError("install rate limiting before the app starts")
    if settings is None:
        found: Any = getattr(runtime.settings, "rate_limit", None)
        settings = found if isinstance(found, RateLimitSettings) else RateLimitSettings()
    if store is None:
        store = (
            RedisRateLimitStore.from_settings(
                settings.redis, key_prefix=settings.key_prefix, timeout=settings.store_timeout
            )
            if settings.storage == "redis"
            else MemoryRateLimitStore(max_keys=settings.max_keys)
        )
    limiter = RateLimiter(
        store,
        rules=settings.rules(),
        client_address=runtime.client_address,
        identity=identity,
        failure_policy=settings.failure_policy,
        retry_interval=settings.retry_interval,
        headers=settings.headers,
        enabled=settings.enabled,
    )
    runtime.add_lifespan_hook(limiter.lifespan)
    if not isinstance(store, MemoryRateLimitStore):
        runtime.health.register(
            health_check,
            limiter.health_check,
            timeout=settings.store_timeout + 0.5,
            critical=settings.failure_policy == "closed",
        )
    runtime.middleware.fill("rate_limit", RateLimitMiddleware, limiter=limiter)
    setattr(app.state, _STATE_ATTRIBUTE, limiter)
    if settings.enabled and not runtime.settings.trusted_proxies:
        _log.info(
            "rate_limit_keys_by_peer",
            hint="no trusted_proxies: anonymous requests count per TCP peer; behind a reverse "
            "proxy set trusted_proxies or every client shares the proxy's counter",
        )
    return limiter
