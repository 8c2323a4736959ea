"""`TokenCache`: verified tokens (and recent rejections) by the SHA-256 of the token.

Bounded in entries (least recently used go first) and in time: every entry carries its own
expiry, in seconds since the epoch, so a verified token's entry can end at the token's `exp`
and never later. Keys are digests, so the cache never holds a bearer token itself.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = [
    "TokenCache",
    "token_digest",
]

V = TypeVar("V")


def token_digest(token: str) -> bytes:
    """The cache key of a token: its SHA-256."""
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()


class TokenCache(Generic[V]):
    """A bounded LRU map from token digests to values that expire one by one.

    Args:
        max_entries: entries kept at most; 0 turns the cache off.
        clock: wall-clock seconds since the epoch (tests pass a fake one).
    """

    def __init__(self, max_entries: int, *, clock: Callable[[], float] = time.time) -> None:
        if max_entries < 0:
            raise ValueError(f"max_entries cannot be negative, not {max_entries}")
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[bytes, tuple[float, V]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"TokenCache(entries={len(self._entries)}, max_entries={self.max_entries})"

    def get(self, key: bytes) -> V | None:
        """The live value of `key`, or None (an expired entry is dropped)."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def put(self, key: bytes, value: V, *, expires_at: float) -> None:
        """Keep `value` under `key` until `expires_at` (seconds since the epoch)."""
        if self.max_entries == 0 or expires_at <= self._clock():
            return
        self._entries[key] = (expires_at, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def discard(self, key: bytes) -> None:
        """Forget `key`."""
        self._entries.pop(key, None)

    def clear(self) -> None:
        """Forget everything."""
        self._entries.clear()

    def now(self) -> float:
        """The cache's clock."""
        return self._clock()
