"""`BearerIdentityMiddleware`: verify a request's bearer token before the rest of the stack.

`install_auth` puts it in the stack's `auth` slot, outside the rate limiter, so that
everything inside it, rate limiting above all, knows the caller: the verified identity is on
`request.state.identity` before any limit is charged, and per-principal and per-role limits
apply to the service-wide policies too, not only to routes with a `rate_limit()` dependency.

It never refuses a request itself. A missing or bad token, or a verifier that cannot decide,
is recorded as it is, and the auth dependencies answer for it (401 or 503) on the routes that
require authentication; public routes are served either way. The dependencies reuse what it
recorded, so a token is verified once per request, and an auth-service outage costs one
timeout, not two.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from .._errors import StandardHTTPException
from ._verifier import TokenVerifier, VerifiedToken

__all__ = [
    "BearerIdentityMiddleware",
    "VERIFICATION_STATE_KEY",
    "bearer_token",
    "recorded_verification",
]

VERIFICATION_STATE_KEY = "opsconductor.auth.verification"
_BEARER = b"bearer "


def bearer_token(scope: Scope) -> str | None:
    """The token of an `Authorization: Bearer` header, or None."""
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            if len(value) > len(_BEARER) and value[: len(_BEARER)].lower() == _BEARER:
                token = value[len(_BEARER) :].strip()
                return token.decode("latin-1") if token else None
            return None
    return None


class BearerIdentityMiddleware:
    """See the module docstring.

    Args:
        app: the ASGI app to wrap.
        verifier: the app's token verifier.
    """

    def __init__(self, app: ASGIApp, *, verifier: TokenVerifier) -> None:
        self.app = app
        self.verifier = verifier

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            token = bearer_token(scope)
            if token is not None:
                state = scope.setdefault("state", {})
                try:
                    verified = await self.verifier.verify(token)
                except StandardHTTPException as exc:  # 401 or 503, for the dependencies to raise
                    state[VERIFICATION_STATE_KEY] = (token, exc)
                else:
                    state[VERIFICATION_STATE_KEY] = (token, verified)
                    verified.bind(scope, token)
        await self.app(scope, receive, send)


def recorded_verification(scope: Scope, token: str) -> VerifiedToken | StandardHTTPException | None:
    """What the middleware found for this request's `token`, if it ran."""
    recorded = scope.get("state", {}).get(VERIFICATION_STATE_KEY)
    if recorded is None or recorded[0] != token:
        return None
    outcome: VerifiedToken | StandardHTTPException = recorded[1]
    return outcome
