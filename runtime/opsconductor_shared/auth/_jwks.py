"""`JWKSKeyStore`: the auth service's public keys, fetched with httpx, cached and refreshed.

- Fetched asynchronously (never PyJWT's `PyJWKClient`, which blocks on urllib) through a
  `ServiceClient`, so fetches are pooled, bounded in time, retried and logged; parsed with
  `jwt.PyJWK`, one key at a time: a key that is malformed, or whose `alg` is not allowed,
  is skipped, never trusted.
- Fetched once at startup (bounded by the client's timeout; a failure is logged, not
  raised, so a service starts whether the auth service is up or not), then in the
  background every `refresh_interval`; until a fetch succeeds, retried with a backoff from
  one second up to that interval. Readiness (`health_check`) fails, naming
  the last error, while no key is known; an outage is logged as state changes by
  `JWKSKeyStore.state` (one line when fetches start failing, a reminder at most every minute,
  one when they work again), never once per attempt.
- An unknown `kid` triggers at most one refetch per `unknown_kid_cooldown` (single-flight:
  concurrent requests, and requests arriving while any fetch is under way, join it), so a flood of made-up kids cannot hammer the auth service.
- A failed fetch keeps the keys already known (stale keys keep verifying tokens).

A kid that is still unknown after a successful refetch is the token's fault (401). With no
keys at all, or after a failed fetch, the store cannot decide (503).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import jwt
from opsconductor_contracts import JsonWebKey
from pydantic import ValidationError as PydanticValidationError

from .._errors import ServiceCommunicationError
from .._health import DependencyState, HealthCheckError
from .._logging import get_logger
from ..client import ServiceClient
from ._verifier import TokenRejectedError, auth_unavailable

__all__ = [
    "JWKSKeyStore",
    "MAX_JWKS_KEYS",
    "SigningKey",
    "parse_jwks",
]

MAX_JWKS_KEYS = 32
_FIRST_RETRY_DELAY = 1.0
_log = get_logger("opsconductor.auth")


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One usable public key: its id, the one algorithm it verifies, and the parsed key."""

    kid: str
    algorithm: str
    jwk: jwt.PyJWK


def parse_jwks(document: Any, algorithms: Collection[str]) -> dict[str, SigningKey]:
    """The usable keys of a JWKS document, by kid (see the module docstring).

    Raises:
        ValueError: the document is not a JWKS (no `keys` list).
    """
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list):
        raise ValueError("the document is not a JWKS: it has no 'keys' list")
    usable: dict[str, SigningKey] = {}
    for raw in keys[:MAX_JWKS_KEYS]:
        try:
            key = JsonWebKey.model_validate(raw)
        except PydanticValidationError:
            _log.warning("jwks_key_skipped", reason="not a signing JWK of the contract")
            continue
        algorithm = key.alg.value
        if algorithm not in algorithms:
            _log.warning("jwks_key_skipped", kid=key.kid, alg=algorithm, reason="alg not allowed")
            continue
        try:
            parsed = jwt.PyJWK(key.model_dump(mode="json", exclude_none=True), algorithm)
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            _log.warning("jwks_key_skipped", kid=key.kid, reason=type(exc).__name__)
            continue
        usable[key.kid] = SigningKey(key.kid, algorithm, parsed)
    return usable


class JWKSKeyStore:
    """The keys of one JWKS URL (see the module docstring).

    Args:
        url: the JWKS URL (absolute, or relative to the client's base URL).
        client: the client that fetches it.
        algorithms: the algorithms a key may carry.
        refresh_interval: seconds between background refreshes.
        unknown_kid_cooldown: seconds between refetches caused by unknown kids.
        clock: a monotonic clock in seconds (tests pass a fake one).
    """

    def __init__(
        self,
        url: str,
        *,
        client: ServiceClient,
        algorithms: Collection[str],
        refresh_interval: float,
        unknown_kid_cooldown: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.algorithms = frozenset(algorithms)
        self.refresh_interval = refresh_interval
        self.unknown_kid_cooldown = unknown_kid_cooldown
        self._client = client
        self._clock = clock
        self._keys: dict[str, SigningKey] = {}
        self._last_fetch_failed = False
        self._last_forced = -math.inf
        self._fetch: asyncio.Task[bool] | None = None
        self._refresher: asyncio.Task[None] | None = None
        self.fetches = 0
        self.state = DependencyState(
            "auth-keys",
            effect="tokens are verified with the keys already known; with none, requests "
            "that need a user answer 503",
            level="error",
        )

    def __repr__(self) -> str:
        return f"JWKSKeyStore({self.url!r}, kids={sorted(self._keys)!r})"

    @property
    def kids(self) -> list[str]:
        return sorted(self._keys)

    @property
    def ready(self) -> bool:
        """Whether any key is known."""
        return bool(self._keys)

    async def start(self) -> None:
        """Fetch the keys once (a failure is logged, not raised) and start refreshing them in
        the background."""
        await self.refresh()
        self._refresher = asyncio.create_task(self._refresh_forever(), name="jwks-refresher")

    async def health_check(self) -> None:
        """Readiness: some key is known (stale keys still verify tokens).

        Raises:
            HealthCheckError: no key is known yet; the message says the last error.
        """
        if self._keys:
            return
        self.state.raise_if_down()
        raise HealthCheckError("auth-keys not fetched yet")

    async def aclose(self) -> None:
        """Stop refreshing."""
        for task in (self._refresher, self._fetch):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._refresher = self._fetch = None

    async def refresh(self) -> bool:
        """Fetch the keys now, or join the fetch under way; whether it succeeded."""
        if self._fetch is None or self._fetch.done():
            self._fetch = asyncio.create_task(self._fetch_keys(), name="jwks-fetch")
        return await asyncio.shield(self._fetch)

    async def get(self, kid: str) -> SigningKey:
        """The key with id `kid`.

        Raises:
            TokenRejectedError: no such key (after a refetch, when the cooldown allows one).
            ServiceUnavailableError: no key is known, or the latest fetch failed.
        """
        key = self._keys.get(kid)
        if key is not None:
            return key
        now = self._clock()
        fetching = self._fetch is not None and not self._fetch.done()
        if fetching or now - self._last_forced >= self.unknown_kid_cooldown:
            if not fetching:
                self._last_forced = now
            await self.refresh()  # a fetch under way is joined, not repeated
            key = self._keys.get(kid)
            if key is not None:
                return key
        if not self._keys or self._last_fetch_failed:
            raise auth_unavailable("jwks_unavailable", retry_after=_FIRST_RETRY_DELAY)
        raise TokenRejectedError("unknown_key", cacheable=False)

    async def _fetch_keys(self) -> bool:
        self.fetches += 1
        try:
            response = await self._client.get(self.url)
            keys = parse_jwks(response.json(), self.algorithms)
        except (ServiceCommunicationError, ValueError) as exc:
            self._last_fetch_failed = True
            self.state.failed(exc)
            return False
        if not keys:
            self._last_fetch_failed = True
            self.state.failed("the JWKS has no usable key")
            return False
        self.state.succeeded()
        if set(keys) != set(self._keys):
            _log.info("jwks_keys_changed", kids=sorted(keys), previous=sorted(self._keys))
        self._keys = keys
        self._last_fetch_failed = False
        return True

    async def _refresh_forever(self) -> None:
        delay = _FIRST_RETRY_DELAY
        while True:
            if self._keys and not self._last_fetch_failed:
                delay = _FIRST_RETRY_DELAY
                await asyncio.sleep(self.refresh_interval)
            else:
                await asyncio.sleep(min(delay, self.refresh_interval))
                delay = min(delay * 2, self.refresh_interval)
            await self.refresh()
