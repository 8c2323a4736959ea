"""The database pool's counts in readiness and on `/metrics` (real PostgreSQL): idle at first,
then, with every connection held and a request queued, readiness is 503 and says so in its
`details` (size, in use, waiting), the gauges say the same, the readiness round trip that
found no connection is counted as a request error, and once the load ends it is all back
to idle but the error count."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest
from fastapi import Depends
from opsconductor_shared import ServiceSettings, create_service_app
from opsconductor_shared.database import Database, DatabaseSettings, get_database, install_database
from opsconductor_shared.testing import app_client, async_wait_until

from tests.services import require_postgres, unique_name

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

SERVICE = "pool-figures"
MAX_SIZE = 2
# A request that queues for a connection waits this long; readiness' own round trip waits the
# setting (1 s), so readiness answers while the queued request still waits.
HOLD_WAIT = 60.0
FIGURES = {
    "size",
    "max_size",
    "in_use",
    "available",
    "waiting",
    "request_errors",
    "connection_errors",
    "connections_lost",
}


def _gauges(text: str) -> dict[str, int]:
    pattern = rf'^db_pool_(\w+)\{{service="{SERVICE}"\}} (\S+)$'
    return {name: int(float(value)) for name, value in re.findall(pattern, text, re.M)}


async def _ready(client: httpx.AsyncClient) -> tuple[int, dict[str, Any]]:
    response = await client.get("/health/ready")
    (check,) = response.json()["checks"]
    assert check["name"] == "database"
    return response.status_code, check


async def test_readiness_and_gauges_follow_the_pool_under_load() -> None:
    settings = DatabaseSettings(
        dsn=require_postgres(),
        min_size=1,
        max_size=MAX_SIZE,
        acquire_timeout=1.0,
        application_name=unique_name("oc_figures"),
    )
    app = create_service_app(
        SERVICE,
        "1.0.0",
        ServiceSettings.for_service(SERVICE, metrics_enabled=True),
        configure_logging=False,
    )
    install_database(app, settings)
    release = asyncio.Event()

    @app.get("/hold")
    async def hold(db: Database = Depends(get_database)) -> dict[str, int]:  # noqa: B008
        async with db.connection(acquire_timeout=HOLD_WAIT) as conn:
            await conn.execute("SELECT 1")
            await release.wait()
        return {"held": 1}

    async with app_client(app) as client:

        async def gauges() -> dict[str, int]:
            return _gauges((await client.get("/metrics")).text)

        # Idle: the pool has opened its first connection and lends none.
        status, idle = await async_wait_until(
            _idle_and_open(client), message="readiness never showed an open, idle pool"
        )
        assert status == 200
        assert set(idle["details"]) == FIGURES
        assert idle["details"]["max_size"] == MAX_SIZE
        assert idle["details"]["request_errors"] == 0

        # Load: every connection held, one more request queued for one.
        tasks = [asyncio.create_task(client.get("/hold")) for _ in range(MAX_SIZE + 1)]
        try:
            loaded = await async_wait_until(
                _loaded(gauges), message="the gauges never showed the pool exhausted"
            )
            status, busy = await _ready(client)
            assert status == 503, busy
            assert busy["status"] == "unhealthy"
            assert "database unavailable" in busy["message"]
            details = busy["details"]
            shown = (details["size"], details["in_use"], details["available"], details["waiting"])
            assert shown == (MAX_SIZE, MAX_SIZE, 0, 1)
            assert shown == (
                loaded["size"],
                loaded["in_use"],
                loaded["available"],
                loaded["waiting"],
            )
            # Readiness found no connection in time: the pool counts it as a failed request.
            assert (await gauges())["request_errors"] == details["request_errors"] + 1
        finally:
            release.set()
            answers = await asyncio.gather(*tasks)
        assert [answer.status_code for answer in answers] == [200] * (MAX_SIZE + 1)

        # After the load: nothing lent out or queued; the error stays counted.
        status, after = await _ready(client)
        assert status == 200, after
        assert (after["details"]["in_use"], after["details"]["waiting"]) == (0, 0)
        assert after["details"]["request_errors"] == 1
        assert (await gauges())["in_use"] == 0


def _idle_and_open(client: httpx.AsyncClient) -> Any:
    async def poll() -> tuple[int, dict[str, Any]] | None:
        status, check = await _ready(client)
        details = check["details"] or {}
        if status == 200 and details.get("size", 0) >= 1 and details.get("in_use") == 0:
            return status, check
        return None

    return poll


def _loaded(gauges: Any) -> Any:
    async def poll() -> dict[str, int] | None:
        now: dict[str, int] = await gauges()
        return now if (now["in_use"], now["waiting"]) == (MAX_SIZE, 1) else None

    return poll
