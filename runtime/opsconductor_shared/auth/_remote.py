"""`RemoteTokenVerifier`: ask the auth service's verify endpoint, once per token.

Before the network: the size and shape checks, and the unverified claims' shape, type
(`access`), `exp`, `nbf`, `iss` and `aud`, which can only refuse a token, never accept one,
and spare the auth service requests that could never pass. Then `POST {token}` to
`verify_url` (the `VerifyRequest`/`VerifyResponse` contract): `valid: true` with an identity
for the same subject is a verified token; `valid: false` is a 401 (the auth service's
`reason`, such as `revoked` for an outdated `token_version`, is logged); any other answer,
error, timeout or unreachable service is a 503 within `timeout` seconds, and is not cached.

Single-flight: concurrent requests with the same uncached token share one call, run in its
own task so that a client hanging up does not fail the others. The verdicts are cached by
`TokenVerifier.verify`: a verified token until `exp` at the latest and `cache_ttl` at most
(so a revocation takes effect within `cache_ttl`), a rejection for `negative_cache_ttl`.

Replicas can share the verified tokens through a `Cache` (`shared_cache="redis"` in the
settings, a `RedisCache`; or any `Cache` passed as `shared_cache=`): looked up, by the
token's digest, after the process's own cache and before the auth service, and written with
the same expiry. In memory (the default) there is nothing more to share. A shared cache that
fails reads as a miss.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from opsconductor_contracts import Identity, VerifyRequest, VerifyResponse

from .._cache import Cache, RedisCache
from .._errors import ServiceCommunicationError, ServiceUnavailableError
from .._logging import get_logger
from .._redis import create_redis_client
from ..client import CircuitBreaker, RetryPolicy, ServiceClient, validate_service_health
from ..client._retry import IDEMPOTENT_METHODS
from ._settings import AuthSettings
from ._verifier import (
    Rejection,
    TokenRejectedError,
    TokenVerifier,
    VerifiedToken,
    auth_unavailable,
    claims_from_payload,
    unverified_token,
)

__all__ = [
    "RemoteTokenVerifier",
]

_log = get_logger("opsconductor.auth")
_BREAKER_RESET_TIMEOUT = 5.0


class _Undecided:
    __slots__ = ("reason", "retry_after")

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        self.reason = reason
        self.retry_after = retry_after


class RemoteTokenVerifier(TokenVerifier):
    """Verifies tokens with the auth service's verify endpoint (see the module docstring).

    Args:
        settings: auth settings in remote mode.
        client: the client of the auth service; default: one built from the settings, whose
            verify calls (reads, so retried like one) fit in `settings.timeout` together.
        shared_cache: a `Cache` shared by the replicas; default: a `RedisCache` when
            `settings.shared_cache` is `redis`, else none.
        **kwargs: passed to `TokenVerifier` (a test clock).
    """

    def __init__(
        self,
        settings: AuthSettings,
        *,
        client: ServiceClient | None = None,
        shared_cache: Cache | None = None,
        **kwargs: Any,
    ) -> None:
        if settings.mode != "remote" or settings.verify_url is None:
            raise ValueError("RemoteTokenVerifier needs auth settings in remote mode")
        super().__init__(settings, **kwargs)
        self.verify_url = str(settings.verify_url)
        self._owns_client = client is None
        self._client = client or ServiceClient(
            "auth",
            self.verify_url,
            timeout=httpx.Timeout(settings.timeout),
            retry=RetryPolicy(
                attempts=2, deadline=settings.timeout, methods=IDEMPOTENT_METHODS | {"POST"}
            ),
            breaker=CircuitBreaker("auth", reset_timeout=_BREAKER_RESET_TIMEOUT),
        )
        self._inflight: dict[bytes, asyncio.Task[VerifiedToken | Rejection | _Undecided]] = {}
        self._owns_shared_cache = shared_cache is None and settings.shared_cache == "redis"
        if self._owns_shared_cache:
            shared_cache = RedisCache(
                create_redis_client(settings.redis), key_prefix="auth-verified"
            )
        self.shared_cache: Cache | None = shared_cache
        self.calls = 0

    async def aclose(self) -> None:
        for task in list(self._inflight.values()):
            task.cancel()
        self._inflight.clear()
        if self._owns_client:
            await self._client.aclose()
        if self._owns_shared_cache and isinstance(self.shared_cache, RedisCache):
            await self.shared_cache.client.aclose()

    def readiness_checks(self) -> dict[str, Any]:
        url = self.settings.readiness_url
        if url is None:  # pragma: no cover - remote settings always name a verify URL
            return {}
        client = self._client

        async def auth_service() -> bool:
            return await validate_service_health(
                url, timeout=self.settings.timeout, client=client._client, service="auth"
            )

        return {"auth-service": auth_service}

    def _precheck(self, token: str) -> Any:
        header, payload = unverified_token(token, max_bytes=self._max_bytes)
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm.lower() == "none":
            raise TokenRejectedError("algorithm_not_allowed")
        claims = claims_from_payload(payload)
        now, leeway = time.time(), self.settings.leeway
        if claims.exp <= now - leeway:
            raise TokenRejectedError("expired", "The access token has expired.")
        if claims.nbf is not None and claims.nbf > now + leeway:
            raise TokenRejectedError("not_yet_valid")
        if claims.iss != self.settings.issuer:
            raise TokenRejectedError("wrong_issuer")
        audiences = [claims.aud] if isinstance(claims.aud, str) else claims.aud
        if self.settings.audience not in audiences:
            raise TokenRejectedError("wrong_audience")
        return claims

    async def _verify_uncached(self, token: str, key: bytes) -> VerifiedToken | Rejection:
        claims = self._precheck(token)
        shared = self.shared_cache
        if shared is not None and self._ttl > 0:
            found = await shared.get(key.hex())
            if found is not None:
                try:
                    return VerifiedToken(claims, Identity.model_validate_json(found))
                except ValueError:
                    await shared.delete(key.hex())
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.create_task(self._ask(token, claims), name="auth-verify")
            self._inflight[key] = task
            task.add_done_callback(lambda done: self._forget(key, done))
        outcome = await asyncio.shield(task)
        if isinstance(outcome, _Undecided):
            raise auth_unavailable(outcome.reason, retry_after=outcome.retry_after)
        if shared is not None and isinstance(outcome, VerifiedToken) and self._ttl > 0:
            ttl = min(self._ttl, outcome.claims.exp - time.time())
            if ttl > 0:
                await shared.set(
                    key.hex(),
                    outcome.identity.model_dump_json().encode(),
                    ttl=ttl,
                )
        return outcome

    def _forget(self, key: bytes, task: asyncio.Task[Any]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # retrieved here, so an unawaited failure is never "lost"

    async def _ask(self, token: str, claims: Any) -> VerifiedToken | Rejection | _Undecided:
        self.calls += 1
        try:
            async with asyncio.timeout(self.settings.timeout):
                verdict = await self._client.post(
                    self.verify_url,
                    json=VerifyRequest(token=token).model_dump(mode="json"),
                    response_model=VerifyResponse,
                )
        except (ServiceCommunicationError, ServiceUnavailableError) as exc:
            _log.warning(
                "auth_verify_failed",
                error=exc.code,
                upstream_status=getattr(exc, "upstream_status", None),
            )
            return _Undecided("auth_service_failed", exc.retry_after)
        except TimeoutError:
            _log.warning("auth_verify_failed", error="timeout", timeout=self.settings.timeout)
            return _Undecided("auth_service_timeout")
        if not verdict.valid:
            reason = (verdict.reason or "invalid")[:64]
            detail = (
                "The access token has expired." if reason == "expired" else Rejection(reason).detail
            )
            return Rejection(reason, detail)
        identity = verdict.identity
        if identity is None or identity.user_id != claims.sub:
            _log.error("auth_verify_inconsistent", reason="identity missing or for another subject")
            return _Undecided("auth_service_inconsistent")
        return VerifiedToken(claims, identity)
