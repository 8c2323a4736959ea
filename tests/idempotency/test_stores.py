"""The store contract, run over all three stores (memory, Redis, PostgreSQL), and what only
the PostgreSQL store does: record a response inside the caller's transaction."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import psycopg
import pytest
from opsconductor_shared import ConflictError
from opsconductor_shared._redis import RedisSettings
from opsconductor_shared.database import Database, DatabaseSettings
from opsconductor_shared.idempotency import (
    Claimed,
    IdempotencyStore,
    InFlight,
    MemoryIdempotencyStore,
    PostgresIdempotencyStore,
    RecordingIdempotencyStore,
    RedisIdempotencyStore,
    StoredResponse,
)
from opsconductor_shared.testing import async_wait_until
from psycopg import sql

from tests.services import require_postgres, require_redis, unique_name

pytestmark = pytest.mark.anyio
STORED = StoredResponse("fp", 201, (("content-type", "application/json"),), b'{"id":1}')


async def _eventually(check: Callable[[], Awaitable[bool]]) -> None:
    await async_wait_until(check, timeout=10, interval=0.05)


def _drop_schema(url: str, schema: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


class SchemaDatabase(Database):
    """A pool on the test database, with a schema of its own for the store's table."""

    schema: str


@contextlib.asynccontextmanager
async def _open_database() -> AsyncIterator[SchemaDatabase]:
    url = require_postgres()
    db = SchemaDatabase(DatabaseSettings(dsn=url, min_size=1, max_size=4))
    db.schema = unique_name("idem")
    try:
        async with db:
            yield db
    finally:
        _drop_schema(url, db.schema)


@pytest.fixture
async def database() -> AsyncIterator[SchemaDatabase]:
    async with _open_database() as db:
        yield db


async def _postgres_store(db: SchemaDatabase) -> PostgresIdempotencyStore:
    store = PostgresIdempotencyStore(db, table=f"{db.schema}.keys")
    async with db.transaction() as conn:
        await store.create_table(conn)
    return store


@pytest.fixture(
    params=[
        "memory",
        pytest.param("redis", marks=pytest.mark.integration),
        pytest.param("postgres", marks=pytest.mark.integration),
    ]
)
async def store(request: pytest.FixtureRequest) -> AsyncIterator[IdempotencyStore]:
    async with contextlib.AsyncExitStack() as stack:
        made: IdempotencyStore
        if request.param == "memory":
            made = MemoryIdempotencyStore()
        elif request.param == "redis":
            made = RedisIdempotencyStore.from_settings(
                RedisSettings(url=require_redis()), key_prefix=unique_name("idem")
            )
        else:
            made = await _postgres_store(await stack.enter_async_context(_open_database()))
        stack.push_async_callback(made.aclose)
        yield made


async def test_a_claim_is_held_until_completed_by_its_holder(store: IdempotencyStore) -> None:
    claim = await store.claim("k", "fp", lock_ttl=30)
    assert isinstance(claim, Claimed)
    assert await store.claim("k", "fp", lock_ttl=30) == InFlight("fp")
    assert await store.claim("k", "other", lock_ttl=30) == InFlight("fp")
    await store.complete("k", "not-the-token", STORED, ttl=30)
    await store.release("k", "not-the-token")
    assert await store.claim("k", "fp", lock_ttl=30) == InFlight("fp")
    await store.complete("k", claim.token, STORED, ttl=30)
    assert await store.claim("k", "fp", lock_ttl=30) == STORED
    await store.release("k", claim.token)  # a stored response is not released
    assert await store.claim("k", "other", lock_ttl=30) == STORED


async def test_a_released_claim_can_be_claimed_again(store: IdempotencyStore) -> None:
    claim = await store.claim("k", "fp", lock_ttl=30)
    assert isinstance(claim, Claimed)
    await store.release("k", claim.token)
    again = await store.claim("k", "fp", lock_ttl=30)
    assert isinstance(again, Claimed)
    assert again.token != claim.token
    await store.complete("k", claim.token, STORED, ttl=30)  # the old holder's: ignored
    assert await store.claim("k", "fp", lock_ttl=30) == InFlight("fp")


async def test_claims_and_responses_expire(store: IdempotencyStore) -> None:
    await store.claim("lock", "fp", lock_ttl=0.2)

    async def claimable(key: str) -> bool:
        return isinstance(await store.claim(key, "fp", lock_ttl=30), Claimed)

    await _eventually(lambda: claimable("lock"))
    claim = await store.claim("done", "fp", lock_ttl=30)
    assert isinstance(claim, Claimed)
    await store.complete("done", claim.token, STORED, ttl=0.2)
    assert await store.claim("done", "fp", lock_ttl=30) == STORED
    await _eventually(lambda: claimable("done"))


async def test_of_concurrent_claims_exactly_one_wins(store: IdempotencyStore) -> None:
    outcomes = await asyncio.gather(*(store.claim("race", "fp", lock_ttl=30) for _ in range(20)))
    assert sum(isinstance(outcome, Claimed) for outcome in outcomes) == 1
    assert all(isinstance(o, Claimed) or o == InFlight("fp") for o in outcomes)


async def test_only_the_postgres_store_records(store: IdempotencyStore) -> None:
    assert isinstance(store, RecordingIdempotencyStore) == isinstance(
        store, PostgresIdempotencyStore
    )


@pytest.mark.integration
async def test_a_recorded_response_commits_or_rolls_back_with_the_transaction(
    database: SchemaDatabase,
) -> None:
    store = await _postgres_store(database)
    claim = await store.claim("k", "fp", lock_ttl=30)
    assert isinstance(claim, Claimed)

    async def record_then_fail() -> None:
        async with database.transaction() as conn:
            await store.record(conn, "k", claim.token, STORED, ttl=30)
            raise RuntimeError("fault before commit")

    with pytest.raises(RuntimeError, match="fault"):
        await record_then_fail()
    assert await store.claim("k", "fp", lock_ttl=30) == InFlight("fp")
    async with database.transaction() as conn:
        await store.record(conn, "k", claim.token, STORED, ttl=30)
        # another replica's claim of the key waits for this transaction to end
        waiting = asyncio.ensure_future(store.claim("k", "fp", lock_ttl=30))

        async def blocked() -> bool:
            count = await database.fetch_value(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND query LIKE 'INSERT INTO %%ON CONFLICT%%' AND pid <> pg_backend_pid()"
            )
            return bool(count)

        await _eventually(blocked)
        assert not waiting.done()
    assert await waiting == STORED
    assert await store.claim("k", "fp", lock_ttl=30) == STORED


@pytest.mark.integration
async def test_a_claim_taken_over_cannot_be_recorded(database: SchemaDatabase) -> None:
    store = await _postgres_store(database)
    first = await store.claim("k", "fp", lock_ttl=0.2)
    assert isinstance(first, Claimed)

    async def taken() -> bool:
        return isinstance(await store.claim("k", "fp", lock_ttl=30), Claimed)

    await _eventually(taken)
    with pytest.raises(ConflictError):
        async with database.transaction() as conn:
            await store.record(conn, "k", first.token, STORED, ttl=30)
    assert await store.claim("k", "fp", lock_ttl=30) == InFlight("fp")


async def _until_expired(database: SchemaDatabase, count: int) -> sql.Composed:
    """The store's table, once `count` of its entries have expired (a bounded poll)."""
    table = sql.SQL("{}.keys").format(sql.Identifier(database.schema))

    async def expired() -> bool:
        found = await database.fetch_value(
            sql.SQL("SELECT count(*) FROM {} WHERE expires_at <= now()").format(table)
        )
        return bool(found == count)

    await _eventually(expired)
    return table


@pytest.mark.integration
async def test_the_table_is_created_idempotently_and_expired_rows_are_purged(
    database: SchemaDatabase,
) -> None:
    store = await _postgres_store(database)
    async with database.transaction() as conn:
        await store.create_table(conn)  # a second replica's startup work: no error
    for index in range(5):
        await store.claim(f"k{index}", "fp", lock_ttl=0.1)
    live = await store.claim("live", "fp", lock_ttl=30)
    table = await _until_expired(database, 5)
    store.purge_batch = 3
    assert await store.purge() == 3
    assert await store.purge() == 2
    assert await database.fetch_value(sql.SQL("SELECT count(*) FROM {}").format(table)) == 1
    assert isinstance(live, Claimed)


@pytest.mark.integration
async def test_the_purge_deletes_a_claim_only_once_its_lock_ran_out(
    database: SchemaDatabase,
) -> None:
    """An entry in flight expires when its lock does (claim + lock_ttl), the moment a claim of
    its key may take it over: the purge deletes it then and never before, and its holder, too
    slow, cannot record (told that its hold expired, not that another request took over)."""
    store = await _postgres_store(database)
    held = await store.claim("held", "fp", lock_ttl=30)
    stale = await store.claim("stale", "fp", lock_ttl=0.2)
    answered = await store.claim("answered", "fp", lock_ttl=30)
    assert isinstance(held, Claimed)
    assert isinstance(stale, Claimed)
    assert isinstance(answered, Claimed)
    await store.complete("answered", answered.token, STORED, ttl=30)
    table = await _until_expired(database, 1)
    # The store's own background purge (started by the first claim) may get there first on a
    # loaded machine: what is left is asserted, not who deleted it.
    assert await store.purge() in (0, 1)
    assert await database.fetch_value(sql.SQL("SELECT count(*) FROM {}").format(table)) == 2
    assert await store.claim("held", "fp", lock_ttl=30) == InFlight("fp")
    assert await store.claim("answered", "fp", lock_ttl=30) == STORED
    with pytest.raises(ConflictError) as caught:
        async with database.transaction() as conn:
            await store.record(conn, "stale", stale.token, STORED, ttl=30)
    assert "expired" in caught.value.detail
    assert "took over" not in caught.value.detail
    async with database.transaction() as conn:
        await store.record(conn, "held", held.token, STORED, ttl=30)
    assert await store.claim("held", "fp", lock_ttl=30) == STORED


def test_a_table_name_must_be_an_identifier() -> None:
    db = Database(DatabaseSettings(dsn="postgresql://127.0.0.1/none"))
    for bad in ("Keys", "a.b.c", "keys; DROP TABLE x", "", "1keys"):
        with pytest.raises(ValueError, match=r"schema\.name"):
            PostgresIdempotencyStore(db, table=bad)
    assert repr(PostgresIdempotencyStore(db, table="s.keys")) == (
        "PostgresIdempotencyStore(table='s.keys')"
    )


@pytest.mark.integration
async def test_the_background_purge_keeps_going_while_batches_come_back_full(
    database: SchemaDatabase,
) -> None:
    """More expired entries than one batch per interval still go in one run: a table that
    gains expired keys faster than a batch an interval must not grow for ever."""
    store = await _postgres_store(database)
    for index in range(7):
        await store.claim(f"k{index}", "fp", lock_ttl=0.1)
    table = await _until_expired(database, 7)
    store.purge_batch = 2
    await store._purge_quietly()
    assert await database.fetch_value(sql.SQL("SELECT count(*) FROM {}").format(table)) == 0
