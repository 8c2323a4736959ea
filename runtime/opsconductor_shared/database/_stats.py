"""`PoolStats`: what the pool reports, for metrics and readiness; `PoolMetrics`, its Prometheus
gauges (`db_pool_size`, `db_pool_in_use`, `db_pool_waiting`, the error counts, ...), read from
the pool whenever `/metrics` is scraped; `pool_figures`, the same counts by the same names
without the `db_pool_` prefix, the database check's `details` in readiness."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["PoolMetrics", "PoolStats", "pool_figures", "pool_stats"]


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


# Gauge name, help, and the `PoolStats` value it shows; readiness shows the same values.
_GAUGES: tuple[tuple[str, str, Callable[[PoolStats], int]], ...] = (
    ("db_pool_size", "Connections the database pool holds.", lambda s: s.size),
    ("db_pool_max_size", "Connections the database pool may hold.", lambda s: s.max_size),
    ("db_pool_in_use", "Pool connections lent out now.", lambda s: s.size - s.available),
    ("db_pool_available", "Pool connections idle now.", lambda s: s.available),
    ("db_pool_waiting", "Requests waiting for a pool connection now.", lambda s: s.waiting),
    (
        "db_pool_request_errors",
        "Requests for a pool connection that failed (timed out), since the pool opened.",
        lambda s: s.requests_errors,
    ),
    (
        "db_pool_connection_errors",
        "Connection attempts to PostgreSQL that failed, since the pool opened.",
        lambda s: s.connections_errors,
    ),
    (
        "db_pool_connections_lost",
        "Pool connections found broken, since the pool opened.",
        lambda s: s.connections_lost,
    ),
)


_PREFIX = "db_pool_"


def pool_figures(stats: PoolStats) -> dict[str, int]:
    """The gauges' values by name without the `db_pool_` prefix (`size`, `in_use`, `waiting`,
    `request_errors`, ...): what readiness reports of the pool."""
    return {name.removeprefix(_PREFIX): value(stats) for name, _, value in _GAUGES}


class PoolMetrics:
    """A Prometheus collector of a pool's gauges, labelled by `service`.

    Register it on the registry the HTTP metrics use (`install_database` does); each scrape
    reads `stats()` once, so the numbers are the pool's at that moment.

    Args:
        stats: the pool's stats (`Database.stats`).
        service: value of the `service` label.
    """

    def __init__(self, stats: Callable[[], PoolStats], *, service: str) -> None:
        from prometheus_client.core import GaugeMetricFamily  # noqa: PLC0415 - optional

        self._family = GaugeMetricFamily
        self._stats = stats
        self._service = service

    def describe(self) -> Iterator[Any]:
        for name, documentation, _ in _GAUGES:
            yield self._family(name, documentation, labels=["service"])

    def collect(self) -> Iterator[Any]:
        stats = self._stats()
        for name, documentation, value in _GAUGES:
            family = self._family(name, documentation, labels=["service"])
            family.add_metric([self._service], value(stats))
            yield family
