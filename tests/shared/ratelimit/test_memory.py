"""`MemoryRateLimitStore`: bounded memory, eviction order, and exactness under concurrency."""

from __future__ import annotations

import asyncio
import threading

import pytest
from opsconductor_shared.ratelimit import MemoryRateLimitStore, RateLimit
from structlog.testing import capture_logs

from .conftest import FakeClock

POLICY = RateLimit(5, 60)


def test_memory_is_bounded_by_max_keys(clock: FakeClock) -> None:
    store = MemoryRateLimitStore(max_keys=100, clock=clock)
    for client in range(10_000):
        store.hit_now(f"ip:{client}", [POLICY])
        assert len(store) <= 100
    assert len(store) == 100


def test_least_recently_used_keys_go_first(clock: FakeClock) -> None:
    store = MemoryRateLimitStore(max_keys=3, clock=clock)
    for _ in range(5):
        store.hit_now("hot", [POLICY])  # used up
    for client in ("a", "b"):
        store.hit_now(client, [POLICY])
    store.hit_now("hot", [POLICY])  # touched, also when refused: stays
    store.hit_now("c", [POLICY])  # evicts "a", the least recently used
    assert not store.hit_now("hot", [POLICY]).allowed
    assert store.evicted_live == 1


def test_live_evictions_are_counted_and_logged(clock: FakeClock) -> None:
    store = MemoryRateLimitStore(max_keys=1, clock=clock)
    with capture_logs() as logs:
        for client in range(9):
            store.hit_now(str(client), [POLICY])
    assert store.evicted_live == 8
    evicted = [log["evicted"] for log in logs if log["event"] == "rate_limit_keys_evicted"]
    assert evicted == [1, 2, 4, 8]  # logged at powers of two, not on every request


def test_expired_keys_drain_without_pressure(clock: FakeClock) -> None:
    store = MemoryRateLimitStore(max_keys=1000, clock=clock)
    for client in range(50):
        store.hit_now(str(client), [POLICY])
    clock.advance(61)  # every timestamp is now in the past: the same as no key
    for _ in range(30):
        store.hit_now("active", [POLICY])
    assert len(store) < 50
    assert store.evicted_live == 0


def test_a_key_evicted_after_expiry_loses_nothing(clock: FakeClock) -> None:
    store = MemoryRateLimitStore(max_keys=1, clock=clock)
    for _ in range(5):
        store.hit_now("a", [POLICY])
    clock.advance(61)
    store.hit_now("b", [POLICY])
    assert store.evicted_live == 0


def test_max_keys_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        MemoryRateLimitStore(max_keys=0)


@pytest.mark.anyio
async def test_exactly_limit_under_concurrent_tasks() -> None:
    store = MemoryRateLimitStore()
    policy = RateLimit(37, 3600)

    async def client() -> bool:
        await asyncio.sleep(0)
        return (await store.hit("shared", [policy])).allowed

    results = await asyncio.gather(*(client() for _ in range(500)))
    assert sum(results) == 37


def test_exactly_limit_under_concurrent_threads() -> None:
    store = MemoryRateLimitStore()
    policy = RateLimit(1000, 3600)
    admitted = [0] * 8
    start = threading.Barrier(8)

    def worker(index: int) -> None:
        start.wait()
        for _ in range(500):
            if store.hit_now("shared", [policy]).allowed:
                admitted[index] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(admitted) == 1000


@pytest.mark.anyio
async def test_exactly_limit_under_concurrent_event_loops_in_threads() -> None:
    store = MemoryRateLimitStore()
    policy = RateLimit(250, 3600)
    admitted: list[int] = []
    lock = threading.Lock()

    def loop_worker() -> None:
        async def run() -> int:
            results = await asyncio.gather(*(store.hit("s", [policy]) for _ in range(200)))
            return sum(r.allowed for r in results)

        count = asyncio.run(run())
        with lock:
            admitted.append(count)

    threads = [threading.Thread(target=loop_worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(admitted) == 250
