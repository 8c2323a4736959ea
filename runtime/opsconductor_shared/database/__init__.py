"""PostgreSQL for services: a checked psycopg 3 pool, SQLSTATE error mapping, retries.

`Database` wraps psycopg_pool's `AsyncConnectionPool`; `install_database` ties it to an app
(lifespan, readiness, dependency); `handle_database_error` turns any driver's exception into
the library's HTTP errors by SQLSTATE. psycopg is imported only when a `Database` is made, so
this package imports without the `postgres` extra (for `handle_database_error` on psycopg2).
"""

from ._check import check_connection, socket_has_news
from ._errors import (
    RETRYABLE_SQLSTATES,
    UNAVAILABLE_SQLSTATES,
    handle_database_error,
    is_retryable,
    sqlstate_of,
)
from ._install import get_database, install_database
from ._pool import Database
from ._queries import execute, fetch_all, fetch_one, fetch_value
from ._retry import (
    DEFAULT_RETRY_BACKOFF,
    DEFAULT_RETRY_DEADLINE,
    DEFAULT_RETRY_MAX_BACKOFF,
    run_in_transaction,
)
from ._settings import (
    DEFAULT_ACQUIRE_TIMEOUT,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_IDLE,
    DEFAULT_MAX_LIFETIME,
    DEFAULT_MAX_SIZE,
    DEFAULT_MAX_WAITING,
    DEFAULT_MIN_SIZE,
    DEFAULT_RETRY_AFTER,
    DEFAULT_STATEMENT_TIMEOUT,
    DEFAULT_TRANSACTION_ATTEMPTS,
    DatabaseSettings,
)
from ._stats import PoolStats, pool_stats

__all__ = [
    "DEFAULT_ACQUIRE_TIMEOUT",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_MAX_IDLE",
    "DEFAULT_MAX_LIFETIME",
    "DEFAULT_MAX_SIZE",
    "DEFAULT_MAX_WAITING",
    "DEFAULT_MIN_SIZE",
    "DEFAULT_RETRY_AFTER",
    "DEFAULT_RETRY_BACKOFF",
    "DEFAULT_RETRY_DEADLINE",
    "DEFAULT_RETRY_MAX_BACKOFF",
    "DEFAULT_STATEMENT_TIMEOUT",
    "DEFAULT_TRANSACTION_ATTEMPTS",
    "Database",
    "DatabaseSettings",
    "PoolStats",
    "RETRYABLE_SQLSTATES",
    "UNAVAILABLE_SQLSTATES",
    "check_connection",
    "execute",
    "fetch_all",
    "fetch_one",
    "fetch_value",
    "get_database",
    "handle_database_error",
    "install_database",
    "is_retryable",
    "pool_stats",
    "run_in_transaction",
    "socket_has_news",
    "sqlstate_of",
]
