"""PostgreSQL for services: a checked psycopg 3 pool, SQLSTATE error mapping, retries.

`Database` wraps psycopg_pool's `AsyncConnectionPool`; `install_database` ties it to an app
(lifespan, readiness, dependency); `handle_database_error` turns any driver's exception into
the library's HTTP errors by SQLSTATE. psycopg is imported only when a `Database` is made, so
this package imports without the `postgres` extra (for `handle_database_error` on psycopg2).
"""

from ._errors import handle_database_error, is_retryable, sqlstate_of
from ._install import get_database, install_database
from ._pool import Database
from ._queries import execute, fetch_all, fetch_one, fetch_value
from ._retry import run_in_transaction
from ._settings import DatabaseSettings
from ._stats import PoolStats

__all__ = [
    "Database",
    "DatabaseSettings",
    "PoolStats",
    "execute",
    "fetch_all",
    "fetch_one",
    "fetch_value",
    "get_database",
    "handle_database_error",
    "install_database",
    "is_retryable",
    "run_in_transaction",
    "sqlstate_of",
]
