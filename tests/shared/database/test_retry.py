"""`Database.run_transaction`: 40001 and 40P01 re-run a bounded number of times, nothing else."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from opsconductor_shared import ConflictError, DatabaseError, StandardHTTPException
from opsconductor_shared.database import Database, DatabaseSettings, run_in_transaction
from psycopg import AsyncConnection, IsolationLevel
from psycopg.conninfo import make_conninfo
from pydantic import SecretStr
from structlog.testing import capture_logs

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture
async def db(settings: DatabaseSettings, schema: str) -> Any:
    dsn = make_conninfo(settings.dsn.get_secret_value(), options=f"-c search_path={schema}")
    async with Database(settings.model_copy(update={"dsn": SecretStr(dsn)})) as database:
        await database.execute("CREATE TABLE counter (id int PRIMARY KEY, n int NOT NULL)")
        await database.execute("INSERT INTO counter VALUES (1, 0), (2, 0)")
        yield database


def conflicting_work(db: Database, conflicts: int) -> tuple[Any, list[int]]:
    """Work whose first `conflicts` attempts lose a serialization conflict."""
    attempts: list[int] = []

    async def work(conn: AsyncConnection[Any]) -> int:
        attempts.append(len(attempts) + 1)
        await conn.execute("SELECT n FROM counter WHERE id = 1")
        if len(attempts) <= conflicts:
            async with db.transaction() as other:
                await other.execute("UPDATE counter SET n = n + 100 WHERE id = 1")
        cursor = await conn.execute("UPDATE counter SET n = n + 1 WHERE id = 1 RETURNING n")
        row = await cursor.fetchone()
        assert row is not None
        return int(row[0])

    return work, attempts


async def test_serialization_failure_is_retried(db: Database) -> None:
    work, attempts = conflicting_work(db, conflicts=1)
    with capture_logs() as logs:
        result = await db.run_transaction(
            work, isolation_level=IsolationLevel.REPEATABLE_READ, operation="bump"
        )
    assert attempts == [1, 2]
    assert result == 101
    [retry] = [log for log in logs if log["event"] == "transaction_retry"]
    assert (retry["sqlstate"], retry["attempt"], retry["operation"]) == ("40001", 1, "bump")


async def test_serialization_failure_gives_up_with_409(db: Database) -> None:
    work, attempts = conflicting_work(db, conflicts=5)
    with pytest.raises(ConflictError) as caught:
        await db.run_transaction(work, attempts=3, isolation_level=IsolationLevel.REPEATABLE_READ)
    assert attempts == [1, 2, 3]
    assert caught.value.metadata["sqlstate"] == "40001"


async def test_attempts_1_switches_retries_off(db: Database) -> None:
    work, attempts = conflicting_work(db, conflicts=1)
    with pytest.raises(ConflictError):
        await db.run_transaction(work, attempts=1, isolation_level=IsolationLevel.REPEATABLE_READ)
    assert attempts == [1]


async def test_deadlock_loser_is_retried_and_both_commit(db: Database) -> None:
    locked = [asyncio.Event(), asyncio.Event()]

    def lock_both(me: int) -> Any:
        async def work(conn: AsyncConnection[Any]) -> None:
            await conn.execute("UPDATE counter SET n = n + 1 WHERE id = %s", [me + 1])
            locked[me].set()
            await locked[1 - me].wait()
            await conn.execute("UPDATE counter SET n = n + 1 WHERE id = %s", [2 - me])

        return work

    await asyncio.gather(db.run_transaction(lock_both(0)), db.run_transaction(lock_both(1)))
    assert await db.fetch_all("SELECT id, n FROM counter ORDER BY id") == [
        {"id": 1, "n": 2},
        {"id": 2, "n": 2},
    ]


async def test_deadlock_gives_up_with_503(db: Database) -> None:
    locked = [asyncio.Event(), asyncio.Event()]

    def lock_both(me: int) -> Any:
        async def work(conn: AsyncConnection[Any]) -> None:
            await conn.execute("UPDATE counter SET n = n + 1 WHERE id = %s", [me + 1])
            locked[me].set()
            await locked[1 - me].wait()
            await conn.execute("UPDATE counter SET n = n + 1 WHERE id = %s", [2 - me])

        return work

    outcomes = await asyncio.gather(
        db.run_transaction(lock_both(0), attempts=1),
        db.run_transaction(lock_both(1), attempts=1),
        return_exceptions=True,
    )
    [error] = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    assert isinstance(error, DatabaseError)
    assert (error.status_code, error.headers["Retry-After"]) == (503, "1")


async def test_other_errors_are_not_retried(db: Database) -> None:
    calls = 0

    async def work(conn: AsyncConnection[Any]) -> None:
        nonlocal calls
        calls += 1
        await conn.execute("INSERT INTO counter VALUES (1, 0)")

    with pytest.raises(StandardHTTPException) as caught:
        await db.run_transaction(work, attempts=5)
    assert (calls, caught.value.status_code) == (1, 409)


async def test_no_attempt_starts_after_the_deadline(db: Database) -> None:
    work, attempts = conflicting_work(db, conflicts=10)
    with pytest.raises(ConflictError):
        await run_in_transaction(
            db,
            work,
            attempts=10,
            isolation_level=IsolationLevel.REPEATABLE_READ,
            backoff=0.2,
            max_backoff=0.2,
            deadline=0.0,
        )
    assert attempts == [1]


async def test_attempts_must_be_positive(db: Database) -> None:
    work, _ = conflicting_work(db, conflicts=0)
    with pytest.raises(ValueError, match="at least 1"):
        await db.run_transaction(work, attempts=0)
