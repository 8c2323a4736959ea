"""`RedisIdempotencyStore`: idempotency keys shared by every replica of a service.

A claim is one `SET key value NX PX lock_ttl`: atomic, so of two replicas receiving the same
key at once exactly one runs the request. Completing and releasing compare the claim's token
first, in one Lua script each, so a replica whose claim expired cannot overwrite another's.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .._redis import RedisSettings, create_redis_client
from ._store import (
    Claimed,
    ClaimOutcome,
    StoredResponse,
    decode_entry,
    encode_in_flight,
    new_token,
)

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["DEFAULT_KEY_PREFIX", "RedisIdempotencyStore"]

DEFAULT_KEY_PREFIX = "idempotency"
_CLAIM_ATTEMPTS = 3
# KEYS[1] the key; ARGV[1] the claim's token; ARGV[2] the new value; ARGV[3] its ttl in ms.
_COMPLETE = """
local current = redis.call('GET', KEYS[1])
if current and cjson.decode(current)['token'] == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
"""
_RELEASE = """
local current = redis.call('GET', KEYS[1])
if current and cjson.decode(current)['token'] == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def _ms(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))


class RedisIdempotencyStore:
    """See the module docstring.

    Args:
        client: from `create_redis_client` (or any `redis.asyncio.Redis`).
        key_prefix: put before every key.
        owns_client: close the client with the store.
    """

    def __init__(
        self, client: Redis, *, key_prefix: str = DEFAULT_KEY_PREFIX, owns_client: bool = False
    ) -> None:
        self.client = client
        self.key_prefix = key_prefix
        self._owns_client = owns_client

    @classmethod
    def from_settings(
        cls, settings: RedisSettings, *, key_prefix: str = DEFAULT_KEY_PREFIX
    ) -> RedisIdempotencyStore:
        return cls(create_redis_client(settings), key_prefix=key_prefix, owns_client=True)

    def __repr__(self) -> str:
        return f"RedisIdempotencyStore(key_prefix={self.key_prefix!r})"

    def _key(self, key: str) -> str:
        return f"{self.key_prefix}:{key}"

    async def claim(self, key: str, fingerprint: str, *, lock_ttl: float) -> ClaimOutcome:
        name = self._key(key)
        for _ in range(_CLAIM_ATTEMPTS):
            token = new_token()
            if await self.client.set(
                name, encode_in_flight(fingerprint, token), nx=True, px=_ms(lock_ttl)
            ):
                return Claimed(token)
            raw: Any = await self.client.get(name)
            if raw is None:
                continue  # it expired or was released between the two calls
            entry = decode_entry(raw if isinstance(raw, bytes) else str(raw).encode())
            return entry if isinstance(entry, StoredResponse) else entry[0]
        raise RuntimeError("the idempotency key changed state on every attempt")

    async def complete(self, key: str, token: str, response: StoredResponse, *, ttl: float) -> None:
        await self.client.eval(_COMPLETE, 1, self._key(key), token, response.encode(), _ms(ttl))

    async def release(self, key: str, token: str) -> None:
        await self.client.eval(_RELEASE, 1, self._key(key), token)

    async def aclose(self) -> None:
        if self._owns_client:
            await self.client.aclose()
