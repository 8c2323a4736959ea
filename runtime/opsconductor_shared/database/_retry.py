"""Re-running a transaction that lost a serialization conflict or a deadlock.

PostgreSQL aborts one of two conflicting transactions with 40001 (serialization failure) or
40P01 (deadlock detected); running the loser again usually succeeds. `run_in_transaction`
does so a bounded number of times (`attempts`, and no new attempt after `deadline` seconds),
with full-jitter exponential backoff between attempts, and then gives up with the mapped
error: 409 CONFLICT for 40001, 503 SERVICE_UNAVAILABLE with Retry-After for 40P01. Nothing
else is retried. `attempts=1` (or the `transaction_attempts` setting) switches retries off.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from .._errors import StandardHTTPException
from .._logging import get_logger
from ._errors import is_retryable, sqlstate_of

if TYPE_CHECKING:
    from psycopg import AsyncConnection, IsolationLevel

    from ._pool import Database

__all__ = [
    "DEFAULT_RETRY_BACKOFF",
    "DEFAULT_RETRY_DEADLINE",
    "DEFAULT_RETRY_MAX_BACKOFF",
    "run_in_transaction",
]

DEFAULT_RETRY_BACKOFF = 0.02
DEFAULT_RETRY_MAX_BACKOFF = 0.5
DEFAULT_RETRY_DEADLINE = 10.0

T = TypeVar("T")
_log = get_logger("opsconductor.database")


async def run_in_transaction(
    db: Database,
    work: Callable[[AsyncConnection[Any]], Awaitable[T]],
    *,
    attempts: int | None = None,
    isolation_level: IsolationLevel | None = None,
    read_only: bool | None = None,
    operation: str | None = None,
    backoff: float = DEFAULT_RETRY_BACKOFF,
    max_backoff: float = DEFAULT_RETRY_MAX_BACKOFF,
    deadline: float = DEFAULT_RETRY_DEADLINE,
) -> T:
    """`await work(conn)` inside `db.transaction()`, re-run on 40001 / 40P01.

    `work` must be safe to run again: everything it did in a failed attempt was rolled back,
    but effects outside the database (a message sent, a file written) were not.

    Args:
        db: the database to run on.
        work: the transaction's body; its result is returned.
        attempts: most runs in all; default the `transaction_attempts` setting.
        isolation_level: of every attempt, such as `IsolationLevel.SERIALIZABLE`.
        read_only: start read-only transactions.
        operation: what the transaction does, for the log.
        backoff: first upper bound of the random pause between attempts, in seconds.
        max_backoff: largest upper bound of that pause.
        deadline: no attempt starts later than this many seconds after the first.

    Raises:
        ConflictError: 409 when the last attempt failed with 40001.
        DatabaseError: 503 when it failed with 40P01; any other error at once, translated.
    """
    attempts = db.settings.transaction_attempts if attempts is None else attempts
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    started = time.monotonic()
    attempt = 1
    while True:
        try:
            async with db.transaction(isolation_level=isolation_level, read_only=read_only) as conn:
                return await work(conn)
        except StandardHTTPException as exc:
            cause = exc.__cause__
            if cause is None or not is_retryable(cause) or attempt >= attempts:
                raise
            pause = random.uniform(0, min(max_backoff, backoff * 2 ** (attempt - 1)))  # noqa: S311 - jitter, not crypto
            if time.monotonic() - started + pause > deadline:
                raise
            _log.warning(
                "transaction_retry",
                operation=operation,
                attempt=attempt,
                attempts=attempts,
                sqlstate=sqlstate_of(cause),
                pause_ms=round(pause * 1000, 3),
            )
            attempt += 1
            await asyncio.sleep(pause)
