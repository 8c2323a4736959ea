"""`install_idempotency`: give an app its idempotency store, middleware and replay handler.

class Settings(ServiceSettings):
    idempotency: IdempotencySettings = IdempotencySettings()

TARGETS_SERVICE_IDEMPOTENCY__STORAGE=redis
TARGETS_SERVICE_IDEMPOTENCY__REDIS__URL=redis://redis:6379/0
TARGETS_SERVICE_IDEMPOTENCY__TTL=86400

TARGETS_SERVICE_IDEMPOTENCY__STORAGE=postgres          # the app's `install_database` pool
TARGETS_SERVICE_IDEMPOTENCY__TABLE=targets_service.idempotency_keys
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

from fastapi import FastAPI
from pydantic import BaseModel, Field, field_validator
from starlette.requests import Request
from starlette.responses import Response

from .._app import get_runtime
from .._redis import RedisSettings
from ._dependency import (
    CONFIG_STATE_ATTRIBUTE,
    DEFAULT_MAX_KEY_LENGTH,
    IdempotencyConfig,
    IdempotentReplay,
    replay_response,
)
from ._middleware import idempotency_layer
from ._postgres import DEFAULT_TABLE, TABLE_PATTERN
from ._redis import DEFAULT_KEY_PREFIX, RedisIdempotencyStore
from ._store import (
    DEFAULT_MAX_ENTRIES,
    IdempotencyStore,
    MemoryIdempotencyStore,
    RecordingIdempotencyStore,
)

__all__ = ["IdempotencySettings", "install_idempotency"]

DEFAULT_TTL = 24 * 3600.0
DEFAULT_LOCK_TTL = 60.0
DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024
DEFAULT_REDIS_TIMEOUT = 1.0
# Longer than a cache's: a claim is a correctness check, and a timeout is a 503.
_REDIS_TIMEOUTS = {
    "socket_timeout": DEFAULT_REDIS_TIMEOUT,
    "connect_timeout": DEFAULT_REDIS_TIMEOUT,
    "pool_timeout": 2 * DEFAULT_REDIS_TIMEOUT,
}


class IdempotencySettings(BaseModel):
    """Where idempotency keys live and for how long (seconds)."""

    storage: Literal["memory", "redis", "postgres"] = Field(
        "memory",
        description=(
            "memory: this process only; redis: shared by every replica; postgres: shared, "
            "in the app's database, and recorded in a route's own transaction."
        ),
    )

    @field_validator("redis", mode="before")
    @classmethod
    def _idempotency_timeouts(cls, value: Any) -> Any:
        # Set from the environment (`...__REDIS__URL`) the nested model starts from its own
        # defaults; the timeouts not given are this store's.
        return {**_REDIS_TIMEOUTS, **value} if isinstance(value, dict) else value

    redis: RedisSettings = Field(
        default_factory=lambda: RedisSettings.model_validate(_REDIS_TIMEOUTS)
    )
    key_prefix: str = Field(DEFAULT_KEY_PREFIX, min_length=1, max_length=64)
    table: str = Field(
        DEFAULT_TABLE,
        pattern=TABLE_PATTERN,
        description="PostgreSQL: the table (`name` or `schema.name`), created at startup.",
    )
    ttl: float = Field(DEFAULT_TTL, gt=0, description="How long a stored response is replayed.")
    lock_ttl: float = Field(
        DEFAULT_LOCK_TTL,
        gt=0,
        description="How long a claim holds when its request never finishes (a crash).",
    )
    max_key_length: int = Field(DEFAULT_MAX_KEY_LENGTH, ge=16, le=1024)
    max_entries: int = Field(DEFAULT_MAX_ENTRIES, ge=1, description="Memory store bound.")
    max_response_bytes: int = Field(
        DEFAULT_MAX_RESPONSE_BYTES, ge=1024, description="Larger responses are not stored."
    )


async def _replay(_: Request, exc: Exception) -> Response:
    if not isinstance(exc, IdempotentReplay):  # pragma: no cover - registered for it only
        raise exc
    return replay_response(exc.stored)


def _postgres_store(app: FastAPI, settings: IdempotencySettings) -> IdempotencyStore:
    from ..database import Database  # noqa: PLC0415 - the postgres extra
    from ._postgres import PostgresIdempotencyStore  # noqa: PLC0415

    database = getattr(app.state, "database", None)
    if not isinstance(database, Database):
        raise RuntimeError(
            'IdempotencySettings(storage="postgres") uses the app\'s database: call '
            "install_database(app) before install_idempotency(app)"
        )
    store = PostgresIdempotencyStore(database, table=settings.table)
    database.add_startup_work(f"idempotency:{settings.table}", store.create_table)
    return store


def install_idempotency(
    app: FastAPI,
    settings: IdempotencySettings | None = None,
    *,
    store: IdempotencyStore | None = None,
) -> IdempotencyStore:
    """Make the `idempotency()` dependency work on `app` (made by `create_service_app`).

    Args:
        app: the app.
        settings: default: the service settings' `idempotency` field, else the defaults
            (in memory).
        store: a ready-made store instead of the one the settings name.

    Raises:
        RuntimeError: the app was not made by `create_service_app`, has started, or has
            idempotency already; or `storage="postgres"` without `install_database(app)`
            called first.
    """
    runtime = get_runtime(app)
    if getattr(app.state, CONFIG_STATE_ATTRIBUTE, None) is not None:
        raise RuntimeError("install_idempotency was already called for this app")
    if settings is None:
        found = getattr(runtime.settings, "idempotency", None)
        settings = found if isinstance(found, IdempotencySettings) else IdempotencySettings()
    if store is None:
        if settings.storage == "postgres":
            store = _postgres_store(app, settings)
        elif settings.storage == "redis":
            store = RedisIdempotencyStore.from_settings(
                settings.redis, key_prefix=settings.key_prefix
            )
        else:
            store = MemoryIdempotencyStore(max_entries=settings.max_entries)
    config = IdempotencyConfig(
        store=store,
        ttl=settings.ttl,
        lock_ttl=settings.lock_ttl,
        max_key_length=settings.max_key_length,
        max_response_bytes=settings.max_response_bytes,
        recording=store if isinstance(store, RecordingIdempotencyStore) else None,
    )
    runtime.middleware.fill(
        "idempotency", idempotency_layer, max_response_bytes=settings.max_response_bytes
    )
    app.add_exception_handler(IdempotentReplay, _replay)
    opened = store

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await opened.aclose()

    runtime.add_lifespan_hook(lifespan)
    setattr(app.state, CONFIG_STATE_ATTRIBUTE, config)
    return store
