"""`Database`: a psycopg 3 `AsyncConnectionPool` configured from `DatabaseSettings`.

    db = Database(settings.database, application_name="targets")
    await db.open()                                  # or install_database(app) in the lifespan
    async with db.connection() as conn: ...          # autocommit: each statement on its own
    async with db.transaction() as conn: ...         # BEGIN ... COMMIT, ROLLBACK on error
    await db.run_transaction(work)                   # retried on 40001 / 40P01
    rows = await db.fetch_all("SELECT ...", params, model=Target)
    db.stats()                                       # PoolStats, for metrics and readiness

Connections are autocommit, so nothing is left idle in a transaction, and each is checked
when it leaves the pool (`_check`). The checking loop is ours, not psycopg_pool's: the pool's
own loop sleeps 1 s, 2 s, 4 s ... between failed checks, so after a PostgreSQL restart one
request would wait seconds to get past the dead connections; here each dead one is closed and
replaced at once. Every driver error leaving `connection()` or `transaction()` is translated
by `handle_database_error` (`raise ... from exc`).

PostgreSQL may be missing when the service starts and may go away later; the service starts
and stays up either way. The pool opens without waiting. Every connection attempt reports
to `Database.state` (a `DependencyState`: one log line per outage, readiness says the last
error), and while the last attempt failed a watcher asks the pool for a new connection after
a jittered backoff of at most `reconnect_interval` seconds, so the service is ready soon
after PostgreSQL is back, with no restart. Work the service does at startup
(`add_startup_work`, such as creating its tables) runs once PostgreSQL is reachable, under
an advisory lock, so replicas starting together run it one at a time, retried with backoff;
until it is done, readiness says so and requests get 503 with `Retry-After`. `open` waits
for its first try (at most `acquire_timeout`), so a service whose database is there starts
ready.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from opsconductor_contracts import HealthStatus

from .._errors import StandardHTTPException
from .._health import DependencyState, HealthCheckError
from .._logging import get_logger
from . import _queries
from ._check import check_connection
from ._errors import handle_database_error
from ._settings import DatabaseSettings
from ._stats import PoolStats, pool_stats

if TYPE_CHECKING:
    from fastapi import FastAPI
    from psycopg import AsyncConnection, IsolationLevel
    from psycopg.abc import Params
    from psycopg_pool import AsyncConnectionPool

    from ._queries import Query

__all__ = ["Database", "StartupWork"]

T = TypeVar("T")
StartupWork = Callable[["AsyncConnection[Any]"], Awaitable[None]]
_log = get_logger("opsconductor.database")
# The pool gives up on a failed connection slot after this; the watcher asks again.
_POOL_RECONNECT_TIMEOUT = 1.0
_FIRST_RETRY_DELAY = 0.25
_UP_WATCH_INTERVAL = 1.0
# psycopg_pool's own line per failed attempt; `Database.state` says it once per outage.
_POOL_ATTEMPT_LINES = ("error connecting in %r: %s", "reconnection attempt in pool %r failed")


def _quiet_pool_attempts(record: logging.LogRecord) -> bool:
    return not (isinstance(record.msg, str) and record.msg.startswith(_POOL_ATTEMPT_LINES))


def _observed_connection_class(psycopg: Any, state: DependencyState) -> Any:
    """A connection class whose every connection attempt reports to `state`."""

    class ObservedConnection(psycopg.AsyncConnection):  # type: ignore[misc]
        @classmethod
        async def connect(cls, conninfo: str = "", **kwargs: Any) -> Any:
            try:
                conn = await super().connect(conninfo, **kwargs)
            except psycopg.Error as exc:
                state.failed(exc)
                raise
            state.succeeded()
            return conn

    return ObservedConnection


def _backoff(delay: float, cap: float) -> float:
    return min(cap, delay * 2) * random.uniform(0.8, 1.0)  # noqa: S311 - jitter, not secrecy


def _require_postgres() -> Any:
    try:
        import psycopg  # noqa: PLC0415 - optional dependency
        import psycopg_pool  # noqa: PLC0415
    except ImportError as exc:
        raise ImportError(
            "Database needs psycopg 3 and psycopg-pool: install opsconductor-shared[postgres]"
        ) from exc
    return psycopg, psycopg_pool


class Database:
    """A PostgreSQL pool for one service (see the module docstring).

    Args:
        settings: sizes, timeouts and names.
        application_name: `pg_stat_activity` name when the settings name none.
        fields: constraint name -> public field name, for error responses.
    """

    def __init__(
        self,
        settings: DatabaseSettings,
        *,
        application_name: str = "opsconductor",
        fields: Mapping[str, str] | None = None,
    ) -> None:
        psycopg, psycopg_pool = _require_postgres()
        self.settings = settings
        self.application_name = settings.application_name or application_name
        self.fields = dict(fields or {})
        self._driver_error: type[Exception] = psycopg.Error
        self._pool_timeout: type[Exception] = psycopg_pool.PoolTimeout
        self._checks_failed = 0
        self.state = DependencyState(
            "database",
            effect="requests that need PostgreSQL answer 503 with Retry-After",
            level="error",
        )
        self._startup_work: list[tuple[str, StartupWork]] = []
        self._startup_pending: str | None = None
        self._tasks: list[asyncio.Task[None]] = []
        logging.getLogger("psycopg.pool").addFilter(_quiet_pool_attempts)
        dsn = settings.dsn.get_secret_value()
        options = [psycopg.conninfo.conninfo_to_dict(dsn).get("options") or ""]
        for name, value in (
            ("statement_timeout", settings.statement_timeout),
            ("lock_timeout", settings.lock_timeout),
        ):
            if value:
                options.append(f"-c {name}={math.ceil(value * 1000)}")
        self.pool: AsyncConnectionPool[AsyncConnection[Any]] = psycopg_pool.AsyncConnectionPool(
            dsn,
            min_size=settings.min_size,
            max_size=settings.max_size,
            open=False,
            name=self.application_name,
            timeout=settings.acquire_timeout,
            max_waiting=settings.max_waiting,
            max_lifetime=settings.max_lifetime,
            max_idle=settings.max_idle,
            reconnect_timeout=_POOL_RECONNECT_TIMEOUT,
            connection_class=_observed_connection_class(psycopg, self.state),
            kwargs={
                "autocommit": True,
                "application_name": self.application_name,
                "connect_timeout": math.ceil(settings.connect_timeout),
                "options": " ".join(part for part in options if part),
            },
        )

    def __repr__(self) -> str:
        return (
            f"Database(application_name={self.application_name!r}, "
            f"min_size={self.settings.min_size}, max_size={self.settings.max_size})"
        )

    def add_startup_work(self, name: str, work: StartupWork) -> None:
        """Run `work(conn)` once PostgreSQL is reachable, before any request is served (see
        the module docstring): in one transaction holding the advisory lock named after
        `name`, retried with backoff until it succeeds. Make it idempotent (`CREATE ...
        IF NOT EXISTS`): each replica runs it once, one replica at a time.

        Raises:
            RuntimeError: the pool is open already.
        """
        if self._tasks:
            raise RuntimeError("add startup work before the database is opened")
        self._startup_work.append((name, work))
        self._startup_pending = self._startup_pending or name

    @property
    def ready(self) -> bool:
        """Whether the startup work is done (requests are served)."""
        return self._startup_pending is None

    async def open(self) -> None:
        """Start the pool without waiting for PostgreSQL (see the module docstring); with
        `open_wait`, wait until `min_size` connections are open.

        Raises:
            DatabaseError: 503 when `open_wait` is set and PostgreSQL is not reachable.
        """
        await self.pool.open()
        if self.settings.open_wait:
            try:
                await self.pool.wait(timeout=self.settings.open_timeout)
            except self._driver_error as exc:
                raise self._translate(exc, "open") from exc
        self._tasks = [asyncio.create_task(self._watch(), name="database-watcher")]
        if self._startup_work:
            tried = asyncio.Event()
            self._tasks.append(
                asyncio.create_task(self._run_startup_work(tried), name="database-startup-work")
            )
            # A reachable database starts the service ready; a missing one does not hold it.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.acquire_timeout):
                    await self._first_try(tried)
        _log.info("database_pool_opened", pool=self.application_name)

    async def close(self) -> None:
        """Close the pool; connections still in use close when they come back."""
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.pool.close()
        _log.info("database_pool_closed", pool=self.application_name)

    async def _first_try(self, tried: asyncio.Event) -> None:
        await self.state.known.wait()
        if not self.state.down:  # reachable: the startup work is under way
            await tried.wait()

    async def _watch(self) -> None:
        delay = _FIRST_RETRY_DELAY
        while True:
            if not self.state.down:
                delay = _FIRST_RETRY_DELAY
                await asyncio.sleep(_UP_WATCH_INTERVAL)
                continue
            await asyncio.sleep(delay)
            delay = _backoff(delay, self.settings.reconnect_interval)
            try:
                # Grows the pool when it has no connection; the attempt reports to the state.
                await self.pool.check()
            except Exception as exc:
                _log.error("database_watch_failed", exc_info=exc)

    async def _run_startup_work(self, tried: asyncio.Event) -> None:
        for name, work in self._startup_work:
            self._startup_pending = name
            delay = _FIRST_RETRY_DELAY
            while True:
                if self.state.down:  # no attempt until the watcher has reached it again
                    tried.set()
                    await asyncio.sleep(delay)
                    delay = _backoff(delay, self.settings.reconnect_interval)
                    continue
                try:
                    async with (
                        _Borrowed(self, self.settings.acquire_timeout, gated=False) as conn,
                        conn.transaction(),
                    ):
                        await conn.execute(
                            "SELECT pg_advisory_xact_lock(hashtext(%s))",
                            [f"opsconductor.startup:{name}"],
                        )
                        await work(conn)
                    break
                except StandardHTTPException as exc:
                    if exc.status != 503:  # not an outage: a defect to fix, with its traceback
                        _log.error("database_startup_work_failed", work=name, exc_info=exc)
                except Exception as exc:
                    _log.error("database_startup_work_failed", work=name, exc_info=exc)
                tried.set()
                await asyncio.sleep(delay)
                delay = _backoff(delay, self.settings.reconnect_interval)
            _log.info("database_startup_work_done", work=name)
        self._startup_pending = None
        tried.set()

    async def __aenter__(self) -> Database:
        await self.open()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    @asynccontextmanager
    async def lifespan(self, _: FastAPI) -> AsyncIterator[None]:
        """The app lifespan hook: open at startup, close at shutdown."""
        async with self:
            yield

    def _translate(self, exc: BaseException, operation: str | None = None) -> StandardHTTPException:
        return handle_database_error(
            exc, operation=operation, fields=self.fields, retry_after=self.settings.retry_after
        )

    async def _acquire(self, wait: float) -> AsyncConnection[Any]:
        deadline = time.monotonic() + wait
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._pool_timeout(f"couldn't get a connection after {wait:.2f} sec")
            conn = await self.pool.getconn(timeout=remaining)
            try:
                await check_connection(conn, self.settings.check)
            except Exception as exc:
                self._checks_failed += 1
                _log.info("database_connection_discarded", reason=type(exc).__name__)
                await conn.close()
                await self.pool.putconn(conn)
                continue
            except BaseException:
                await self.pool.putconn(conn)
                raise
            return conn

    def connection(
        self, *, acquire_timeout: float | None = None
    ) -> AbstractAsyncContextManager[AsyncConnection[Any]]:
        """A checked connection from the pool, in autocommit mode, returned on exit.

        Args:
            acquire_timeout: longest wait for a connection; default the setting.

        Raises:
            DatabaseError: 503 when no connection is free in time or the queue is full.
            StandardHTTPException: any driver error, translated by `handle_database_error`.
        """
        wait = self.settings.acquire_timeout if acquire_timeout is None else acquire_timeout
        return _Borrowed(self, wait, gated=True)

    @asynccontextmanager
    async def transaction(
        self,
        *,
        acquire_timeout: float | None = None,
        isolation_level: IsolationLevel | None = None,
        read_only: bool | None = None,
    ) -> AsyncIterator[AsyncConnection[Any]]:
        """A connection inside one transaction: committed on exit, rolled back on error.

        Args:
            acquire_timeout: longest wait for a connection; default the setting.
            isolation_level: such as `psycopg.IsolationLevel.SERIALIZABLE`; default the server's.
            read_only: start a read-only transaction.
        """
        async with (
            self.connection(acquire_timeout=acquire_timeout) as conn,
            _transaction(conn, isolation_level, read_only),
        ):
            yield conn

    async def run_transaction(
        self,
        work: Callable[[AsyncConnection[Any]], Awaitable[T]],
        *,
        attempts: int | None = None,
        isolation_level: IsolationLevel | None = None,
        read_only: bool | None = None,
        operation: str | None = None,
    ) -> T:
        """`work(conn)` in a transaction, re-run on 40001 / 40P01 (see `run_in_transaction`)."""
        from ._retry import run_in_transaction  # noqa: PLC0415 - _retry imports this module

        return await run_in_transaction(
            self,
            work,
            attempts=attempts,
            isolation_level=isolation_level,
            read_only=read_only,
            operation=operation,
        )

    async def fetch_all(
        self,
        query: Query,
        params: Params | None = None,
        *,
        model: Any = None,
        operation: str | None = None,
    ) -> list[Any]:
        """Every row of `query` (dicts, or instances of `model`) on a pooled connection."""
        async with self.connection() as conn:
            rows: list[Any] = await _queries.fetch_all(
                conn, query, params, model=model, **self._log_options(operation)
            )
        return rows

    async def fetch_one(
        self,
        query: Query,
        params: Params | None = None,
        *,
        model: Any = None,
        operation: str | None = None,
    ) -> Any:
        """The first row of `query` (dict, or an instance of `model`), or None."""
        async with self.connection() as conn:
            return await _queries.fetch_one(
                conn, query, params, model=model, **self._log_options(operation)
            )

    async def fetch_value(
        self, query: Query, params: Params | None = None, *, operation: str | None = None
    ) -> Any:
        """The first column of the first row of `query`, or None."""
        async with self.connection() as conn:
            return await _queries.fetch_value(conn, query, params, **self._log_options(operation))

    async def execute(
        self, query: Query, params: Params | None = None, *, operation: str | None = None
    ) -> int:
        """Run a statement for its effect; the number of rows it affected."""
        async with self.connection() as conn:
            return await _queries.execute(conn, query, params, **self._log_options(operation))

    def _log_options(self, operation: str | None) -> dict[str, Any]:
        return {
            "operation": operation,
            "slow_query_ms": self.settings.slow_query_ms,
            "log_queries": self.settings.log_queries,
        }

    def stats(self) -> PoolStats:
        """Pool sizes and counters (see `PoolStats`)."""
        return pool_stats(self.pool.get_stats(), checks_failed=self._checks_failed)

    async def ping(self, *, acquire_timeout: float | None = None) -> float:
        """One `SELECT 1` round trip on a pooled connection; its duration in milliseconds."""
        started = time.perf_counter()
        wait = self.settings.acquire_timeout if acquire_timeout is None else acquire_timeout
        async with _Borrowed(self, wait, gated=False) as conn:
            await conn.execute("SELECT 1")
        return (time.perf_counter() - started) * 1000

    async def health_check(self) -> HealthStatus:
        """Readiness: healthy after a round trip, degraded when requests queue for connections.

        Raises:
            HealthCheckError: PostgreSQL is unreachable (the message says the last error,
                without host or credentials), or the startup work is not done yet.
        """
        self.state.raise_if_down()
        try:
            duration_ms = await self.ping()
        except StandardHTTPException as exc:
            self.state.raise_if_down()
            raise HealthCheckError(f"database unavailable ({exc.code})") from exc
        if self._startup_pending is not None:
            raise HealthCheckError(
                f"database reachable, startup work {self._startup_pending!r} not done yet"
            )
        stats = self.stats()
        _log.debug("database_ready", round_trip_ms=round(duration_ms, 3), **stats.as_dict())
        return HealthStatus.degraded if stats.waiting else HealthStatus.healthy


class _Borrowed:
    """`Database.connection()`: a class, not a generator, as it runs on every request."""

    __slots__ = ("_conn", "_db", "_gated", "_wait")

    def __init__(self, db: Database, wait: float, *, gated: bool) -> None:
        self._db = db
        self._wait = wait
        self._gated = gated

    async def __aenter__(self) -> AsyncConnection[Any]:
        db = self._db
        if self._gated and db._startup_pending is not None:
            raise handle_database_error(
                db._pool_timeout("the startup work is not done yet"),
                operation="acquire",
                retry_after=db.settings.retry_after,
            )
        try:
            self._conn = await db._acquire(self._wait)
        except db._driver_error as exc:
            raise db._translate(exc, "acquire") from exc
        return self._conn

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        db = self._db
        try:
            if isinstance(exc, db._driver_error):
                raise db._translate(exc) from exc
        finally:
            await db.pool.putconn(self._conn)


@asynccontextmanager
async def _transaction(
    conn: AsyncConnection[Any], isolation_level: IsolationLevel | None, read_only: bool | None
) -> AsyncIterator[None]:
    # Set for this transaction only: the connection goes back to the pool afterwards.
    if isolation_level is not None:
        await conn.set_isolation_level(isolation_level)
    if read_only is not None:
        await conn.set_read_only(read_only)
    try:
        async with conn.transaction():
            yield
    finally:
        try:
            if isolation_level is not None:
                await conn.set_isolation_level(None)
            if read_only is not None:
                await conn.set_read_only(None)
        except Exception:
            # Never hand the next borrower a connection with this transaction's settings.
            await conn.close()
