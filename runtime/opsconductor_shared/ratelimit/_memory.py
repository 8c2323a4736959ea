"""`MemoryRateLimitStore`: the embedded store, for one process.

One integer per (subject, policy) in an ordered dict that is also the eviction order: every
access moves a key to the end, so the least recently used key is first. Memory is bounded by
`max_keys` (about 200 bytes each); past it the least recently used key goes, and with it that
client's history (it starts again with a full quota), which is counted and logged. Expired
keys (their timestamp is in the past, the same as no key) are also dropped as they reach the
front. A check never awaits and holds a lock, so it is atomic for tasks and threads alike.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

from .._logging import get_logger
from ._policy import RateLimit, RateLimitDecision, RateLimitResult

__all__ = ["DEFAULT_MAX_KEYS", "MemoryRateLimitStore"]

DEFAULT_MAX_KEYS = 100_000
_log = get_logger("opsconductor.ratelimit")


def _monotonic_us() -> int:
    return time.monotonic_ns() // 1000


def _admitted(policy: RateLimit, ahead: int) -> RateLimitDecision:
    """The decision of an admitted request whose charged timestamp is `ahead` µs from now."""
    return RateLimitDecision(
        policy, True, (policy.period_us - ahead) // policy.interval_us, ahead / 1e6, 0.0
    )


def _refused(policy: RateLimit, ahead: int, charged: int) -> RateLimitDecision:
    """The decision of a policy on a refused request: `ahead` µs is its timestamp from now,
    `charged` what it would have been had the request been admitted."""
    return RateLimitDecision(
        policy,
        charged <= policy.period_us,
        max(0, (policy.period_us - ahead) // policy.interval_us),
        ahead / 1e6,
        max(0, charged - policy.period_us) / 1e6,
    )


class MemoryRateLimitStore:
    """A `RateLimitStore` in this process (see the module docstring).

    Args:
        max_keys: most (subject, policy) pairs kept; the least recently used go first.
        clock: monotonic time in integer microseconds (tests pass a fake).
    """

    def __init__(
        self, *, max_keys: int = DEFAULT_MAX_KEYS, clock: Callable[[], int] = _monotonic_us
    ) -> None:
        if max_keys < 1:
            raise ValueError("max_keys must be at least 1")
        self.max_keys = max_keys
        self.evicted_live = 0
        self._clock = clock
        self._tats: OrderedDict[str, int] = OrderedDict()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"MemoryRateLimitStore(max_keys={self.max_keys}, keys={len(self._tats)})"

    def __len__(self) -> int:
        return len(self._tats)

    async def hit(
        self, subject: str, policies: Sequence[RateLimit], *, cost: int = 1
    ) -> RateLimitResult:
        return self.hit_now(subject, policies, cost=cost)

    def hit_now(
        self, subject: str, policies: Sequence[RateLimit], *, cost: int = 1
    ) -> RateLimitResult:
        """`hit`, synchronously."""
        now = self._clock()
        prefix = subject + "|"
        with self._lock:
            tats = self._tats
            plan = []
            allowed = True
            for policy in policies:
                key = prefix + policy.key
                tat = tats.get(key, now)
                base = tat if tat > now else now
                charged = base + policy.interval_us * cost
                if charged - now > policy.period_us:
                    allowed = False
                plan.append((key, policy, base, charged))
            decisions = []
            for key, policy, base, charged in plan:
                if allowed:
                    tats[key] = charged
                    tats.move_to_end(key)
                    decisions.append(_admitted(policy, charged - now))
                else:
                    if key in tats:
                        tats.move_to_end(key)  # refused clients stay the most recent
                    decisions.append(_refused(policy, base - now, charged - now))
            self._evict(now)
        return RateLimitResult(allowed, tuple(decisions))

    def _evict(self, now: int) -> None:
        tats = self._tats
        for _ in (1, 2):  # drain up to two expired keys from the front as traffic passes
            if not tats:
                return
            first = next(iter(tats))
            if tats[first] > now:
                break
            del tats[first]
        while len(tats) > self.max_keys:
            _, tat = tats.popitem(last=False)
            if tat > now:
                self.evicted_live += 1
                if self.evicted_live & (self.evicted_live - 1) == 0:  # 1, 2, 4, 8, ...
                    _log.warning(
                        "rate_limit_keys_evicted", evicted=self.evicted_live, max_keys=self.max_keys
                    )

    async def ping(self) -> None:
        return None

    async def aclose(self) -> None:
        with self._lock:
            self._tats.clear()
