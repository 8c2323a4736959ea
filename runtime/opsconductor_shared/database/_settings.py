"""`DatabaseSettings`: how a service's PostgreSQL pool is sized, timed and named.

A service adds it to its own settings and reads it from the environment under its prefix:

    class Settings(ServiceSettings):
        database: DatabaseSettings

    TARGETS_DATABASE__DSN=postgresql://targets@db:5432/targets
    TARGETS_DATABASE__MAX_SIZE=20

Every default is the production choice; all durations are in seconds.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, Field, SecretStr, model_validator

from .._logging import DEFAULT_SLOW_QUERY_MS

__all__ = [
    "DEFAULT_ACQUIRE_TIMEOUT",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_MAX_IDLE",
    "DEFAULT_MAX_LIFETIME",
    "DEFAULT_MAX_SIZE",
    "DEFAULT_MAX_WAITING",
    "DEFAULT_MIN_SIZE",
    "DEFAULT_RECONNECT_INTERVAL",
    "DEFAULT_RETRY_AFTER",
    "DEFAULT_STATEMENT_TIMEOUT",
    "DEFAULT_TRANSACTION_ATTEMPTS",
    "DatabaseSettings",
]

DEFAULT_MIN_SIZE = 1
DEFAULT_MAX_SIZE = 10
DEFAULT_ACQUIRE_TIMEOUT = 3.0
DEFAULT_MAX_WAITING = 100
DEFAULT_MAX_LIFETIME = 3600.0
DEFAULT_MAX_IDLE = 600.0
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_STATEMENT_TIMEOUT = 30.0
DEFAULT_TRANSACTION_ATTEMPTS = 3
DEFAULT_RETRY_AFTER = 1.0
DEFAULT_RECONNECT_INTERVAL = 5.0

# libpq rounds connect_timeout to whole seconds and treats anything under 2 as 2.
_MIN_CONNECT_TIMEOUT = 2.0


class DatabaseSettings(BaseModel):
    """The PostgreSQL pool of one service (see the module docstring).

    `check` decides how a connection is verified when it leaves the pool: `fast` looks at
    the socket without a round trip (a connection the server closed or terminated always
    has something to read) and runs psycopg's `check_connection` round trip only then;
    `full` runs that round trip on every acquisition.
    """

    dsn: SecretStr = Field(
        description="libpq connection string or postgresql:// URL; may hold a password."
    )
    min_size: int = Field(DEFAULT_MIN_SIZE, ge=0, description="Connections kept open.")
    max_size: int = Field(DEFAULT_MAX_SIZE, ge=1, description="Most connections open at once.")
    acquire_timeout: float = Field(
        DEFAULT_ACQUIRE_TIMEOUT,
        gt=0,
        description="Longest wait for a pooled connection before the request fails with 503.",
    )
    max_waiting: int = Field(
        DEFAULT_MAX_WAITING,
        ge=1,
        description="Most requests queued for a connection; more fail at once with 503.",
    )
    max_lifetime: float = Field(
        DEFAULT_MAX_LIFETIME, gt=0, description="Connections older than this are replaced."
    )
    max_idle: float = Field(
        DEFAULT_MAX_IDLE, gt=0, description="Idle connections above min_size close after this."
    )
    connect_timeout: float = Field(
        DEFAULT_CONNECT_TIMEOUT,
        ge=_MIN_CONNECT_TIMEOUT,
        description="Longest wait for a new connection (libpq minimum: 2 s).",
    )
    statement_timeout: float | None = Field(
        DEFAULT_STATEMENT_TIMEOUT,
        ge=0,
        description="Server-side limit of one statement (57014 -> 504); 0 or None: no limit.",
    )
    lock_timeout: float | None = Field(
        None, ge=0, description="Server-side limit of a lock wait (55P03 -> 409); 0 or None: none."
    )
    application_name: str | None = Field(
        None,
        max_length=63,
        description="Shown in pg_stat_activity; default: the service name.",
    )
    check: Literal["fast", "full"] = "fast"
    open_wait: bool = Field(
        False,
        description="Wait at startup until min_size connections are open (fail fast when "
        "PostgreSQL is unreachable) instead of starting and reporting not ready.",
    )
    open_timeout: float = Field(10.0, gt=0, description="Startup wait when open_wait is set.")
    reconnect_interval: float = Field(
        DEFAULT_RECONNECT_INTERVAL,
        gt=0,
        description="Longest pause between attempts to reach PostgreSQL while it is "
        "unreachable (the pauses grow from a quarter second, jittered).",
    )
    slow_query_ms: float = Field(
        DEFAULT_SLOW_QUERY_MS, gt=0, description="Operations at least this slow log a warning."
    )
    log_queries: bool = Field(
        False, description="Log every operation at INFO (slow and failed ones always log)."
    )
    transaction_attempts: int = Field(
        DEFAULT_TRANSACTION_ATTEMPTS,
        ge=1,
        description="Tries of a transaction that fails with 40001 or 40P01 (1: no retry).",
    )
    retry_after: float = Field(
        DEFAULT_RETRY_AFTER, ge=0, description="Retry-After of 503s caused by the database."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.min_size > self.max_size:
            raise ValueError(
                f"database min_size ({self.min_size}) is larger than max_size "
                f"({self.max_size}); lower min_size or raise max_size"
            )
        if not self.dsn.get_secret_value().strip():
            raise ValueError("database dsn is empty; set it to a postgresql:// URL")
        return self
