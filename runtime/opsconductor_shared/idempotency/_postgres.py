"""`PostgresIdempotencyStore`: idempotency keys in a PostgreSQL table, next to the writes.

    db = install_database(app)
    install_idempotency(app, IdempotencySettings(storage="postgres", table="idempotency_keys"))

The table is created by the database's startup work (`CREATE TABLE IF NOT EXISTS`, one
replica at a time). A claim is one statement: `INSERT ... ON CONFLICT (key) DO UPDATE` that
takes the entry over only where the old one expired (`CASE WHEN expires_at <= now()`), and
`RETURNING` the entry as it then is; the row lock it takes makes two replicas' claims of one
key wait for each other, so exactly one runs the request, and a claim that waited for a
transaction recording the response returns that response. (A claim of a live key thus
writes a new row version; it happens on retries only.) What sets this store apart is
`record`: the route writes the stored response on its own connection, inside the transaction
of its write (`IdempotencyKey.record`), so the write and its response commit together. A crash
between the commit and the answer leaves the response stored, and the retry replays it; a crash
before the commit leaves neither, and the retry runs the request. Completing and releasing
(the middleware's path, for a route that does not record) and recording all name the claim's
token and require the entry still in flight, so a request whose claim expired and was taken
by another cannot overwrite it (`record` then raises, rolling its write back).

Claims and releases commit without waiting for the WAL flush (`synchronous_commit = off`
for their transaction). For a route whose writes go to this same PostgreSQL server that is
safe: the server has one WAL, so the route's durable commit flushes it up to itself, the
earlier claim included, and a claim lost in a crash was followed by no durable write there
(the retry then runs the request, as it must). Nothing orders the claim before writes made
elsewhere (another PostgreSQL server, Redis, a call to another service): if this server
crashes within the flush delay after a claim (up to three times `wal_writer_delay`, 200 ms
by default), the claim can be lost although such a write was done, and a retry runs the
request again. A release lost leaves the claim to expire after `lock_ttl`. Completing (the
middleware's path) waits for the flush, as the route's transaction does: its response must
outlive a crash as the write does.

Times are the server's (`now()`), so replicas with skewed clocks agree. An entry's
`expires_at` is its lock's end while it is in flight (claim + `lock_ttl`) and its response's
end once recorded (+ `ttl`), so one rule serves both: an expired entry is taken over by the
next claim of its key, and expired entries are deleted in batches of `purge_batch`, at most
every `purge_interval` seconds, in the background of a claim. The purge thus deletes a claim
in flight exactly when a claim of its key could take it over (its request outlived
`lock_ttl`, or its replica crashed), never while it holds; the row lock a recording route's
transaction holds makes the purge skip that entry (`SKIP LOCKED`).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from typing import TYPE_CHECKING, Any

import orjson

from .._errors import ConflictError
from .._logging import get_logger
from ..database import execute, fetch_one
from ._store import Claimed, ClaimOutcome, InFlight, StoredResponse, new_token

if TYPE_CHECKING:
    from psycopg import AsyncConnection

    from ..database import Database

__all__ = [
    "DEFAULT_PURGE_BATCH",
    "DEFAULT_PURGE_INTERVAL",
    "DEFAULT_TABLE",
    "TABLE_PATTERN",
    "PostgresIdempotencyStore",
]

DEFAULT_TABLE = "idempotency_keys"
DEFAULT_PURGE_INTERVAL = 60.0
DEFAULT_PURGE_BATCH = 1000
_PURGE_BATCHES_PER_RUN = 20
TABLE_PATTERN = r"^(?:[a-z_][a-z0-9_]{0,47}\.)?[a-z_][a-z0-9_]{0,47}$"
_TABLE = re.compile(TABLE_PATTERN)
_log = get_logger("opsconductor.idempotency")
# A claim or a release lost in a PostgreSQL crash is harmless for writes to this same server
# (see the module docstring), so they do not wait for the WAL flush (about 5 ms per commit on
# a plain disk).
_ASYNC_COMMIT = "SET LOCAL synchronous_commit TO OFF"


class PostgresIdempotencyStore:
    """See the module docstring.

    Args:
        database: the service's `Database` (`install_database`); the store does not close it.
        table: `name` or `schema.name`, lower-case SQL identifiers.
        purge_interval: seconds between two deletions of expired entries.
        purge_batch: the most entries one deletion removes.

    Raises:
        ValueError: the table name is not `name` or `schema.name`.
    """

    def __init__(
        self,
        database: Database,
        *,
        table: str = DEFAULT_TABLE,
        purge_interval: float = DEFAULT_PURGE_INTERVAL,
        purge_batch: int = DEFAULT_PURGE_BATCH,
    ) -> None:
        from psycopg import sql  # noqa: PLC0415 - the postgres extra

        if _TABLE.fullmatch(table) is None:
            raise ValueError(
                f"the idempotency table {table!r} must be `name` or `schema.name` in lower-case "
                "letters, digits and underscores"
            )
        if purge_batch < 1 or purge_interval <= 0:
            raise ValueError("purge_batch must be at least 1 and purge_interval positive")
        self.database = database
        self.table = table
        self.purge_interval = purge_interval
        self.purge_batch = purge_batch
        schema, _, name = table.rpartition(".")
        self._schema = schema
        self._name = sql.Identifier(schema, name) if schema else sql.Identifier(name)
        self._next_purge = 0.0
        self._purging: asyncio.Task[None] | None = None
        t = self._name
        self._create = [
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} ("
                " key TEXT PRIMARY KEY CHECK (length(key) <= 128),"
                " fingerprint TEXT NOT NULL CHECK (length(fingerprint) <= 128),"
                " token TEXT NOT NULL,"
                " status SMALLINT,"  # NULL while the request runs
                " headers JSONB,"
                " body BYTEA,"
                " expires_at TIMESTAMPTZ NOT NULL)"
            ).format(t),
            sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (expires_at)").format(
                sql.Identifier(f"{name}_expires_at"), t
            ),
        ]
        if schema:
            self._create.insert(
                0, sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))
            )
        # Every column keeps its value unless the entry expired: the statement returns the
        # entry as it is after any concurrent claim or record of the key (the row lock), not
        # as this statement's snapshot saw it.
        fresh = "CASE WHEN e.expires_at <= now() THEN {} ELSE e.{} END"
        self._claim = sql.SQL(
            "INSERT INTO {t} AS e (key, fingerprint, token, expires_at)"
            " VALUES (%(key)s, %(fp)s, %(token)s, now() + make_interval(secs => %(lock)s))"
            " ON CONFLICT (key) DO UPDATE SET {assignments}"
            " RETURNING e.token = %(token)s AS claimed, e.fingerprint, e.status, e.headers, e.body"
        ).format(
            t=t,
            assignments=sql.SQL(", ").join(
                sql.SQL("{} = ").format(sql.Identifier(column))
                + sql.SQL(fresh).format(sql.SQL(value), sql.Identifier(column))
                for column, value in (
                    ("fingerprint", "excluded.fingerprint"),
                    ("token", "excluded.token"),
                    ("status", "NULL"),
                    ("headers", "NULL"),
                    ("body", "NULL"),
                    ("expires_at", "excluded.expires_at"),
                )
            ),
        )
        self._complete = sql.SQL(
            "UPDATE {} SET status = %s, headers = %s, body = %s,"
            " expires_at = now() + make_interval(secs => %s)"
            " WHERE key = %s AND token = %s AND status IS NULL"
        ).format(t)
        self._release = sql.SQL(
            "DELETE FROM {} WHERE key = %s AND token = %s AND status IS NULL"
        ).format(t)
        self._purge = sql.SQL(
            "DELETE FROM {t} WHERE key IN (SELECT key FROM {t} WHERE expires_at <= now()"
            " LIMIT %s FOR UPDATE SKIP LOCKED)"
        ).format(t=t)

    def __repr__(self) -> str:
        return f"PostgresIdempotencyStore(table={self.table!r})"

    async def create_table(self, conn: AsyncConnection[Any]) -> None:
        """The table and its index, if missing (the database's startup work)."""
        for statement in self._create:
            await conn.execute(statement)

    async def claim(self, key: str, fingerprint: str, *, lock_ttl: float) -> ClaimOutcome:
        params = {"key": key, "fp": fingerprint, "lock": lock_ttl}
        self._maybe_purge()
        token = new_token()
        async with self.database.transaction() as conn:
            await conn.execute(_ASYNC_COMMIT)
            row = await fetch_one(
                conn, self._claim, {**params, "token": token}, operation="idempotency claim"
            )
        if row is None:  # pragma: no cover - INSERT ... ON CONFLICT DO UPDATE returns its row
            raise RuntimeError("the idempotency claim returned no entry")
        if row["claimed"]:
            return Claimed(token)
        if row["status"] is None:
            return InFlight(row["fingerprint"])
        return StoredResponse(
            row["fingerprint"],
            int(row["status"]),
            tuple((str(name), str(value)) for name, value in row["headers"]),
            bytes(row["body"]),
        )

    def _params(self, key: str, token: str, response: StoredResponse, ttl: float) -> list[Any]:
        from psycopg.types.json import Jsonb  # noqa: PLC0415 - the postgres extra

        headers = Jsonb([list(pair) for pair in response.headers], dumps=_dumps)
        return [response.status, headers, response.body, ttl, key, token]

    async def record(
        self,
        conn: AsyncConnection[Any],
        key: str,
        token: str,
        response: StoredResponse,
        *,
        ttl: float,
    ) -> None:
        """Store `response` on `conn`, in its transaction: it commits with the route's write.

        Raises:
            ConflictError: the claim is no longer this request's: it expired (the request ran
                longer than `lock_ttl`), and another request with the key took it over or the
                purge deleted it; the route's transaction must roll back.
        """
        cursor = await conn.execute(self._complete, self._params(key, token, response, ttl))
        if cursor.rowcount != 1:
            raise ConflictError(
                "This request's hold on its Idempotency-Key expired before its response was "
                "recorded, and another request may hold the key now; nothing was changed. "
                "Retry later.",
                retry_after=1,
                metadata={"reason": "idempotency_key_in_flight"},
            )

    async def complete(self, key: str, token: str, response: StoredResponse, *, ttl: float) -> None:
        await self.database.execute(
            self._complete,
            self._params(key, token, response, ttl),
            operation="idempotency complete",
        )

    async def release(self, key: str, token: str) -> None:
        async with self.database.transaction() as conn:
            await conn.execute(_ASYNC_COMMIT)
            await execute(conn, self._release, [key, token], operation="idempotency release")

    async def purge(self) -> int:
        """Delete up to `purge_batch` expired entries now; how many were deleted."""
        return await self.database.execute(
            self._purge, [self.purge_batch], operation="idempotency purge"
        )

    def _maybe_purge(self) -> None:
        now = time.monotonic()
        if now < self._next_purge or (self._purging is not None and not self._purging.done()):
            return
        self._next_purge = now + self.purge_interval
        self._purging = asyncio.create_task(self._purge_quietly(), name="idempotency-purge")

    async def _purge_quietly(self) -> None:
        # Batch after batch while they come back full (bounded per interval), so a table
        # that gains more than one batch of expired entries per interval still shrinks.
        deleted = 0
        try:
            for _ in range(_PURGE_BATCHES_PER_RUN):
                batch = await self.purge()
                deleted += batch
                if batch < self.purge_batch:
                    break
        except Exception as exc:
            _log.warning("idempotency_store_failed", operation="purge", error=type(exc).__name__)
        if deleted:
            _log.debug("idempotency_purged", entries=deleted)

    async def aclose(self) -> None:
        if self._purging is not None:
            self._purging.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._purging


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()
