"""`PoolStats`: what the pool reports, for metrics and readiness."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

__all__ = ["PoolStats", "pool_stats"]


@dataclass(frozen=True, slots=True)
class PoolStats:
    """A snapshot of the pool: sizes now, and counters since it opened."""

    min_size: int
    max_size: int
    size: int
    available: int
    waiting: int
    requests: int
    requests_queued: int
    requests_errors: int
    requests_wait_ms: int
    usage_ms: int
    connections: int
    connections_errors: int
    connections_lost: int
    returns_bad: int
    checks_failed: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def pool_stats(raw: Mapping[str, int], *, checks_failed: int = 0) -> PoolStats:
    """`PoolStats` from psycopg_pool's `get_stats()` (whose counters appear once non-zero)."""
    return PoolStats(
        min_size=raw.get("pool_min", 0),
        max_size=raw.get("pool_max", 0),
        size=raw.get("pool_size", 0),
        available=raw.get("pool_available", 0),
        waiting=raw.get("requests_waiting", 0),
        requests=raw.get("requests_num", 0),
        requests_queued=raw.get("requests_queued", 0),
        requests_errors=raw.get("requests_errors", 0),
        requests_wait_ms=raw.get("requests_wait_ms", 0),
        usage_ms=raw.get("usage_ms", 0),
        connections=raw.get("connections_num", 0),
        connections_errors=raw.get("connections_errors", 0),
        connections_lost=raw.get("connections_lost", 0),
        returns_bad=raw.get("returns_bad", 0),
        checks_failed=checks_failed,
    )
