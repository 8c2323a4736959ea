"""Rate-limit benchmarks: the cost of a check in memory and in Redis, and of the middleware.

Baseline and contender run interleaved, round after round, and each row reports the medians.
Redis round trips are counted on the client side, by a connection class that counts what it
sends (the shared server's INFO commandstats would count other clients too).

    python bench/bench_ratelimit.py [--quick]      # prints the rows as JSON
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import statistics
import sys
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

try:
    from bench.common import interleaved_calls
    from bench.common import row as common_row
except ImportError:  # run as a script
    from common import interleaved_calls  # type: ignore[no-redef]
    from common import row as common_row  # type: ignore[no-redef]

import redis.asyncio
from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from opsconductor_shared import ServiceSettings, create_service_app, setup_service_logging
from opsconductor_shared.ratelimit import (
    MemoryRateLimitStore,
    RateLimit,
    RateLimitSettings,
    RedisRateLimitStore,
    install_rate_limiting,
)

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
GROUP = "ratelimit"


row = functools.partial(common_row, GROUP)


class CountingConnection(redis.asyncio.Connection):
    """Counts every command (or pipeline) it sends: one round trip each."""

    sent = 0

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        CountingConnection.sent += 1
        await super().send_packed_command(command, check_health)


def counting_client() -> Any:
    pool = redis.asyncio.BlockingConnectionPool.from_url(
        REDIS_URL, connection_class=CountingConnection, max_connections=1
    )
    return redis.asyncio.Redis.from_pool(pool)


async def memory_rows(quick: bool) -> list[dict[str, Any]]:
    rounds, count = (3, 20_000) if quick else (7, 100_000)
    ours = MemoryRateLimitStore()
    policy = [RateLimit(1_000_000, 3600)]
    theirs = MovingWindowRateLimiter(MemoryStorage())
    item = RateLimitItemPerMinute(1_000_000)

    async def ours_check(n: int) -> Any:
        return await ours.hit(f"ip:10.0.0.{n % 100}", policy)

    async def theirs_check(n: int) -> Any:
        return await theirs.hit(item, f"ip:10.0.0.{n % 100}")

    base, cont = await interleaved_calls(theirs_check, ours_check, rounds=rounds, count=count)
    rows = [
        row(
            "memory check",
            "limits 5 MovingWindowRateLimiter.hit, async MemoryStorage (100 clients)",
            "MemoryRateLimitStore.hit, GCRA (100 clients)",
            base,
            cont,
            "µs",
            "contender under 5 µs per check",
            cont < 5.0,
            "limits keeps one timestamp per admitted request per key and has no bound on keys; "
            "ours keeps one integer per key under max_keys",
        )
    ]

    bounded = MemoryRateLimitStore(max_keys=50_000)
    slow = [RateLimit(10, 3600)]  # keys stay live for an hour: only eviction frees room
    for n in range(50_000):
        bounded.hit_now(f"fill:{n}", slow)
    seen = iter(range(10**9))

    async def churn_check(_: int) -> Any:
        return await bounded.hit(f"ip:{next(seen)}", slow)  # every check a new client: evicts

    base, cont = await interleaved_calls(ours_check, churn_check, rounds=rounds, count=count)
    rows.append(
        row(
            "memory check under eviction",
            "MemoryRateLimitStore.hit, 100 known clients",
            "MemoryRateLimitStore.hit, a new client each check, max_keys=50000 full",
            base,
            cont,
            "µs",
            "contender under 5 µs per check",
            cont < 5.0,
            f"store size stays {len(bounded)}; {bounded.evicted_live} live keys evicted",
        )
    )
    return rows


async def redis_rows(quick: bool) -> list[dict[str, Any]]:
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    rounds, count = (3, 500) if quick else (7, 2000)
    ours_client = counting_client()
    theirs_client_pool = redis.asyncio.BlockingConnectionPool.from_url(
        REDIS_URL, connection_class=CountingConnection, max_connections=1
    )
    ours = RedisRateLimitStore(ours_client, key_prefix=prefix)
    policies = [RateLimit(1_000_000, 3600)]
    theirs = MovingWindowRateLimiter(
        RedisStorage(
            REDIS_URL.replace("redis://", "async+redis://"),
            implementation="redispy",
            key_prefix=f"{prefix}-limits",
            connection_pool=theirs_client_pool,
        )
    )
    item = RateLimitItemPerMinute(1_000)
    try:
        await ours.hit("warm", policies)
        await theirs.hit(item, "warm")
        await theirs.get_window_stats(item, "warm")

        ours_trips, theirs_trips = [], []
        for _ in range(rounds):
            before = CountingConnection.sent
            for n in range(100):
                await theirs.hit(item, f"c{n % 10}")
                await theirs.get_window_stats(item, f"c{n % 10}")  # what the headers need
            theirs_trips.append((CountingConnection.sent - before) / 100)
            before = CountingConnection.sent
            for n in range(100):
                await ours.hit(f"c{n % 10}", policies)
            ours_trips.append((CountingConnection.sent - before) / 100)
        base, cont = statistics.median(theirs_trips), statistics.median(ours_trips)
        rows = [
            row(
                "redis round trips per check",
                "limits 5 MovingWindowRateLimiter: hit + get_window_stats (for the headers)",
                "RedisRateLimitStore.hit (decision and header numbers in one script)",
                base,
                cont,
                "round trips",
                "1 round trip per check",
                cont == 1.0,
                "counted by a client-side connection that counts each command sent",
            )
        ]

        async def ping(_: int) -> Any:
            return await ours_client.ping()

        async def check(n: int) -> Any:
            return await ours.hit(f"c{n % 10}", policies)

        base, cont = await interleaved_calls(ping, check, rounds=rounds, count=count)
        rows.append(
            row(
                "redis check latency",
                "PING on the same connection (one bare round trip)",
                "RedisRateLimitStore.hit (EVALSHA of the GCRA script)",
                base,
                cont,
                "µs",
                "about one round trip: within 2x of a PING",
                cont <= 2 * base,
                "loopback Redis; the script's own work is the difference",
            )
        )
        return rows
    finally:
        keys = [key async for key in ours_client.scan_iter(match=f"{prefix}*")]
        if keys:
            await ours_client.delete(*keys)
        await ours_client.aclose()
        await theirs_client_pool.aclose()


async def middleware_rows(quick: bool) -> list[dict[str, Any]]:
    rounds, count = (3, 2000) if quick else (7, 10_000)

    def app(limited: bool) -> Any:
        service = create_service_app(
            "bench", "1.0.0", ServiceSettings.for_service("bench"), configure_logging=False
        )
        if limited:
            install_rate_limiting(service, RateLimitSettings(default_limit="1000000/hour"))

        @service.get("/ping")
        async def ping() -> dict[str, str]:
            return {"ok": "yes"}

        return service

    plain, limited = app(False), app(True)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_: Any) -> None:
        return None

    def call(target: Any) -> Callable[[int], Awaitable[Any]]:
        async def request(_: int) -> Any:
            scope = {
                "type": "http",
                "asgi": {"version": "3.0"},
                "http_version": "1.1",
                "method": "GET",
                "scheme": "http",
                "path": "/ping",
                "raw_path": b"/ping",
                "query_string": b"",
                "root_path": "",
                "headers": [(b"host", b"bench")],
                "client": ("127.0.0.1", 50000),
                "server": ("bench", 80),
                "state": {},
            }
            return await target(scope, receive, send)

        return request

    base, cont = await interleaved_calls(call(plain), call(limited), rounds=rounds, count=count)
    return [
        row(
            "middleware per request",
            "create_service_app, GET /ping, called as ASGI (whole middleware stack)",
            "the same with install_rate_limiting (memory store, headers on)",
            base,
            cont,
            "µs",
            "informational: under 20 µs added per request",
            cont - base < 20,
            f"added: {cont - base:.1f} µs per request",
        )
    ]


def run(quick: bool) -> list[dict[str, Any]]:
    """Every rate-limit benchmark row (see the module docstring)."""

    # Logs (access lines, eviction warnings) would cost more than what is measured, and
    # stdout carries the rows.
    setup_service_logging("bench", level="CRITICAL", stream=open(os.devnull, "w"))  # noqa: SIM115

    async def main() -> list[dict[str, Any]]:
        rows = await memory_rows(quick)
        probe = redis.asyncio.Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
        try:
            await probe.ping()
        except (redis.RedisError, OSError) as exc:
            rows.append(
                row("redis", "-", "-", 0.0, 0.0, "round trips", "Redis reachable", False, str(exc))
            )
        else:
            rows += await redis_rows(quick)
        finally:
            await probe.aclose()
        rows += await middleware_rows(quick)
        return rows

    return asyncio.run(main())


if __name__ == "__main__":
    print(json.dumps(run("--quick" in sys.argv[1:]), indent=2, ensure_ascii=False))
