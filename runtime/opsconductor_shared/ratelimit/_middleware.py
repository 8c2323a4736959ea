"""`RateLimitMiddleware`: the service-wide and per-route limits of `RateLimitRules`.

Pure ASGI. For every HTTP request that is not exempt, it finds the principal (or client
address), charges the policies that apply in one store call, and either answers 429 in the
envelope (`RATE_LIMITED`, `Retry-After`, the RateLimit headers) without calling the app, or
calls the app and adds the RateLimit headers to its response, including those of
`rate_limit()` dependencies that ran inside. When the store cannot decide and the failure
policy is `closed`, it answers 503 with `Retry-After`.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .._logging import get_logger
from .._problem import send_problem
from ._headers import rate_limit_headers
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
        path = scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :] or "/"
        if limiter.rules.is_exempt(path):
            await self.app(scope, receive, send)
            return
        principal = limiter.principal(scope)
        policies = limiter.rules.policies(
            scope["method"], path, principal.role if principal else None
        )
        limits = request_limits(scope)
        limits.policies.extend(policies)
        if policies:
            result = await limiter.check(limiter.subject(scope, principal), policies)
            limits.decisions.extend(result.decisions)
            if not result.allowed:
                await self._refuse(scope, send, result)
                return
        if not limiter.headers:
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start" and limits.policies:
                message["headers"] = [
                    *message.get("headers", ()),
                    *rate_limit_headers(limits.policies, limits.decisions),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _refuse(self, scope: Scope, send: Send, result: RateLimitResult) -> None:
        if result.store_available:
            _log.info("rate_limited", retry_after_s=round(result.retry_after, 3))
        headers = {}
        if self.limiter.headers:
            limits = request_limits(scope)
            for name, value in rate_limit_headers(limits.policies, limits.decisions):
                headers[name.decode()] = value.decode("latin-1")
        await send_problem(send, refusal(self.limiter, result, headers=headers), scope)
