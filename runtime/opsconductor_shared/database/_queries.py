"""Running a statement on a connection: rows as dicts or as Pydantic models, timed and logged.

Each helper logs one `database_operation` event through `log_database_operation`: always when
it is slower than `slow_query_ms` (WARNING, with the statement text but never its
parameters) or fails (WARNING, with the SQLSTATE), and at INFO for every other operation when
`log_queries` is on. Driver errors propagate unchanged; `Database.connection()` translates
them into HTTP errors.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, LiteralString, TypeVar, overload

from pydantic import BaseModel

from .._logging import DEFAULT_SLOW_QUERY_MS, log_database_operation
from ._errors import sqlstate_of

if TYPE_CHECKING:
    from psycopg import AsyncConnection
    from psycopg.abc import Params
    from psycopg.sql import SQL, Composed

    Query = LiteralString | bytes | SQL | Composed

__all__ = ["execute", "fetch_all", "fetch_one", "fetch_value"]

ModelT = TypeVar("ModelT", bound=BaseModel)
_MAX_STATEMENT_LOG = 1000


def _operation_name(query: Query, operation: str | None) -> str:
    if operation:
        return operation
    text = query.decode(errors="replace") if isinstance(query, bytes) else query
    if isinstance(text, str):
        words = text.split(None, 1)
        return words[0].upper() if words else "EMPTY"
    return "SQL"


class _Timed:
    """Times one operation and logs it on exit (see the module docstring)."""

    def __init__(
        self, query: Query, operation: str | None, slow_query_ms: float, log_queries: bool
    ) -> None:
        self.query = query
        self.operation = _operation_name(query, operation)
        self.slow_query_ms = slow_query_ms
        self.log_queries = log_queries
        self.rows: int | None = None

    def __enter__(self) -> _Timed:
        self.started = time.perf_counter()
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        duration_ms = (time.perf_counter() - self.started) * 1000
        slow = duration_ms >= self.slow_query_ms
        if not (slow or exc is not None or self.log_queries):
            return
        extra: dict[str, Any] = {}
        if slow and isinstance(self.query, str | bytes):
            text = (
                self.query if isinstance(self.query, str) else self.query.decode(errors="replace")
            )
            extra["statement"] = text[:_MAX_STATEMENT_LOG]
        error = None
        if exc is not None:
            error = type(exc).__name__
            extra["sqlstate"] = sqlstate_of(exc)
        log_database_operation(
            self.operation,
            duration_ms=duration_ms,
            rows=self.rows,
            slow_threshold_ms=self.slow_query_ms,
            error=error,
            **extra,
        )


@overload
async def fetch_all(
    conn: AsyncConnection[Any],
    query: Query,
    params: Params | None = None,
    *,
    model: None = None,
    operation: str | None = None,
    slow_query_ms: float = DEFAULT_SLOW_QUERY_MS,
    log_queries: bool = False,
) -> list[dict[str, Any]]: ...


@overload
async def fetch_all(
    conn: AsyncConnection[Any],
    query: Query,
    params: Params | None = None,
    *,
    model: type[ModelT],
    operation: str | None = None,
    slow_query_ms: float = DEFAULT_SLOW_QUERY_MS,
    log_queries: bool = False,
) -> list[ModelT]: ...


async def fetch_all(
    conn: AsyncConnection[Any],
    query: Query,
    params: Params | None = None,
    *,
    model: type[BaseModel] | None = None,
    operation: str | None = None,
    slow_query_ms: float = DEFAULT_SLOW_QUERY_MS,
    log_queries: bool = False,
) -> list[dict[str, Any]] | list[Any]:
    """Every row of `query`, as dicts (column -> value) or validated into `model`."""
    from psycopg.rows import dict_row  # noqa: PLC0415 - optional dependency

    with _Timed(query, operation, slow_query_ms, log_queries) as timed:
        async with conn.cursor(row_factory=dict_row) as cursor:
            await cursor.execute(query, params)
            rows = await cursor.fetchall()
        timed.rows = len(rows)
    if model is None:
        return rows
    return [model.model_validate(row) for row in rows]


@overload
async def fetch_one(
    conn: AsyncConnection[Any],
    query: Query,
    params: Params | None = None,
    *,
    model: None = None,
    operation: str | None = None,
    slow_query_ms: float = DEFAULT_SLOW_QUERY_MS,
    log_queries: bool = False,
) -> dict[str, Any] | None: ...


@overload
async def fetch_one(
    conn: AsyncConnection[Any],
    query: Query,
    params: Params | None = None,
    *,
    model: type[ModelT],
    operation: str | None = None,
    slow_query_ms: float = DEFAULT_SLOW_QUERY_MS,
    log_queries: bool = False,
) -> ModelT | None: ...


async def fetch_one(
    conn: AsyncConnection[Any],
    query: Query,
    params: Params | None = None,
    *,
    model: type[BaseModel] | None = None,
    operation: str | None = None,
    slow_query_ms: float = DEFAULT_SLOW_QUERY_MS,
    log_queries: bool = False,
) -> dict[str, Any] | Any | None:
    """The first row of `query` (dict or `model`), or None when there is none."""
    from psycopg.rows import dict_row  # noqa: PLC0415 - optional dependency

    with _Timed(query, operation, slow_query_ms, log_queries) as timed:
        async with conn.cursor(row_factory=dict_row) as cursor:
            await cursor.execute(query, params)
            row = await cursor.fetchone()
        timed.rows = 0 if row is None else 1
    if row is None or model is None:
        return row
    return model.model_validate(row)


async def fetch_value(
    conn: AsyncConnection[Any],
    query: Query,
    params: Params | None = None,
    *,
    operation: str | None = None,
    slow_query_ms: float = DEFAULT_SLOW_QUERY_MS,
    log_queries: bool = False,
) -> Any:
    """The first column of the first row of `query`, or None when there is no row."""
    with _Timed(query, operation, slow_query_ms, log_queries) as timed:
        async with conn.cursor() as cursor:
            await cursor.execute(query, params)
            row = await cursor.fetchone()
        timed.rows = 0 if row is None else 1
    return None if row is None else row[0]


async def execute(
    conn: AsyncConnection[Any],
    query: Query,
    params: Params | None = None,
    *,
    operation: str | None = None,
    slow_query_ms: float = DEFAULT_SLOW_QUERY_MS,
    log_queries: bool = False,
) -> int:
    """Run a statement for its effect; the number of rows it affected (-1 when unknown)."""
    with _Timed(query, operation, slow_query_ms, log_queries) as timed:
        async with conn.cursor() as cursor:
            await cursor.execute(query, params)
            timed.rows = cursor.rowcount
    return timed.rows
