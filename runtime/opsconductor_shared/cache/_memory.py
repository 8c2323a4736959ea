"""The cache interface, and its embedded implementation.

`Cache` is what a component that wants a shared cache asks for: bytes under a string key,
each with its own time to live. The embedded default, `MemoryCache`, keeps them in this
process (bounded, least recently used out first); `RedisCache` keeps them in Redis, shared by
every replica. A cache is an optimisation: an unreachable Redis reads as a miss.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol, runtime_checkable

__all__ = ["Cache", "DEFAULT_MAX_ENTRIES", "MemoryCache"]

DEFAULT_MAX_ENTRIES = 10_000


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
    """A `Cache` in this process: at most `max_entries`, least recently used out first.

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
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"MemoryCache(max_entries={self.max_entries}, size={len(self._entries)})"

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: str) -> bytes | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= self._clock():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry[1]

    async def set(self, key: str, value: bytes, *, ttl: float) -> None:
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        with self._lock:
            self._entries[key] = (self._clock() + ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    async def delete(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)
