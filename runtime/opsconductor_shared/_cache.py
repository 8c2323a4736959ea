"""Caches: one bounded TTL-LRU map, and the async `Cache` interface for shared caches.

`TTLCache` is the one in-process implementation: at most `max_entries` (the least recently used
go first), each entry with its own expiry on the cache's clock. The auth verifier keeps its
verified tokens in one, and `MemoryCache` is one behind the `Cache` interface.

`Cache` is what a component that wants a cache shared by a service's replicas asks for: bytes
under a string key, each with its own time to live (async `get` / `set(ttl=)` / `delete`).
`MemoryCache` is the embedded default, `RedisCache` the shared one (failures read as misses:
a cache is an optimisation). The auth verifier's shared cache is meant to be a `Cache`.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar, runtime_checkable

from ._health import DependencyState
from ._redis import require_redis

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["Cache", "DEFAULT_MAX_ENTRIES", "MemoryCache", "RedisCache", "TTLCache"]

DEFAULT_MAX_ENTRIES = 10_000
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TTLCache(Generic[K, V]):
    """A bounded LRU map whose entries expire one by one.

    Args:
        max_entries: entries kept at most; 0 turns the cache off.
        clock: the clock expiries are on (default: monotonic seconds; tests pass a fake).
    """

    def __init__(self, max_entries: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        if max_entries < 0:
            raise ValueError(f"max_entries cannot be negative, not {max_entries}")
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"TTLCache(entries={len(self._entries)}, max_entries={self.max_entries})"

    def get(self, key: K) -> V | None:
        """The live value of `key`, or None (an expired entry is dropped)."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def put(self, key: K, value: V, *, expires_at: float) -> None:
        """Keep `value` under `key` until `expires_at` (on the cache's clock)."""
        if self.max_entries == 0 or expires_at <= self._clock():
            return
        self._entries[key] = (expires_at, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def discard(self, key: K) -> None:
        """Forget `key`."""
        self._entries.pop(key, None)

    def clear(self) -> None:
        """Forget everything."""
        self._entries.clear()

    def now(self) -> float:
        """The cache's clock."""
        return self._clock()


@runtime_checkable
class Cache(Protocol):
    """Bytes under string keys, each with a time to live in seconds."""

    async def get(self, key: str) -> bytes | None:
        """The value, or None when it is absent, expired or the cache is unreachable."""
        ...

    async def set(self, key: str, value: bytes, *, ttl: float) -> None:
        """Store `value` for `ttl` seconds (a best effort: a failure is logged, not raised)."""
        ...

    async def delete(self, key: str) -> None:
        """Forget `key` (a best effort)."""
        ...


class MemoryCache:
    """A `Cache` in this process: a `TTLCache` of at most `max_entries`.

    Args:
        max_entries: the bound on memory; the least recently used entry goes first.
        clock: monotonic seconds (tests pass a fake).
    """

    def __init__(
        self,
        *,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self._entries: TTLCache[str, bytes] = TTLCache(max_entries, clock=clock)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"MemoryCache(max_entries={self.max_entries}, size={len(self._entries)})"

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: str) -> bytes | None:
        with self._lock:
            return self._entries.get(key)

    async def set(self, key: str, value: bytes, *, ttl: float) -> None:
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        with self._lock:
            self._entries.put(key, value, expires_at=self._entries.now() + ttl)

    async def delete(self, key: str) -> None:
        with self._lock:
            self._entries.discard(key)


class RedisCache:
    """A `Cache` in Redis, shared by every replica; failures read as misses.

    An outage is logged once per state change (`dependency_down`, a reminder at most every
    minute, `dependency_up`) by its `DependencyState`, never once per call.

    Args:
        client: from `create_redis_client` (or any `redis.asyncio.Redis`).
        key_prefix: put before every key, so caches of different purposes never collide.
        state: the outage state to report to; default: a new one named `redis-cache`.
    """

    def __init__(
        self, client: Redis, *, key_prefix: str = "cache", state: DependencyState | None = None
    ) -> None:
        redis = require_redis()
        self.client = client
        self.key_prefix = key_prefix
        self.state = state or DependencyState(
            "redis-cache", effect="cache reads are misses until it is back"
        )
        self._errors: tuple[type[BaseException], ...] = (
            redis.exceptions.RedisError,
            OSError,
            TimeoutError,
        )

    def __repr__(self) -> str:
        return f"RedisCache(key_prefix={self.key_prefix!r})"

    def _key(self, key: str) -> str:
        return f"{self.key_prefix}:{key}"

    async def get(self, key: str) -> bytes | None:
        try:
            value = await self.client.get(self._key(key))
        except self._errors as exc:
            self.state.failed(exc)
            return None
        self.state.succeeded()
        return value if isinstance(value, bytes) or value is None else str(value).encode()

    async def set(self, key: str, value: bytes, *, ttl: float) -> None:
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        try:
            await self.client.set(self._key(key), value, px=max(1, math.ceil(ttl * 1000)))
        except self._errors as exc:
            self.state.failed(exc)
            return
        self.state.succeeded()

    async def delete(self, key: str) -> None:
        try:
            await self.client.delete(self._key(key))
        except self._errors as exc:
            self.state.failed(exc)
            return
        self.state.succeeded()
