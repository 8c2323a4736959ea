"""`RateLimitMiddleware`: the service-wide and per-route limits of `RateLimitRules`.

Pure ASGI. For every HTTP request that is not exempt, it finds the principal (or client
address), charges the policies that apply in one store call, and either answers 429 in the
envelope (`RATE_LIMITED`, `Retry-After`, the RateLimit headers) without calling the app, or
calls the app, and the RateLimit headers of every policy that applied, those of
`rate_limit()` dependencies that ran inside included, go on its response through the standard
layer (`add_response_headers`; no `send` wrapper of its own). When the store cannot decide and
the failure policy is `closed`, it answers 503 with `Retry-After`.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from .._logging import get_logger
from .._problem import send_problem
from .._routes import route_path
from ..middleware.standard import add_response_headers
from ._limiter import RateLimiter, refusal, request_limits
from ._policy import RateLimitResult

__all__ = ["RateLimitMiddleware"]

_log = get_logger("opsconductor.ratelimit")


class RateLimitMiddleware:
    """See the module docstring.

    Args:
        app: the ASGI app to wrap.
        limiter: the policies, store and failure policy.
    """

    def __init__(self, app: ASGIApp, *, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.limiter.enabled:
            await self.app(scope, receive, send)
            return
        limiter = self.limiter
        path = route_path(scope)
        if limiter.rules.is_exempt(path):
            await self.app(scope, receive, send)
            return
        principal = limiter.identity(scope)
        subject = limiter.subject(scope, principal)
        policies = limiter.rules.policies(
            scope["method"], path, principal.role if principal else None, subject
        )
        limits = request_limits(scope)
        if policies:
            limits.policies += policies
            result = await limiter.check(subject, policies)
            limits.decisions += result.decisions
            if not result.allowed:
                await self._refuse(scope, send, result)
                return
        if limiter.headers:
            add_response_headers(scope, limits.headers)
        await self.app(scope, receive, send)

    async def _refuse(self, scope: Scope, send: Send, result: RateLimitResult) -> None:
        if result.store_available:
            _log.info("rate_limited", retry_after_s=round(result.retry_after, 3))
        headers = {}
        if self.limiter.headers:
            for name, value in request_limits(scope).headers():
                headers[name.decode()] = value.decode("latin-1")
        await send_problem(send, refusal(self.limiter, result, headers=headers), scope)
