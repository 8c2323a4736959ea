"""`RedisRateLimitStore`: the shared store, for several replicas; one Lua script per check.

The script reads Redis's own clock (`TIME`, so replicas with skewed clocks agree), applies
GCRA to one key per policy, and either charges every policy or none, atomically; it answers
with the numbers the response headers need. One `EVALSHA`, one round trip (redis-py loads the
script once more if Redis lost it). Keys are `<prefix>:{<subject>}:<policy>`: the braces put
all keys of one subject in one cluster slot. Each key expires when its timestamp passes, so
idle clients cost nothing.

Every call ends within `timeout` seconds; any failure or timeout is a `RateLimitStoreError`,
and the limiter's failure policy decides what the request gets.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._redis import RedisSettings, create_redis_client, require_redis
from ._policy import RateLimit, RateLimitDecision, RateLimitResult
from ._store import RateLimitStoreError

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["DEFAULT_KEY_PREFIX", "DEFAULT_STORE_TIMEOUT", "GCRA_SCRIPT", "RedisRateLimitStore"]

DEFAULT_KEY_PREFIX = "ratelimit"
DEFAULT_STORE_TIMEOUT = 0.5

# KEYS: one per policy. ARGV: cost, then interval_us and period_us of each policy.
# Returns: allowed (0/1), then remaining, reset_after_us, retry_after_us of each policy.
GCRA_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local cost = tonumber(ARGV[1])
local bases = {}
local allowed = 1
for i = 1, #KEYS do
  local interval = tonumber(ARGV[2 * i])
  local period = tonumber(ARGV[2 * i + 1])
  local tat = tonumber(redis.call('GET', KEYS[i]))
  if not tat or tat < now then tat = now end
  bases[i] = tat
  if tat + interval * cost - now > period then allowed = 0 end
end
local out = {allowed}
for i = 1, #KEYS do
  local interval = tonumber(ARGV[2 * i])
  local period = tonumber(ARGV[2 * i + 1])
  local base = bases[i]
  local charged = base + interval * cost
  if allowed == 1 then
    redis.call('SET', KEYS[i], string.format('%d', charged), 'PX', math.ceil((charged - now) / 1000))
    out[#out + 1] = math.floor((period - (charged - now)) / interval)
    out[#out + 1] = charged - now
    out[#out + 1] = 0
  else
    out[#out + 1] = math.max(0, math.floor((period - (base - now)) / interval))
    out[#out + 1] = base - now
    out[#out + 1] = math.max(0, charged - period - now)
  end
end
return out
"""


class RedisRateLimitStore:
    """A `RateLimitStore` in Redis (see the module docstring).

    Args:
        client: a `redis.asyncio.Redis`, best from `create_redis_client` (bounded timeouts).
        key_prefix: put before every key.
        timeout: the longest a check may take, whatever the client's own timeouts.
    """

    def __init__(
        self,
        client: Redis,
        *,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        timeout: float = DEFAULT_STORE_TIMEOUT,
    ) -> None:
        redis = require_redis()
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.client = client
        self.key_prefix = key_prefix
        self.timeout = timeout
        self._script = client.register_script(GCRA_SCRIPT)
        self._errors: tuple[type[BaseException], ...] = (
            redis.exceptions.RedisError,
            OSError,
            TimeoutError,
        )

    @classmethod
    def from_settings(
        cls,
        settings: RedisSettings,
        *,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        timeout: float = DEFAULT_STORE_TIMEOUT,
    ) -> RedisRateLimitStore:
        """A store on a new client made by `create_redis_client(settings)`."""
        return cls(create_redis_client(settings), key_prefix=key_prefix, timeout=timeout)

    def __repr__(self) -> str:
        return f"RedisRateLimitStore(key_prefix={self.key_prefix!r}, timeout={self.timeout})"

    def key(self, subject: str, policy: RateLimit) -> str:
        """The Redis key of one (subject, policy) pair."""
        return f"{self.key_prefix}:{{{subject}}}:{policy.key}"

    async def hit(
        self, subject: str, policies: Sequence[RateLimit], *, cost: int = 1
    ) -> RateLimitResult:
        args: list[int] = [cost]
        for policy in policies:
            args += (policy.interval_us, policy.period_us)
        keys = [self.key(subject, policy) for policy in policies]
        try:
            async with asyncio.timeout(self.timeout):
                raw: Any = await self._script(keys=keys, args=args)
        except self._errors as exc:
            raise RateLimitStoreError(f"Redis did not decide: {type(exc).__name__}") from exc
        allowed = raw[0] == 1
        decisions = []
        for index, policy in enumerate(policies):
            remaining, reset_us, retry_us = raw[1 + 3 * index : 4 + 3 * index]
            admitted = allowed or retry_us == 0
            decisions.append(
                RateLimitDecision(policy, admitted, int(remaining), reset_us / 1e6, retry_us / 1e6)
            )
        return RateLimitResult(allowed, tuple(decisions))

    async def ping(self) -> None:
        try:
            async with asyncio.timeout(self.timeout):
                await self.client.ping()
        except self._errors as exc:
            raise RateLimitStoreError(f"Redis did not answer: {type(exc).__name__}") from exc

    async def aclose(self) -> None:
        await self.client.aclose()
