"""Where idempotency keys live: the store interface, its outcomes, and the in-memory store.

A key goes through two states. `claim` makes it *in flight* (for `lock_ttl` seconds at most,
so a crashed replica's claim ends by itself) unless it exists; `complete` replaces the claim
with the stored response (for `ttl` seconds); `release` drops a claim whose request produced
nothing worth replaying (a 5xx, an exception), so a retry runs it again. Only the holder of a
claim, named by its random token, may complete or release it.

    claim(key, fingerprint)   -> Claimed(token)            the request runs
                              -> InFlight(fingerprint)     another one with this key runs
                              -> StoredResponse(...)       it ran: replay, or 422 if different
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import orjson

from .._cache import TTLCache

__all__ = [
    "ClaimOutcome",
    "Claimed",
    "DEFAULT_MAX_ENTRIES",
    "IdempotencyStore",
    "InFlight",
    "MemoryIdempotencyStore",
    "RecordingIdempotencyStore",
    "StoredResponse",
    "decode_entry",
    "encode_in_flight",
    "new_token",
]

DEFAULT_MAX_ENTRIES = 10_000


@dataclass(frozen=True, slots=True)
class Claimed:
    """The key is ours: run the request, then `complete` or `release` with `token`."""

    token: str


@dataclass(frozen=True, slots=True)
class InFlight:
    """Another request with this key is running."""

    fingerprint: str


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """The response of the request that ran with this key."""

    fingerprint: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def encode(self) -> bytes:
        return orjson.dumps(
            {
                "state": "done",
                "fp": self.fingerprint,
                "status": self.status,
                "headers": self.headers,
                "body": base64.b64encode(self.body).decode(),
            }
        )


ClaimOutcome = Claimed | InFlight | StoredResponse


def new_token() -> str:
    return secrets.token_hex(16)


def encode_in_flight(fingerprint: str, token: str) -> bytes:
    return orjson.dumps({"state": "inflight", "fp": fingerprint, "token": token})


def decode_entry(raw: bytes) -> tuple[InFlight, str] | StoredResponse:
    """An entry as stored: an in-flight claim with its token, or a stored response.

    Raises:
        ValueError: the entry is not one this module wrote.
    """
    data = orjson.loads(raw)
    if data["state"] == "inflight":
        return InFlight(data["fp"]), data["token"]
    return StoredResponse(
        data["fp"],
        int(data["status"]),
        tuple((str(name), str(value)) for name, value in data["headers"]),
        base64.b64decode(data["body"]),
    )


@runtime_checkable
class IdempotencyStore(Protocol):
    """Idempotency keys and their responses (see the module docstring). Raising any
    `Exception` means the store cannot decide; the request is then refused with 503."""

    async def claim(self, key: str, fingerprint: str, *, lock_ttl: float) -> ClaimOutcome: ...

    async def complete(
        self, key: str, token: str, response: StoredResponse, *, ttl: float
    ) -> None: ...

    async def release(self, key: str, token: str) -> None: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class RecordingIdempotencyStore(IdempotencyStore, Protocol):
    """A store that can write a stored response inside the route's own transaction
    (`IdempotencyKey.record`), such as `PostgresIdempotencyStore`; `conn` is the route's
    connection. It raises when the claim is no longer `token`'s, so the route's write rolls
    back."""

    async def record(
        self, conn: Any, key: str, token: str, response: StoredResponse, *, ttl: float
    ) -> None: ...


class MemoryIdempotencyStore:
    """The embedded store: this process only, at most `max_entries` keys (least recently
    used go first), each expiring on its own.

    Args:
        max_entries: the bound on memory.
        clock: monotonic seconds (tests pass a fake one).
    """

    def __init__(
        self, *, max_entries: int = DEFAULT_MAX_ENTRIES, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._entries: TTLCache[str, tuple[InFlight, str] | StoredResponse] = TTLCache(
            max_entries, clock=clock
        )

    def __repr__(self) -> str:
        return f"MemoryIdempotencyStore(entries={len(self._entries)})"

    def __len__(self) -> int:
        return len(self._entries)

    async def claim(self, key: str, fingerprint: str, *, lock_ttl: float) -> ClaimOutcome:
        found = self._entries.get(key)
        if isinstance(found, StoredResponse):
            return found
        if found is not None:
            return found[0]
        token = new_token()
        self._entries.put(
            key, (InFlight(fingerprint), token), expires_at=self._entries.now() + lock_ttl
        )
        return Claimed(token)

    async def complete(self, key: str, token: str, response: StoredResponse, *, ttl: float) -> None:
        found = self._entries.get(key)
        if isinstance(found, tuple) and found[1] == token:
            self._entries.put(key, response, expires_at=self._entries.now() + ttl)

    async def release(self, key: str, token: str) -> None:
        found = self._entries.get(key)
        if isinstance(found, tuple) and found[1] == token:
            self._entries.discard(key)

    async def aclose(self) -> None:
        return None
