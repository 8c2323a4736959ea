"""Caches shared across a service's replicas, and the Redis client the runtime uses.

`Cache` is the interface (async `get` / `set(ttl=)` / `delete` of bytes); `MemoryCache` is the
embedded default and `RedisCache` the shared one. The auth layer's remote token-verification
cache is meant to be a `Cache`. `RedisSettings` and `create_redis_client` are also what rate
limiting uses, so one Redis configuration serves both.
"""

from ._memory import DEFAULT_MAX_ENTRIES, Cache, MemoryCache
from ._redis import (
    DEFAULT_REDIS_CONNECT_TIMEOUT,
    DEFAULT_REDIS_MAX_CONNECTIONS,
    DEFAULT_REDIS_SOCKET_TIMEOUT,
    DEFAULT_REDIS_URL,
    RedisCache,
    RedisSettings,
    create_redis_client,
)

__all__ = [
    "Cache",
    "DEFAULT_MAX_ENTRIES",
    "DEFAULT_REDIS_CONNECT_TIMEOUT",
    "DEFAULT_REDIS_MAX_CONNECTIONS",
    "DEFAULT_REDIS_SOCKET_TIMEOUT",
    "DEFAULT_REDIS_URL",
    "MemoryCache",
    "RedisCache",
    "RedisSettings",
    "create_redis_client",
]
