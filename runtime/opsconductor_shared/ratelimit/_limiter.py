"""`RateLimiter`: policies, a store, keys, and what happens when the store cannot decide.

When the store fails or does not answer in time (`RateLimitStoreError`), the failure policy
decides the request: `open` (the default) admits it, `closed` refuses it with 503. Either way
the store is left alone for `retry_interval` seconds, deciding every request by the policy
at once, instead of making each one wait for a timeout; then one request probes it again
while the others keep being decided by the policy. So a Redis outage costs at most one store
timeout per `retry_interval`, and logs one line when it begins (WARNING when failing open,
ERROR when failing closed), a reminder at most every minute, and one when it ends
(`RateLimiter.state`, a `DependencyState`), whatever the number of probes.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal

from starlette.types import Scope

from .._client_ip import ClientAddressResolver
from .._errors import RateLimitedError, ServiceUnavailableError, retry_after_header
from .._health import DependencyState, HealthCheckError
from ._headers import rate_limit_headers
from ._keys import IdentityResolver, Principal, principal_from_state, subject_for
from ._memory import MemoryRateLimitStore
from ._policy import RateLimit, RateLimitDecision, RateLimitResult
from ._rules import RateLimitRules
from ._store import RateLimitStore, RateLimitStoreError

__all__ = [
    "DEFAULT_RETRY_INTERVAL",
    "RateLimiter",
    "RequestLimits",
    "denied_detail",
    "refusal",
    "request_limits",
]

DEFAULT_RETRY_INTERVAL = 1.0
_STATE_KEY = "opsconductor.ratelimit"
UNAVAILABLE_DETAIL = "Rate limiting is temporarily unavailable. Retry later."


@dataclass(slots=True)
class RequestLimits:
    """The policies applied to the current request, and their decisions, for its headers.

    Tuples: the middleware's are the rules' own and the store's, kept without a copy; a
    `rate_limit()` dependency adds its own to them.
    """

    policies: tuple[RateLimit, ...] = ()
    decisions: tuple[RateLimitDecision, ...] = ()

    def headers(self) -> list[tuple[bytes, bytes]]:
        """The RateLimit headers of what applied so far (none when no policy did)."""
        return rate_limit_headers(self.policies, self.decisions) if self.policies else []


def request_limits(scope: Scope) -> RequestLimits:
    """The `RequestLimits` of a request, kept in its state (created on first use)."""
    state = scope.setdefault("state", {})
    found = state.get(_STATE_KEY)
    if not isinstance(found, RequestLimits):
        found = state[_STATE_KEY] = RequestLimits()
    return found


def denied_detail(result: RateLimitResult) -> str:
    """The `detail` of a 429: which limit, and when to retry."""
    denied = max(
        (d for d in result.decisions if not d.allowed),
        key=lambda d: d.retry_after,
        default=None,
    )
    wait = retry_after_header(result.retry_after)
    if denied is None:
        return f"Too many requests. Retry after {wait} s."
    return f"Too many requests: the limit is {denied.policy}. Retry after {wait} s."


def refusal(
    limiter: RateLimiter, result: RateLimitResult, *, headers: Mapping[str, str] | None = None
) -> RateLimitedError | ServiceUnavailableError:
    """The error of a refused request: 429, or 503 when the store could not decide."""
    if not result.store_available:
        return ServiceUnavailableError(
            UNAVAILABLE_DETAIL, retry_after=limiter.retry_interval, headers=headers
        )
    return RateLimitedError(denied_detail(result), retry_after=result.retry_after, headers=headers)


class RateLimiter:
    """Decides requests against `rules` with `store` (see the module docstring).

    Args:
        store: where counters live (`MemoryRateLimitStore`, `RedisRateLimitStore`).
        rules: the policies; default: none (only `rate_limit()` dependencies limit).
        client_address: resolves the client through trusted proxies; default: the TCP peer.
        identity: finds the authenticated principal of a request (default: request state).
        failure_policy: `open` admits, `closed` refuses (503) while the store cannot decide.
        retry_interval: seconds the store is left alone after it failed.
        headers: send the RateLimit-Policy and RateLimit headers.
        enabled: False decides every request "admitted" without the store.
    """

    def __init__(
        self,
        store: RateLimitStore,
        *,
        rules: RateLimitRules | None = None,
        client_address: ClientAddressResolver | None = None,
        identity: IdentityResolver = principal_from_state,
        failure_policy: Literal["open", "closed"] = "open",
        retry_interval: float = DEFAULT_RETRY_INTERVAL,
        headers: bool = True,
        enabled: bool = True,
    ) -> None:
        if failure_policy not in ("open", "closed"):
            raise ValueError("failure_policy must be 'open' or 'closed'")
        if retry_interval <= 0:
            raise ValueError("retry_interval must be positive")
        self.store = store
        # The package's memory store decides without awaiting and cannot fail, so `check`
        # asks it directly; None for every other store, subclasses included (they may
        # override `hit`): those are awaited, with the failure policy.
        self.local_store = store if type(store) is MemoryRateLimitStore else None
        self.rules = rules or RateLimitRules()
        self.client_address = client_address or ClientAddressResolver()
        self.identity = identity
        self.failure_policy = failure_policy
        self.retry_interval = retry_interval
        self.headers = headers
        self.enabled = enabled
        self._skip_until = 0.0
        self._probing = False
        self.state = DependencyState(
            "rate_limit_store",
            effect=(
                "requests are admitted unlimited (fail open)"
                if failure_policy == "open"
                else "requests are refused (fail closed)"
            ),
            level="warning" if failure_policy == "open" else "error",
        )

    def __repr__(self) -> str:
        return (
            f"RateLimiter(store={self.store!r}, rules={self.rules!r}, "
            f"failure_policy={self.failure_policy!r})"
        )

    @property
    def store_available(self) -> bool:
        """False while the store is being left alone after a failure."""
        return self._skip_until == 0.0

    def principal(self, scope: Scope) -> Principal | None:
        return self.identity(scope)

    def subject(self, scope: Scope, principal: Principal | None) -> str:
        """The counter name of a request: its principal, else its client address."""
        if principal is not None:
            return subject_for(principal, None)
        return subject_for(None, self.client_address(scope))

    def _undecided(self) -> RateLimitResult:
        return RateLimitResult(self.failure_policy == "open", (), store_available=False)

    async def check(
        self, subject: str, policies: Sequence[RateLimit], *, cost: int = 1
    ) -> RateLimitResult:
        """Charge `cost` to each policy of `subject` if all admit it (see the docstring)."""
        if not self.enabled or not policies:
            return RateLimitResult(True)
        if self.local_store is not None:  # decides without awaiting, cannot fail
            return self.local_store.hit_now(subject, policies, cost=cost)
        probing = False
        if self._skip_until:
            if self._probing or time.monotonic() < self._skip_until:
                return self._undecided()
            self._probing = probing = True
        try:
            result = await self.store.hit(subject, policies, cost=cost)
        except RateLimitStoreError as exc:
            self._skip_until = time.monotonic() + self.retry_interval
            self.state.failed(exc.__cause__ or exc)
            return self._undecided()
        finally:
            if probing:
                self._probing = False
        if self._skip_until:
            self._skip_until = 0.0
        if not self.state.up:
            self.state.succeeded()
        # Decisions as a tuple whatever sequence a store returns (RequestLimits adds them up).
        return result._replace(decisions=tuple(result.decisions))

    async def health_check(self) -> None:
        """Readiness of the store: a round trip.

        Raises:
            HealthCheckError: the store did not answer; the message says the policy in force.
        """
        try:
            await self.store.ping()
        except RateLimitStoreError as exc:
            self.state.failed(exc.__cause__ or exc)
            raise HealthCheckError(
                f"rate-limit store unreachable: {self.state.effect}: {self.state.last_error}"
            ) from exc
        self.state.succeeded()

    @asynccontextmanager
    async def lifespan(self, _: Any) -> AsyncIterator[None]:
        """The app lifespan hook: closes the store at shutdown."""
        try:
            yield
        finally:
            await self.store.aclose()
