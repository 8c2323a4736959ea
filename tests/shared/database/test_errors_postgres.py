"""Every SQLSTATE class of the mapping, produced for real by PostgreSQL, answered over HTTP.

Each case runs through an app made by `create_service_app` + `install_database`; the answer
must have the mapped status and code, name at most a column, and contain nothing of the SQL,
the schema, the constraint or the driver.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from opsconductor_shared import ServiceSettings, StandardHTTPException, create_service_app
from opsconductor_shared.database import Database, DatabaseSettings, install_database
from psycopg import IsolationLevel
from psycopg.conninfo import make_conninfo
from pydantic import SecretStr
from structlog.testing import capture_logs

from tests.services import app_client

from .conftest import terminate_backends

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

SETUP = """
CREATE TABLE parent (id int PRIMARY KEY);
CREATE TABLE item (
    id serial PRIMARY KEY,
    email text CONSTRAINT item_email_key UNIQUE,
    name text NOT NULL,
    code varchar(5),
    qty int CONSTRAINT item_qty_check CHECK (qty > 0),
    parent_id int REFERENCES parent (id),
    during tsrange,
    CONSTRAINT item_during_excl EXCLUDE USING gist (during WITH &&)
);
CREATE TABLE counter (id int PRIMARY KEY, n int NOT NULL);
INSERT INTO parent VALUES (1);
INSERT INTO counter VALUES (1, 0), (2, 0);
INSERT INTO item (email, name, qty, parent_id, during)
    VALUES ('bob@example.com', 'bob', 1, 1, '[2024-01-01,2024-01-02)');
"""

Case = Callable[[Database, str], Awaitable[Any]]


async def unique(db: Database, _: str) -> None:
    await db.execute("INSERT INTO item (email, name) VALUES ('bob@example.com', 'x')")


async def exclusion(db: Database, _: str) -> None:
    await db.execute(
        "INSERT INTO item (name, during) VALUES ('x', '[2024-01-01 12:00,2024-01-03)')"
    )


async def fk_missing(db: Database, _: str) -> None:
    await db.execute("INSERT INTO item (name, parent_id) VALUES ('x', 999)")


async def fk_referenced(db: Database, _: str) -> None:
    await db.execute("DELETE FROM parent WHERE id = 1")


async def not_null(db: Database, _: str) -> None:
    await db.execute("INSERT INTO item (name) VALUES (NULL)")


async def check(db: Database, _: str) -> None:
    await db.execute("INSERT INTO item (name, qty) VALUES ('x', 0)")


async def invalid_text(db: Database, _: str) -> None:
    await db.fetch_value("SELECT 'abc'::int")


async def too_long(db: Database, _: str) -> None:
    await db.execute("INSERT INTO item (name, code) VALUES ('x', 'much too long')")


async def division(db: Database, _: str) -> None:
    await db.fetch_value("SELECT 1 / 0")


async def statement_timeout(db: Database, _: str) -> None:
    async with db.transaction() as conn:
        await conn.execute("SET LOCAL statement_timeout = 50")
        await conn.execute("SELECT pg_sleep(2)")


async def serialization(db: Database, _: str) -> None:
    async with db.transaction(isolation_level=IsolationLevel.REPEATABLE_READ) as first:
        await first.execute("SELECT n FROM counter WHERE id = 1")
        async with db.transaction() as second:
            await second.execute("UPDATE counter SET n = n + 1 WHERE id = 1")
        await first.execute("UPDATE counter SET n = n + 1 WHERE id = 1")


async def deadlock(db: Database, _: str) -> None:
    locked = [asyncio.Event(), asyncio.Event()]

    async def lock_both(me: int) -> None:
        async with db.transaction() as conn:
            await conn.execute("UPDATE counter SET n = n + 1 WHERE id = %s", [me + 1])
            locked[me].set()
            await locked[1 - me].wait()
            await conn.execute("UPDATE counter SET n = n + 1 WHERE id = %s", [2 - me])

    outcomes = await asyncio.gather(lock_both(0), lock_both(1), return_exceptions=True)
    errors = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    assert len(errors) == 1, outcomes
    raise errors[0]


async def lock_not_available(db: Database, _: str) -> None:
    async with db.transaction() as first:
        await first.execute("SELECT * FROM counter WHERE id = 1 FOR UPDATE")
        async with db.transaction() as second:
            await second.execute("SELECT * FROM counter WHERE id = 1 FOR UPDATE NOWAIT")


async def read_only(db: Database, _: str) -> None:
    async with db.transaction(read_only=True) as conn:
        await conn.execute("INSERT INTO parent VALUES (2)")


async def admin_shutdown(db: Database, url: str) -> None:
    async with db.connection() as conn:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as admin:
            await admin.execute("SELECT pg_terminate_backend(%s)", [conn.info.backend_pid])
        await conn.execute("SELECT 1")


async def undefined_table(db: Database, _: str) -> None:
    await db.fetch_all("SELECT * FROM no_such_table")


async def syntax(db: Database, _: str) -> None:
    await db.fetch_all("SELEC 1")  # type: ignore[arg-type]


CASES: dict[str, tuple[Case, int, str, list[str]]] = {
    "unique": (unique, 409, "CONFLICT", ["email"]),
    "exclusion": (exclusion, 409, "CONFLICT", ["during"]),
    "fk_missing": (fk_missing, 422, "VALIDATION_ERROR", ["parent_id"]),
    "fk_referenced": (fk_referenced, 409, "CONFLICT", []),
    "not_null": (not_null, 422, "VALIDATION_ERROR", ["name"]),
    "check": (check, 422, "VALIDATION_ERROR", []),
    "invalid_text": (invalid_text, 422, "VALIDATION_ERROR", []),
    "too_long": (too_long, 422, "VALIDATION_ERROR", []),
    "division": (division, 422, "VALIDATION_ERROR", []),
    "statement_timeout": (statement_timeout, 504, "UPSTREAM_TIMEOUT", []),
    "serialization": (serialization, 409, "CONFLICT", []),
    "deadlock": (deadlock, 503, "SERVICE_UNAVAILABLE", []),
    "lock_not_available": (lock_not_available, 409, "CONFLICT", []),
    "read_only": (read_only, 503, "SERVICE_UNAVAILABLE", []),
    "admin_shutdown": (admin_shutdown, 503, "SERVICE_UNAVAILABLE", []),
    "undefined_table": (undefined_table, 500, "DATABASE_ERROR", []),
    "syntax": (syntax, 500, "DATABASE_ERROR", []),
}
LEAKS = [
    "bob@example.com",
    "item_",
    "_key",
    "_check",
    "_excl",
    "counter",
    "parent ",
    "violat",
    "constraint",
    "select",
    "insert",
    "delete",
    "pg_sleep",
    "psycopg",
    "key (",
    "sqlstate",
    "relation",
    "no_such_table",
    "deadlock",
    "statement",
    "postgres",
    "127.0.0.1",
]


def make_app(settings: DatabaseSettings, schema: str, url: str) -> FastAPI:
    dsn = make_conninfo(settings.dsn.get_secret_value(), options=f"-c search_path={schema}")
    app = create_service_app(
        "db-test", "1.0.0", ServiceSettings.for_service("db-test"), configure_logging=False
    )
    db = install_database(app, settings.model_copy(update={"dsn": SecretStr(dsn)}))

    @app.post("/cases/{case}")
    async def run_case(case: str) -> dict[str, str]:
        await CASES[case][0](db, url)
        return {"result": "no error"}

    return app


@pytest.fixture
async def client(settings: DatabaseSettings, schema: str, database_url: str) -> AsyncIterator[Any]:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute(f"SET search_path = {schema}")  # type: ignore[arg-type]
        await conn.execute(SETUP)  # type: ignore[arg-type]
    async with app_client(make_app(settings, schema, database_url)) as http:
        yield http


@pytest.mark.parametrize("case", list(CASES))
async def test_sqlstate_is_mapped_with_nothing_internal(
    client: Any, case: str, schema: str
) -> None:
    _, status, code, fields = CASES[case]
    response = await client.post(f"/cases/{case}")
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert (problem["status"], problem["code"]) == (status, code)
    assert [error["field"] for error in problem["errors"]] == fields
    assert problem["request_id"] == response.headers["x-request-id"]
    text = str({key: value for key, value in problem.items() if key != "instance"}).lower()
    for leak in [*LEAKS, schema]:
        assert leak not in text, f"{leak!r} leaked into {response.text}"
    if status == 503:
        assert response.headers["retry-after"] == "1"
    else:
        assert "retry-after" not in response.headers


async def test_the_log_has_everything(client: Any) -> None:
    with capture_logs() as logs:
        response = await client.post("/cases/unique")
    assert response.status_code == 409
    [event] = [log for log in logs if log["event"] == "request_failed"]
    assert event["sqlstate"] == "23505"
    assert event["db_error"] == "UniqueViolation"
    assert event["db_constraint_name"] == "item_email_key"
    assert event["db_table_name"] == "item"
    assert "bob@example.com" in event["db_message_detail"]


async def test_pool_survives_every_case(client: Any) -> None:
    # After all the errors above (including a terminated backend), the pool still serves.
    for case in ("admin_shutdown", "deadlock", "statement_timeout", "unique"):
        await client.post(f"/cases/{case}")
    response = await client.get("/health/ready")
    assert response.status_code == 200, response.text


async def test_statement_timeout_setting_applies(
    settings: DatabaseSettings, database_url: str
) -> None:
    async with Database(settings.model_copy(update={"statement_timeout": 0.1})) as db:
        assert await db.fetch_value("SHOW statement_timeout") == "100ms"
        with pytest.raises(StandardHTTPException) as caught:
            await db.fetch_value("SELECT pg_sleep(1)")
        assert (caught.value.status_code, caught.value.code) == (504, "UPSTREAM_TIMEOUT")


async def test_role_connection_limit_is_503(
    settings: DatabaseSettings, database_url: str, application_name: str
) -> None:
    # 53300 for real: a role allowed one connection, and a pool that wants two.
    role = application_name
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as admin:
        await admin.execute(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 1")  # type: ignore[arg-type]
        try:
            dsn = make_conninfo(database_url, user=role)
            limited = settings.model_copy(
                update={"dsn": SecretStr(dsn), "min_size": 0, "max_size": 2, "acquire_timeout": 1.0}
            )
            async with Database(limited) as db, db.connection():
                with pytest.raises(StandardHTTPException) as caught:
                    async with db.connection():
                        pass
            assert (caught.value.status_code, caught.value.code) == (503, "SERVICE_UNAVAILABLE")
        finally:
            await terminate_backends(database_url, application_name)
            await admin.execute(f"DROP ROLE {role}")  # type: ignore[arg-type]
