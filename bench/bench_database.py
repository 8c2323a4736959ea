"""Database benchmarks: what the pool costs per request, and how fast it gets past dead connections.

Baseline and contender run interleaved, round after round, and each row reports the medians.

    python bench/bench_database.py [--quick]       # prints the rows as JSON
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import statistics
import sys
import time
import uuid
from typing import Any

try:
    from bench.common import interleaved_calls
    from bench.common import row as common_row
except ImportError:  # run as a script
    from common import interleaved_calls  # type: ignore[no-redef]
    from common import row as common_row  # type: ignore[no-redef]

import psycopg
from opsconductor_shared import setup_service_logging
from opsconductor_shared.database import Database, DatabaseSettings
from psycopg_pool import AsyncConnectionPool
from pydantic import SecretStr

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
GROUP = "database"


row = functools.partial(common_row, GROUP)


def settings(**update: Any) -> DatabaseSettings:
    values: dict[str, Any] = {
        "dsn": SecretStr(DATABASE_URL),
        "min_size": 4,
        "max_size": 4,
        "open_wait": True,
        "application_name": f"bench_{uuid.uuid4().hex[:8]}",
    }
    return DatabaseSettings(**(values | update))


async def overhead_rows(quick: bool) -> list[dict[str, Any]]:
    rounds, count = (5, 1000) if quick else (9, 5000)
    rows = []
    async with await psycopg.AsyncConnection.connect(DATABASE_URL, autocommit=True) as dedicated:

        async def direct() -> Any:
            cursor = await dedicated.execute("SELECT 1")
            return await cursor.fetchone()

        for check in ("fast", "full"):
            async with Database(settings(check=check)) as db:

                async def pooled(db: Database = db) -> Any:
                    async with db.connection() as conn:
                        cursor = await conn.execute("SELECT 1")
                        return await cursor.fetchone()

                base, cont = await interleaved_calls(
                    lambda _: direct(), lambda _: pooled(), rounds=rounds, count=count
                )
            ratio = cont / base
            notes = (
                "the check is a poll() of the socket; the round-trip check runs only when the "
                "socket has news"
                if check == "fast"
                else "psycopg's check_connection on every acquisition: one more round trip "
                "per request, so about 2x by construction"
            )
            rows.append(
                row(
                    f"acquire + SELECT 1 + release, warm pool, check={check}",
                    "SELECT 1 on a dedicated psycopg AsyncConnection (autocommit)",
                    f"Database.connection() (check={check}) + SELECT 1",
                    base,
                    cont,
                    "µs",
                    # The target is the default pool's; check=full adds a round trip on purpose.
                    "contender within 1.5x of baseline" if check == "fast" else "informational",
                    (ratio <= 1.5) if check == "fast" else None,
                    notes,
                )
            )

        pool = AsyncConnectionPool(
            DATABASE_URL, min_size=4, max_size=4, open=False, kwargs={"autocommit": True}
        )
        await pool.open(wait=True)
        try:

            async def raw_pool() -> Any:
                async with pool.connection() as conn:
                    cursor = await conn.execute("SELECT 1")
                    return await cursor.fetchone()

            base, cont = await interleaved_calls(
                lambda _: direct(), lambda _: raw_pool(), rounds=rounds, count=count
            )
        finally:
            await pool.close()
        rows.append(
            row(
                "acquire + SELECT 1 + release, psycopg_pool alone (no check)",
                "SELECT 1 on a dedicated psycopg AsyncConnection (autocommit)",
                "AsyncConnectionPool.connection() + SELECT 1, no check",
                base,
                cont,
                "µs",
                "informational: the pool's own cost",
                True,
                "what check=fast adds on top of this is the poll() and our wrapper",
            )
        )
    return rows


async def terminate(application_name: str) -> int:
    async with await psycopg.AsyncConnection.connect(DATABASE_URL, autocommit=True) as admin:
        cursor = await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            [application_name],
        )
        return len(await cursor.fetchall())


async def recovery_rows(quick: bool) -> list[dict[str, Any]]:
    rounds = 1 if quick else 3
    base_times, cont_times = [], []
    for _ in range(rounds):
        name = f"bench_{uuid.uuid4().hex[:8]}"
        pool = AsyncConnectionPool(
            DATABASE_URL,
            min_size=4,
            max_size=4,
            open=False,
            check=AsyncConnectionPool.check_connection,
            kwargs={"autocommit": True, "application_name": name},
        )
        await pool.open(wait=True)
        try:
            await terminate(name)
            await asyncio.sleep(0.05)
            started = time.perf_counter()
            async with pool.connection(timeout=30) as conn:
                await conn.execute("SELECT 1")
            base_times.append((time.perf_counter() - started) * 1e6)
        finally:
            await pool.close()

        async with Database(settings()) as db:
            await terminate(db.application_name)
            await asyncio.sleep(0.05)
            started = time.perf_counter()
            async with db.connection(acquire_timeout=30) as conn:
                await conn.execute("SELECT 1")
            cont_times.append((time.perf_counter() - started) * 1e6)
    base, cont = statistics.median(base_times), statistics.median(cont_times)
    return [
        row(
            "first request after 4 pooled backends were terminated",
            "psycopg_pool with check=AsyncConnectionPool.check_connection",
            "Database (our check-on-acquire loop, check=fast)",
            base,
            cont,
            "µs",
            "informational: under 0.5 s (the next request succeeds at once)",
            cont < 500_000,
            "psycopg_pool backs off 1 s, 2 s, 4 s between failed checks; we close each dead "
            "connection and take the next at once",
        )
    ]


def run(quick: bool) -> list[dict[str, Any]]:
    """Every database benchmark row (see the module docstring)."""
    setup_service_logging("bench", level="CRITICAL", stream=open(os.devnull, "w"))  # noqa: SIM115

    async def main() -> list[dict[str, Any]]:
        try:
            async with await psycopg.AsyncConnection.connect(DATABASE_URL, connect_timeout=2):
                pass
        except psycopg.Error as exc:
            return [
                row("postgres", "-", "-", 0.0, 0.0, "µs", "PostgreSQL reachable", False, str(exc))
            ]
        return await overhead_rows(quick) + await recovery_rows(quick)

    return asyncio.run(main())


if __name__ == "__main__":
    print(json.dumps(run("--quick" in sys.argv[1:]), indent=2, ensure_ascii=False))
