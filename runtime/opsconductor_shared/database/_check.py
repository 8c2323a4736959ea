"""Checking a pooled connection before a request gets it.

An idle connection has nothing to read: PostgreSQL only writes to it unprompted when it ends
it (`pg_terminate_backend`, a shutdown or restart, `idle_session_timeout`: an error message,
then EOF) or for notifications. So a connection whose socket is readable, hung up or in error
gets psycopg's `AsyncConnectionPool.check_connection` round trip, and one whose socket is
quiet goes out as it is: the check costs a `poll()` instead of a round trip. The `full` mode
runs the round trip every time.
"""

from __future__ import annotations

import functools
import select
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from psycopg import AsyncConnection

__all__ = ["check_connection", "socket_has_news"]

_EVENTS = (
    getattr(select, "POLLIN", 1) | getattr(select, "POLLERR", 8) | getattr(select, "POLLHUP", 16)
)


@functools.cache
def _dependencies() -> tuple[Any, Any]:
    import psycopg  # noqa: PLC0415 - optional dependency
    from psycopg_pool import AsyncConnectionPool  # noqa: PLC0415

    return psycopg, AsyncConnectionPool


def socket_has_news(fileno: int) -> bool:
    """Whether a socket is readable, hung up or in error, without waiting."""
    if not hasattr(select, "poll"):  # no poll(): assume the worst and let the round trip decide
        return True
    poller = select.poll()
    poller.register(fileno, _EVENTS)
    return bool(poller.poll(0))


async def check_connection(conn: AsyncConnection[Any], mode: Literal["fast", "full"]) -> None:
    """Raise if `conn` cannot serve a request (see the module docstring).

    Raises:
        psycopg.OperationalError: the connection is closed, broken or fails the round trip.
    """
    psycopg, pool_class = _dependencies()
    pgconn = conn.pgconn
    if conn.closed or pgconn.status != psycopg.pq.ConnStatus.OK:
        raise psycopg.OperationalError("the connection is closed")
    if pgconn.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        raise psycopg.OperationalError("the connection is not idle")
    if mode == "full" or socket_has_news(pgconn.socket):
        await pool_class.check_connection(conn)
