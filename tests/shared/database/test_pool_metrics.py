"""Pool metrics: the database pool's size, connections in use, requests waiting and errors are
Prometheus gauges on `/metrics`, next to the HTTP metrics (real PostgreSQL)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import Depends
from opsconductor_shared import ServiceSettings, create_service_app
from opsconductor_shared.database import Database, DatabaseSettings, get_database, install_database
from opsconductor_shared.testing import app_client

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

GAUGES = (
    "db_pool_size",
    "db_pool_max_size",
    "db_pool_in_use",
    "db_pool_available",
    "db_pool_waiting",
    "db_pool_request_errors",
    "db_pool_connection_errors",
    "db_pool_connections_lost",
)


def _value(text: str, name: str) -> float:
    match = re.search(rf'^{name}\{{service="pool-metrics"\}} (\S+)$', text, re.M)
    assert match, f"{name} missing from:\n{text}"
    return float(match.group(1))


async def test_pool_gauges_beside_the_http_metrics(settings: DatabaseSettings) -> None:
    app = create_service_app(
        "pool-metrics",
        "1.0.0",
        ServiceSettings.for_service("pool-metrics", metrics_enabled=True),
        configure_logging=False,
    )
    install_database(app, settings)

    @app.get("/ping")
    async def ping(db: Database = Depends(get_database)) -> dict[str, Any]:  # noqa: B008
        return {"one": await db.fetch_value("SELECT 1")}

    async with app_client(app) as client:
        assert (await client.get("/ping")).status_code == 200
        text = (await client.get("/metrics")).text
    assert "http_requests_total" in text
    for name in GAUGES:
        assert f"# TYPE {name} gauge" in text
        assert _value(text, name) >= 0
    assert _value(text, "db_pool_max_size") == settings.max_size
    assert 1 <= _value(text, "db_pool_size") <= settings.max_size
    assert _value(text, "db_pool_in_use") == _value(text, "db_pool_size") - _value(
        text, "db_pool_available"
    )


async def test_without_metrics_nothing_is_registered(settings: DatabaseSettings) -> None:
    app = create_service_app(
        "pool-metrics",
        "1.0.0",
        ServiceSettings.for_service("pool-metrics"),
        configure_logging=False,
    )
    install_database(app, settings)
    async with app_client(app) as client:
        assert (await client.get("/metrics")).status_code == 404
