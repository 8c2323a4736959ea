"""Redis for services: its settings, and a client whose every call ends in bounded time.

`create_redis_client` builds a `redis.asyncio.Redis` on a blocking connection pool with short
socket, connect and pool timeouts and no retries except one on a dropped connection (a reset
socket fails at once; retrying it hides a Redis restart, retrying a timeout would double the
wait). So a Redis that is down or black-holed costs a caller at most about the timeouts, never
redis-py's default of three retries with backoff.

Rate limiting (`RedisRateLimitStore`) and the shared cache (`RedisCache`) use it, so one Redis
configuration serves both. redis is imported only when a client is made, so this module
imports without the `redis` extra.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, SecretStr

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = [
    "DEFAULT_REDIS_CONNECT_TIMEOUT",
    "DEFAULT_REDIS_MAX_CONNECTIONS",
    "DEFAULT_REDIS_SOCKET_TIMEOUT",
    "DEFAULT_REDIS_URL",
    "RedisSettings",
    "create_redis_client",
    "require_redis",
]

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_REDIS_SOCKET_TIMEOUT = 0.25
DEFAULT_REDIS_CONNECT_TIMEOUT = 0.25
DEFAULT_REDIS_MAX_CONNECTIONS = 50


class RedisSettings(BaseModel):
    """Where Redis is and how long a call may take (seconds)."""

    url: SecretStr = Field(
        SecretStr(DEFAULT_REDIS_URL),
        description="redis:// or rediss:// URL, with the database number; may hold a password.",
    )
    socket_timeout: float = Field(
        DEFAULT_REDIS_SOCKET_TIMEOUT, gt=0, description="Longest wait for one reply."
    )
    connect_timeout: float = Field(
        DEFAULT_REDIS_CONNECT_TIMEOUT, gt=0, description="Longest wait for a new connection."
    )
    max_connections: int = Field(
        DEFAULT_REDIS_MAX_CONNECTIONS, ge=1, description="Connections per process, at most."
    )
    pool_timeout: float = Field(
        DEFAULT_REDIS_SOCKET_TIMEOUT,
        gt=0,
        description="Longest wait for a free connection when all are in use.",
    )


def require_redis() -> Any:
    """The `redis` module.

    Raises:
        ImportError: redis is not installed (install the `redis` extra).
    """
    try:
        import redis.asyncio  # noqa: PLC0415 - optional dependency
    except ImportError as exc:
        raise ImportError(
            "Redis support needs the redis package: install opsconductor-shared[redis]"
        ) from exc
    return redis


def create_redis_client(settings: RedisSettings) -> Redis:
    """A `redis.asyncio.Redis` whose calls end in bounded time (see the module docstring)."""
    redis = require_redis()
    from redis.asyncio.retry import Retry  # noqa: PLC0415
    from redis.backoff import NoBackoff  # noqa: PLC0415

    pool = redis.asyncio.BlockingConnectionPool.from_url(
        settings.url.get_secret_value(),
        max_connections=settings.max_connections,
        timeout=settings.pool_timeout,
        socket_timeout=settings.socket_timeout,
        socket_connect_timeout=settings.connect_timeout,
        retry=Retry(NoBackoff(), 1, supported_errors=(redis.exceptions.ConnectionError,)),
    )
    client: Redis = redis.asyncio.Redis.from_pool(pool)
    return client
