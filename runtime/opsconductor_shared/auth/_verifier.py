"""The verifier interface, and what every verification strategy shares.

    TokenVerifier                 verify(token) -> VerifiedToken, or raises
    ├── LocalTokenVerifier        PyJWT, against the auth service's JWKS or an HS256 secret
    └── RemoteTokenVerifier       the auth service's verify endpoint

`TokenVerifier.verify` rejects oversized tokens before anything else, answers from the
`TokenCache` (keyed by the token's SHA-256; a verified token's entry ends at its `exp` at the
latest, a rejection's after `negative_cache_ttl`), and otherwise asks the strategy. Two
outcomes besides success, never confused: the token is bad (`AuthenticationError`, 401, with
`WWW-Authenticate: Bearer error="invalid_token"`), or the verifier cannot decide because the
auth service or its keys are out of reach (`ServiceUnavailableError`, 503). The rejection's
reason (`expired`, `invalid_signature`, ...) goes to the log, not to the client.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import FastAPI
from opsconductor_contracts import Identity, TokenClaims, TokenType
from pydantic import ValidationError as PydanticValidationError
from starlette.types import Scope
from structlog.contextvars import bind_contextvars

from .._context import log_context_values
from .._errors import AuthenticationError, ServiceUnavailableError
from .._health import CheckFunction
from ..client._propagation import bind_caller_token
from ._cache import TokenCache, token_digest
from ._settings import AuthSettings

__all__ = [
    "INVALID_TOKEN_DETAIL",
    "Rejection",
    "TokenRejectedError",
    "TokenVerifier",
    "VerifiedToken",
    "DEFAULT_AUTH_RETRY_AFTER",
    "auth_unavailable",
    "check_compact_shape",
    "claims_from_payload",
    "identity_from_claims",
    "unverified_header",
    "unverified_token",
]

INVALID_TOKEN_DETAIL = "The access token is invalid."  # noqa: S105 - a message, not a secret
# Seconds a client is told to wait after an auth outage's 503: about one background JWKS
# refetch, or one verify call's timeout and retry.
DEFAULT_AUTH_RETRY_AFTER = 2.0
_UNAVAILABLE_DETAIL = "Authentication is temporarily unavailable. Retry later."
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    """A token that passed verification: its claims, and the identity they make.

    `log_context` is what a request it verifies adds to its log context (the user id and the
    principal type), masked once here, not on every request: a cached token is reused.
    """

    claims: TokenClaims
    identity: Identity
    log_context: Mapping[str, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        values = {
            "user_id": self.identity.user_id,
            "principal_type": self.identity.principal_type.value,
        }
        object.__setattr__(self, "log_context", log_context_values(values))

    def bind(self, scope: Scope, token: str) -> None:
        """Make this the current request's verified caller: `request.state.identity`, the
        log context, and the token `ServiceClient` forwards when asked to."""
        # `request.state.identity`, without building Starlette's `State` wrapper per request:
        # it wraps this same dictionary.
        scope.setdefault("state", {})["identity"] = self.identity
        bind_contextvars(**self.log_context)
        bind_caller_token(token)


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a token was refused. `cacheable` is False when a retry could succeed soon."""

    reason: str
    detail: str = INVALID_TOKEN_DETAIL
    cacheable: bool = True

    def error(self) -> AuthenticationError:
        """A fresh 401 for this rejection."""
        return AuthenticationError(
            self.detail, error="invalid_token", metadata={"reason": self.reason}
        )


class TokenRejectedError(Exception):
    """Raised inside a verifier to refuse a token; `verify` turns it into the 401."""

    def __init__(
        self, reason: str, detail: str = INVALID_TOKEN_DETAIL, *, cacheable: bool = True
    ) -> None:
        super().__init__(reason)
        self.rejection = Rejection(reason, detail, cacheable)


def auth_unavailable(reason: str, *, retry_after: float | None = None) -> ServiceUnavailableError:
    """The 503 for a verification that could not be decided (`reason` goes to the log).

    It always carries `Retry-After`: the upstream's when it sent one, else
    `DEFAULT_AUTH_RETRY_AFTER`.
    """
    return ServiceUnavailableError(
        _UNAVAILABLE_DETAIL,
        retry_after=DEFAULT_AUTH_RETRY_AFTER if retry_after is None else retry_after,
        metadata={"reason": reason},
    )


def _decode_segment(segment: str) -> dict[str, Any]:
    try:
        decoded = orjson.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise TokenRejectedError("malformed") from exc
    if not isinstance(decoded, dict):
        raise TokenRejectedError("malformed")
    return decoded


def unverified_token(token: str, *, max_bytes: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and payload of a compact JWS, read without verifying anything.

    Checks only the size and shape: three non-empty base64url segments (an unsigned
    `alg: none` token has an empty third one), the first two JSON objects.

    Raises:
        TokenRejectedError: the token is too large or malformed.
    """
    header = unverified_header(token, max_bytes=max_bytes)
    return header, _decode_segment(token.split(".", 2)[1])


def unverified_header(token: str, *, max_bytes: int) -> dict[str, Any]:
    """The header of a compact JWS, read without verifying anything; the checks of
    `unverified_token`, without decoding the payload (a verifier that decodes it itself
    after the signature, as PyJWT does, need not decode it twice).

    Raises:
        TokenRejectedError: the token is too large or malformed.
    """
    check_compact_shape(token, max_bytes=max_bytes)
    return _decode_segment(token[: token.index(".")])


def check_compact_shape(token: str, *, max_bytes: int) -> None:
    """The size and shape checks of `unverified_header`, without decoding anything: three
    non-empty base64url segments, no padding, nothing else (so one token has one spelling).

    Raises:
        TokenRejectedError: the token is too large or malformed.
    """
    if len(token) > max_bytes:
        raise TokenRejectedError("too_large")
    if _TOKEN_SHAPE.fullmatch(token) is None:
        raise TokenRejectedError("malformed")


# The time claims are seconds since the epoch that a datetime can hold (up to the end of the
# year 9999): PyJWT compares any number, and a larger one overflows later, in the identity's
# `expires_at`.
MAX_TIMESTAMP = 253_402_300_799
_TIME_CLAIMS = ("exp", "nbf", "iat")


def claims_from_payload(payload: Mapping[str, Any]) -> TokenClaims:
    """The verified payload as `TokenClaims`, which must be an access token's.

    Raises:
        TokenRejectedError: the claims do not have the contract's shape, a time claim
            (`exp`, `nbf`, `iat`) is not a number from 0 to `MAX_TIMESTAMP`, or the token is
            not an access token (a refresh token is never accepted here).
    """
    for name in _TIME_CLAIMS:
        value = payload.get(name)
        # NaN fails both comparisons; a bool is not a time even though it is an int.
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not 0 <= value <= MAX_TIMESTAMP
        ):
            raise TokenRejectedError("invalid_claims")
    try:
        claims = TokenClaims.model_validate(payload)
    except PydanticValidationError as exc:
        raise TokenRejectedError("invalid_claims") from exc
    if claims.type is not TokenType.access:
        raise TokenRejectedError("wrong_type", "The token is not an access token.")
    return claims


def identity_from_claims(claims: TokenClaims) -> Identity:
    """The `Identity` that verified claims make."""
    return Identity(
        user_id=claims.sub,
        username=claims.username,
        email=claims.email,
        role=claims.role,
        permissions=claims.permissions,
        token_version=claims.token_version,
        token_id=claims.jti,
        expires_at=datetime.fromtimestamp(claims.exp, UTC),
        principal_type=claims.principal_type,
        scopes=claims.scope.split() if claims.scope else [],
    )


class TokenVerifier(ABC):
    """Verifies bearer tokens (see the module docstring); one per app, made by `install_auth`.

    Args:
        settings: the auth settings.
        clock: wall-clock seconds since the epoch, for cache expiry (tests pass a fake one).
    """

    def __init__(self, settings: AuthSettings, *, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.cache: TokenCache[VerifiedToken | Rejection] = TokenCache(
            settings.cache_max_entries, clock=clock
        )
        self._max_bytes = settings.max_token_bytes
        self._ttl = settings.cache_ttl
        self._negative_ttl = settings.negative_cache_ttl

    async def verify(self, token: str) -> VerifiedToken:
        """The verified token.

        Raises:
            AuthenticationError: 401, the token is invalid, expired, revoked or not an access
                token.
            ServiceUnavailableError: 503, the verifier cannot decide now.
        """
        if len(token) > self._max_bytes:
            raise Rejection("too_large").error()
        key = token_digest(token)
        cached = self.cache.get(key)
        if cached is not None:
            if isinstance(cached, VerifiedToken):
                return cached
            raise cached.error()
        try:
            outcome = await self._verify_uncached(token, key)
        except TokenRejectedError as exc:
            outcome = exc.rejection
        now = self.cache.now()
        if isinstance(outcome, Rejection):
            if outcome.cacheable and self._negative_ttl > 0:
                self.cache.put(key, outcome, expires_at=now + self._negative_ttl)
            raise outcome.error()
        if self._ttl > 0:
            self.cache.put(key, outcome, expires_at=min(now + self._ttl, outcome.claims.exp))
        return outcome

    @abstractmethod
    async def _verify_uncached(self, token: str, key: bytes) -> VerifiedToken | Rejection:
        """Verify a token the cache does not know; raise `TokenRejectedError` or return a
        `Rejection` to refuse it, raise `ServiceUnavailableError` when undecidable."""

    async def start(self) -> None:  # noqa: B027 - an optional hook
        """Open what the verifier needs (clients, key refreshers); called at app startup."""

    async def aclose(self) -> None:  # noqa: B027 - an optional hook
        """Close what `start` opened; called at app shutdown."""

    def readiness_checks(self) -> dict[str, CheckFunction]:
        """Readiness checks of what the verifier depends on, by name."""
        return {}

    @asynccontextmanager
    async def lifespan(self, _: FastAPI) -> AsyncIterator[None]:
        """A lifespan hook: `start` at startup, `aclose` at shutdown."""
        await self.start()
        try:
            yield
        finally:
            await self.aclose()
