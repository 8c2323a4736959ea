"""`Database` against a real PostgreSQL: rows, transactions, pool faults, readiness, logs."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import psycopg
import pytest
from fastapi import Depends, FastAPI
from opsconductor_shared import ServiceSettings, StandardHTTPException, create_service_app
from opsconductor_shared.database import (
    Database,
    DatabaseSettings,
    get_database,
    install_database,
)
from opsconductor_shared.testing import async_wait_until
from psycopg import IsolationLevel
from psycopg.conninfo import make_conninfo
from pydantic import BaseModel, SecretStr
from structlog.testing import capture_logs

from tests.services import app_client, closed_port

from .conftest import terminate_backends

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


class Row(BaseModel):
    id: int
    name: str


def make_app(settings: DatabaseSettings) -> FastAPI:
    app = create_service_app(
        "db-test", "1.0.0", ServiceSettings.for_service("db-test"), configure_logging=False
    )
    install_database(app, settings)

    @app.get("/ping")
    async def ping(db: Database = Depends(get_database)) -> dict[str, Any]:  # noqa: B008
        return {"one": await db.fetch_value("SELECT 1")}

    return app


def with_schema(settings: DatabaseSettings, schema: str, **update: Any) -> DatabaseSettings:
    dsn = make_conninfo(settings.dsn.get_secret_value(), options=f"-c search_path={schema}")
    return settings.model_copy(update={"dsn": SecretStr(dsn), **update})


async def test_rows_as_dicts_and_models(settings: DatabaseSettings, schema: str) -> None:
    async with Database(with_schema(settings, schema)) as db:
        await db.execute("CREATE TABLE t (id int PRIMARY KEY, name text NOT NULL)")
        assert await db.execute("INSERT INTO t VALUES (1, 'a'), (2, 'b')") == 2
        assert await db.fetch_all("SELECT id, name FROM t ORDER BY id") == [
            {"id": 1, "name": "a"},
            {"id": 2, "name": "b"},
        ]
        assert await db.fetch_all("SELECT id, name FROM t ORDER BY id", model=Row) == [
            Row(id=1, name="a"),
            Row(id=2, name="b"),
        ]
        assert await db.fetch_one("SELECT id, name FROM t WHERE id = %s", [2], model=Row) == Row(
            id=2, name="b"
        )
        assert await db.fetch_one("SELECT id FROM t WHERE id = %s", [9]) is None
        assert await db.fetch_value("SELECT count(*) FROM t") == 2
        assert await db.fetch_value("SELECT id FROM t WHERE id = 9") is None


async def test_transaction_commits_or_rolls_back(settings: DatabaseSettings, schema: str) -> None:
    async with Database(with_schema(settings, schema)) as db:
        await db.execute("CREATE TABLE t (id int PRIMARY KEY)")
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO t VALUES (1)")

        async def fail_inside() -> None:
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO t VALUES (2)")
                raise RuntimeError("the route failed")

        with pytest.raises(RuntimeError):
            await fail_inside()
        assert await db.fetch_all("SELECT id FROM t") == [{"id": 1}]


async def test_transaction_settings_do_not_leak_to_the_next_borrower(
    settings: DatabaseSettings,
) -> None:
    async with Database(settings.model_copy(update={"min_size": 1, "max_size": 1})) as db:
        async with db.transaction(
            isolation_level=IsolationLevel.SERIALIZABLE, read_only=True
        ) as conn:
            cursor = await conn.execute("SHOW transaction_isolation")
            assert await cursor.fetchone() == ("serializable",)
        async with db.transaction() as conn:
            cursor = await conn.execute(
                "SELECT current_setting('transaction_isolation'), current_setting('transaction_read_only')"
            )
            assert await cursor.fetchone() == ("read committed", "off")


async def test_connections_carry_the_configured_session(settings: DatabaseSettings) -> None:
    configured = settings.model_copy(update={"statement_timeout": 12.0, "lock_timeout": 3.0})
    async with Database(configured) as db:
        assert await db.fetch_value("SHOW application_name") == settings.application_name
        assert await db.fetch_value("SHOW statement_timeout") == "12s"
        assert await db.fetch_value("SHOW lock_timeout") == "3s"
        async with db.connection() as conn:
            assert conn.autocommit


@pytest.mark.parametrize("check", ["fast", "full"])
async def test_terminated_connections_are_replaced_at_once(
    settings: DatabaseSettings, database_url: str, application_name: str, check: str
) -> None:
    # psycopg_pool's own check loop would sleep 1 s, 2 s, 4 s between these dead connections.
    warm = settings.model_copy(
        update={"min_size": 4, "max_size": 4, "open_wait": True, "check": check}
    )
    app = make_app(warm)
    async with app_client(app) as client:
        db: Database = app.state.database
        assert db.stats().available == 4
        assert await terminate_backends(database_url, application_name) == 4
        started = time.perf_counter()
        response = await client.get("/ping")
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.text
        # A new connection at once, not after the pool's own 1 s retry (slack for load).
        assert elapsed < 0.9, f"took {elapsed:.3f} s"
        assert db.stats().checks_failed >= 1
        for _ in range(8):  # every later request succeeds too
            assert (await client.get("/ping")).status_code == 200


async def test_pool_exhausted_is_503_within_the_acquire_timeout(settings: DatabaseSettings) -> None:
    app = make_app(settings.model_copy(update={"max_size": 2, "acquire_timeout": 0.5}))
    release = asyncio.Event()
    holding = [asyncio.Event(), asyncio.Event()]

    async def hold(db: Database, me: int) -> None:
        async with db.connection():
            holding[me].set()
            await release.wait()

    async with app_client(app) as client:
        db: Database = app.state.database
        holders = [asyncio.ensure_future(hold(db, me)) for me in range(2)]
        await asyncio.gather(*(event.wait() for event in holding))
        started = time.perf_counter()
        response = await client.get("/ping")
        elapsed = time.perf_counter() - started
        release.set()
        await asyncio.gather(*holders)
        assert response.status_code == 503
        assert response.json()["code"] == "SERVICE_UNAVAILABLE"
        assert response.headers["retry-after"] == "1"
        assert 0.45 <= elapsed < 2.0, f"took {elapsed:.3f} s"
        assert (await client.get("/ping")).status_code == 200


async def test_full_wait_queue_is_503_at_once(settings: DatabaseSettings) -> None:
    app = make_app(
        settings.model_copy(update={"max_size": 1, "max_waiting": 1, "acquire_timeout": 5})
    )
    release = asyncio.Event()
    holding = asyncio.Event()

    async def hold(db: Database) -> None:
        async with db.connection():
            holding.set()
            await release.wait()

    async def wait_for_one(db: Database) -> None:
        async with db.connection():
            pass

    async with app_client(app) as client:
        db: Database = app.state.database
        holder = asyncio.ensure_future(hold(db))
        await holding.wait()
        waiter = asyncio.ensure_future(wait_for_one(db))
        await async_wait_until(lambda: db.stats().waiting, message="the waiter never queued")
        started = time.perf_counter()
        response = await client.get("/ping")
        elapsed = time.perf_counter() - started
        release.set()
        await asyncio.gather(holder, waiter)
        assert response.status_code == 503
        assert elapsed < 1.0, f"took {elapsed:.3f} s"  # at once, not after the 5 s timeout


async def test_unreachable_postgres_is_503_and_not_ready(settings: DatabaseSettings) -> None:
    dsn = make_conninfo(settings.dsn.get_secret_value(), port=closed_port(), connect_timeout=2)
    app = make_app(settings.model_copy(update={"dsn": SecretStr(dsn), "acquire_timeout": 0.5}))
    async with app_client(app) as client:
        started = time.perf_counter()
        response = await client.get("/ping")
        elapsed = time.perf_counter() - started
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        assert elapsed < 1.5, f"took {elapsed:.3f} s"
        ready = await client.get("/health/ready")
        assert ready.status_code == 503
        [check] = ready.json()["checks"]
        assert (check["name"], check["status"], check["critical"]) == (
            "database",
            "unhealthy",
            True,
        )
        # The last error, without where the server is.
        assert check["message"].startswith("database unreachable for "), check["message"]
        assert check["message"].endswith("OperationalError: Connection refused")
        assert (await client.get("/health/live")).status_code == 200


async def test_open_wait_fails_startup_when_unreachable(settings: DatabaseSettings) -> None:
    dsn = make_conninfo(settings.dsn.get_secret_value(), port=closed_port())
    unreachable = settings.model_copy(
        update={"dsn": SecretStr(dsn), "open_wait": True, "open_timeout": 0.5}
    )
    with pytest.raises(StandardHTTPException) as caught:
        async with Database(unreachable):
            pass
    assert caught.value.status_code == 503


async def test_readiness_reports_a_round_trip(settings: DatabaseSettings) -> None:
    app = make_app(settings)
    async with app_client(app) as client:
        ready = await client.get("/health/ready")
        assert ready.status_code == 200
        [check] = ready.json()["checks"]
        assert (check["name"], check["status"]) == ("database", "healthy")
        assert check["duration_ms"] > 0
        stats = app.state.database.stats()
        assert stats.requests >= 1
        assert stats.max_size == 4
        assert stats.size >= 1
    assert app.state.database.pool.closed


async def test_raw_driver_errors_from_the_pool_are_mapped(
    settings: DatabaseSettings, schema: str
) -> None:
    app = make_app(with_schema(settings, schema))

    @app.post("/raw")
    async def raw(db: Database = Depends(get_database)) -> None:  # noqa: B008
        async with db.pool.connection() as conn:
            await conn.execute("CREATE TABLE IF NOT EXISTS t (id int PRIMARY KEY)")
            await conn.execute("INSERT INTO t VALUES (1)")

    async with app_client(app) as client:
        assert (await client.post("/raw")).status_code == 200
        response = await client.post("/raw")
        assert response.status_code == 409
        assert response.json()["code"] == "CONFLICT"


async def test_install_needs_settings_and_happens_once(settings: DatabaseSettings) -> None:
    app = create_service_app(
        "db-test", "1.0.0", ServiceSettings.for_service("db-test"), configure_logging=False
    )
    with pytest.raises(ValueError, match="database: DatabaseSettings"):
        install_database(app)
    install_database(app, settings)
    with pytest.raises(RuntimeError, match="already"):
        install_database(app, settings)

    class Settings(ServiceSettings):
        database: DatabaseSettings

    configured = create_service_app(
        "db-test", "1.0.0", Settings(database=settings), configure_logging=False
    )
    assert install_database(configured).settings is settings
    with pytest.raises(RuntimeError, match="create_service_app"):
        install_database(FastAPI(), settings)


async def test_get_database_without_install_fails_loudly() -> None:
    app = create_service_app(
        "db-test", "1.0.0", ServiceSettings.for_service("db-test"), configure_logging=False
    )

    @app.get("/x")
    async def x(db: Database = Depends(get_database)) -> None:  # noqa: B008
        pass

    async with app_client(app) as client:
        assert (await client.get("/x")).status_code == 500


async def test_slow_and_failed_operations_are_logged(settings: DatabaseSettings) -> None:
    # Far apart, so that `SELECT 1` on a loaded machine is never slow and the nap always is.
    async with Database(settings.model_copy(update={"slow_query_ms": 300})) as db:
        with capture_logs() as logs:
            await db.fetch_value("SELECT 1")
            await db.fetch_value("SELECT pg_sleep(%s)", [0.6], operation="nap")
            with pytest.raises(StandardHTTPException):
                await db.fetch_value("SELECT 1 / 0")
    operations = [log for log in logs if log["event"] == "database_operation"]
    assert [(log["operation"], log["log_level"]) for log in operations] == [
        ("nap", "warning"),
        ("SELECT", "warning"),
    ]
    slow, failed = operations
    assert slow["slow"] is True
    assert slow["statement"] == "SELECT pg_sleep(%s)"  # the text, never the parameters
    assert (failed["error"], failed["sqlstate"]) == ("DivisionByZero", "22012")


async def test_log_queries_logs_every_operation(settings: DatabaseSettings) -> None:
    async with Database(settings.model_copy(update={"log_queries": True})) as db:
        with capture_logs() as logs:
            await db.fetch_all("SELECT 1 AS one")
    [event] = [log for log in logs if log["event"] == "database_operation"]
    assert (event["operation"], event["rows"], event["log_level"]) == ("SELECT", 1, "info")
    assert "statement" not in event


async def test_repr_hides_the_dsn(settings: DatabaseSettings, database_url: str) -> None:
    secret = make_conninfo(database_url, password="hunter2")
    configured = settings.model_copy(update={"dsn": SecretStr(secret)})
    assert "hunter2" not in repr(configured)
    assert "hunter2" not in repr(Database(configured))


async def test_connection_errors_during_use_are_translated(
    settings: DatabaseSettings, database_url: str
) -> None:
    async def use_terminated(db: Database) -> None:
        async with db.connection() as conn:
            async with await psycopg.AsyncConnection.connect(
                database_url, autocommit=True
            ) as admin:
                await admin.execute("SELECT pg_terminate_backend(%s)", [conn.info.backend_pid])
            await conn.execute("SELECT 1")

    async with Database(settings) as db:
        with pytest.raises(StandardHTTPException) as caught:
            await use_terminated(db)
        assert caught.value.status_code == 503
        assert isinstance(caught.value.__cause__, psycopg.OperationalError)
        assert await db.fetch_value("SELECT 1") == 1
