"""`TokenCache`: verified tokens (and recent rejections) by the SHA-256 of the token.

Bounded in entries (least recently used go first) and in time: every entry carries its own
expiry, in seconds since the epoch, so a verified token's entry can end at the token's `exp`
and never later. Keys are digests, so the cache never holds a bearer token itself.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import TypeVar

from .._cache import TTLCache

__all__ = [
    "TokenCache",
    "token_digest",
]

V = TypeVar("V")


def token_digest(token: str) -> bytes:
    """The cache key of a token: its SHA-256."""
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()


class TokenCache(TTLCache[bytes, V]):
    """A `TTLCache` from token digests to values, on the wall clock (a verified token's entry
    ends at its `exp`, which is wall-clock time).

    Args:
        max_entries: entries kept at most; 0 turns the cache off.
        clock: wall-clock seconds since the epoch (tests pass a fake one).
    """

    def __init__(self, max_entries: int, *, clock: Callable[[], float] = time.time) -> None:
        super().__init__(max_entries, clock=clock)

    def __repr__(self) -> str:
        return f"TokenCache(entries={len(self)}, max_entries={self.max_entries})"
