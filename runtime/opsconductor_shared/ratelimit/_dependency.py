"""`rate_limit()`: a per-route limit as a FastAPI dependency.

    @app.post("/auth/login", dependencies=[Depends(rate_limit("5/minute"))])

    @app.post(
        "/targets",
        dependencies=[Depends(require_identity), Depends(rate_limit("30/minute", roles={"admin": "300/minute"}))],
    )

It uses the app's limiter (`install_rate_limiting`), so its counters live in the same store,
with the same failure policy. Dependencies run in order, so one listed after the auth
dependency sees the identity that dependency stored in `request.state.identity` and counts per
principal, with the principal's role. Or pass the auth dependency itself as `identity=`: its
result is then the principal. A route with one documents 429 (and 503 when a Redis store
fails closed) in the OpenAPI document. Its decision is added to the response's RateLimit headers by the
middleware; a refusal is a `RateLimitedError` (429) or, when the store cannot decide and the
policy is `closed`, a `ServiceUnavailableError` (503).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import Depends
from starlette.requests import Request

from .._operations import raises_errors
from ._keys import principal_of
from ._limiter import RateLimiter, refusal, request_limits
from ._policy import RateLimit

__all__ = ["get_rate_limiter", "rate_limit"]

_STATE_ATTRIBUTE = "rate_limiter"


def get_rate_limiter(app: Any) -> RateLimiter:
    """The `RateLimiter` installed on an app.

    Raises:
        RuntimeError: `install_rate_limiting` was not called for this app.
    """
    limiter = getattr(app.state, _STATE_ATTRIBUTE, None)
    if not isinstance(limiter, RateLimiter):
        raise RuntimeError(
            "rate_limit() needs a limiter: call install_rate_limiting(app) when creating the app"
        )
    return limiter


def rate_limit(
    limit: str | RateLimit,
    *,
    name: str | None = None,
    roles: Mapping[str, str | RateLimit] | None = None,
    cost: int = 1,
    identity: Callable[..., Any] | None = None,
) -> Callable[..., Awaitable[None]]:
    """A dependency that limits the route it is declared on (see the module docstring).

    Args:
        limit: `"10/minute"` or a `RateLimit`.
        name: the policy's name in the headers (and its counter); default: the route path.
        roles: role -> limit, instead of `limit` for callers of that role.
        cost: how much one request uses up.
        identity: the auth layer's dependency returning the verified identity, if any.

    Raises:
        ValueError: a limit cannot be parsed or `cost` is below 1.
    """
    if cost < 1:
        raise ValueError("cost must be at least 1")
    base = RateLimit.parse(limit)
    by_role = {role: RateLimit.parse(value) for role, value in (roles or {}).items()}
    named: dict[tuple[str, str | None], RateLimit] = {}

    def policy(request: Request, role: str | None) -> RateLimit:
        route = request.scope.get("route")
        policy_name = name or str(getattr(route, "path", None) or request.url.path)
        found = named.get((policy_name, role))
        if found is None:
            chosen = (by_role.get(role) if role else None) or base
            found = named[(policy_name, role)] = chosen.named(policy_name)
        return found

    async def check(request: Request, found: Any) -> None:
        limiter = get_rate_limiter(request.app)
        principal = (
            principal_of(found) if identity is not None else limiter.principal(request.scope)
        )
        chosen = policy(request, principal.role if principal else None)
        limits = request_limits(request.scope)
        limits.policies += (chosen,)
        result = await limiter.check(
            limiter.subject(request.scope, principal), (chosen,), cost=cost
        )
        limits.decisions += result.decisions
        if not result.allowed:
            raise refusal(limiter, result)

    if identity is None:

        @raises_errors(429)
        async def limited(request: Request) -> None:
            await check(request, None)

        return limited

    @raises_errors(429)
    async def limited_with_identity(request: Request, found: Any = Depends(identity)) -> None:  # noqa: B008
        await check(request, found)

    return limited_with_identity
