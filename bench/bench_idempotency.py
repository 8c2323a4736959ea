"""Idempotency benchmarks (issue 18), in process.

- The idempotency layer on a request without `Idempotency-Key`: the cost of the layer
  (a trivial ASGI app with and without it), target < 1 us.
- A keyed `POST` through a runtime app: the first attempt of a new key against an unkeyed
  request (memory store; Redis when one answers on 127.0.0.1:6379: one claim round trip
  plus the store of the response; PostgreSQL when one answers on 127.0.0.1:5432: one claim
  statement plus the store of the response, in a table of a schema of its own, dropped
  afterwards).

The service-token rows moved to `bench/bench_client.py` (the client's group).

    python bench/bench_idempotency.py [--quick]     prints the rows as JSON
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import time
from typing import Annotated, Any

try:
    from bench.common import added_cost_row, interleaved_call_rounds, quiet_run
except ImportError:  # run as a script
    from common import added_cost_row, interleaved_call_rounds, quiet_run

import httpx
from fastapi import Depends
from opsconductor_shared import ServiceSettings, create_service_app
from opsconductor_shared._redis import RedisSettings
from opsconductor_shared.idempotency import (
    IdempotencyKey,
    IdempotencySettings,
    PostgresIdempotencyStore,
    RedisIdempotencyStore,
    idempotency,
    install_idempotency,
)
from opsconductor_shared.idempotency._middleware import idempotency_layer

GROUP = "idempotency"
HEADERS = [
    (b"host", b"targets"),
    (b"user-agent", b"bench"),
    (b"accept", b"application/json"),
    (b"content-type", b"application/json"),
    (b"content-length", b"2"),
    (b"authorization", b"Bearer x.y.z"),
    (b"x-request-id", b"0123456789abcdef"),
    (b"traceparent", b"00-0123456789abcdef0123456789abcdef-0123456789abcdef-01"),
]


async def _layer_cost(quick: bool) -> tuple[list[float], list[float]]:
    async def app(scope: Any, receive: Any, send: Any) -> None:  # noqa: ARG001 - ASGI's
        return None

    layered = idempotency_layer(app, max_response_bytes=1 << 20)
    scope = {"type": "http", "method": "POST", "path": "/targets", "headers": HEADERS}

    async def bare(_: int) -> None:
        await app(scope, None, None)

    async def wrapped(_: int) -> None:
        await layered(scope, None, None)

    return await interleaved_call_rounds(
        bare,
        wrapped,
        rounds=5 if quick else 9,
        count=20_000 if quick else 200_000,
        clock=time.process_time,
    )


def _keyed_app(store: Any = None) -> Any:
    app = create_service_app("bench", "1.0.0", ServiceSettings(), configure_logging=False)
    install_idempotency(app, IdempotencySettings(), store=store)

    @app.post("/things", status_code=201, dependencies=[Depends(idempotency())])
    async def create_thing(body: dict[str, Any]) -> dict[str, Any]:
        return body

    return app


def _recording_app(store: PostgresIdempotencyStore, table: Any) -> Any:
    from psycopg import sql

    app = create_service_app("bench", "1.0.0", ServiceSettings(), configure_logging=False)
    install_idempotency(app, IdempotencySettings(), store=store)
    insert = sql.SQL("INSERT INTO {} (body) VALUES (%s)").format(table)

    @app.post("/things", status_code=201)
    async def create_thing(
        body: dict[str, Any], key: Annotated[IdempotencyKey, Depends(idempotency())]
    ) -> dict[str, Any]:
        async with store.database.transaction() as conn:
            await conn.execute(insert, [json.dumps(body)])
            await key.record(conn, body, status_code=201)
        return body

    return app


async def _keyed_cost(
    quick: bool, store: Any = None, *, app: Any = None
) -> tuple[list[float], list[float]]:
    app = app or _keyed_app(store)
    keys = itertools.count()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:

        async def unkeyed(_: int) -> None:
            (await http.post("/things", json={"a": 1})).raise_for_status()

        async def keyed(_: int) -> None:
            headers = {"Idempotency-Key": f"bench-key-{next(keys):012d}"}
            (await http.post("/things", json={"a": 1}, headers=headers)).raise_for_status()

        return await interleaved_call_rounds(
            unkeyed, keyed, rounds=3 if quick else 7, count=200 if quick else 2_000
        )


async def _redis_store() -> RedisIdempotencyStore | None:
    store = RedisIdempotencyStore.from_settings(RedisSettings(), key_prefix=f"bench-{os.getpid()}")
    try:
        await store.client.ping()
    except Exception:
        await store.aclose()
        return None
    return store


DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"


async def _postgres_cost(quick: bool) -> tuple[list[float], list[float]] | None:
    from opsconductor_shared.database import Database, DatabaseSettings
    from psycopg import sql

    schema = f"bench_idempotency_{os.getpid()}"
    database = Database(
        DatabaseSettings(dsn=os.environ.get("DATABASE_URL", DATABASE_URL), min_size=1),
        application_name="bench",
    )
    store = PostgresIdempotencyStore(database, table=f"{schema}.keys")
    things = sql.Identifier(schema, "things")
    try:
        await database.open()
        async with database.transaction() as conn:
            await store.create_table(conn)
            await conn.execute(
                sql.SQL("CREATE TABLE {} (id BIGSERIAL PRIMARY KEY, body JSONB)").format(things)
            )
    except Exception:
        await database.close()
        return None
    try:
        return await _keyed_cost(quick, app=_recording_app(store, things))
    finally:
        await database.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
        )
        await database.close()


async def _run(quick: bool) -> list[dict[str, Any]]:
    bare, wrapped = await _layer_cost(quick)
    rows = [
        added_cost_row(
            bare,
            wrapped,
            limit=1.0,
            notes="8 request headers scanned; process CPU time",
            group=GROUP,
            name="IdempotencyMiddleware on a request without Idempotency-Key",
            baseline="a trivial ASGI app",
            contender="the same app inside the idempotency layer (idempotency_layer)",
            unit="us/request",
            target="< 1 us added",
        )
    ]
    unkeyed, keyed = await _keyed_cost(quick)
    rows.append(
        added_cost_row(
            unkeyed,
            keyed,
            group=GROUP,
            name="keyed POST, first attempt, memory store",
            baseline="the same POST without a key (runtime app, ASGI transport)",
            contender="with a new Idempotency-Key (claim, fingerprint, store, send)",
            unit="us/request",
        )
    )
    store = await _redis_store()
    if store is not None:
        unkeyed, keyed = await _keyed_cost(quick, store)
        rows.append(
            added_cost_row(
                unkeyed,
                keyed,
                notes="two Redis round trips on loopback",
                group=GROUP,
                name="keyed POST, first attempt, Redis store (127.0.0.1)",
                baseline="the same POST without a key",
                contender="with a new Idempotency-Key: SET NX claim + stored response",
                unit="us/request",
                target="at most one claim round trip plus the store",
            )
        )
    postgres = await _postgres_cost(quick)
    if postgres is not None:
        unkeyed, keyed = postgres
        rows.append(
            added_cost_row(
                unkeyed,
                keyed,
                notes=(
                    "a route inserting one row in a transaction; the claim is one INSERT ... ON "
                    "CONFLICT (no WAL flush wait), the response recorded in the route's own "
                    "transaction (IdempotencyKey.record)"
                ),
                group=GROUP,
                name="keyed POST, first attempt, PostgreSQL store (127.0.0.1)",
                baseline="the same POST without a key (the route's transaction alone)",
                contender="with a new Idempotency-Key: claim + response in the write's transaction",
                unit="us/request",
            )
        )
    return rows


def run(quick: bool) -> list[dict[str, Any]]:
    """The idempotency rows (see the module docstring)."""
    return quiet_run(lambda: _run(quick))


if __name__ == "__main__":
    print(json.dumps(run("--quick" in sys.argv), indent=2, ensure_ascii=False))
