"""Fixtures of the rate-limit tests: a fake clock, Redis, unique key prefixes, a tiny app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from fastapi import FastAPI
from opsconductor_shared import ServiceSettings, create_service_app
from opsconductor_shared._redis import create_redis_client
from opsconductor_shared.ratelimit import (
    RateLimitSettings,
    RateLimitStore,
    RedisSettings,
    install_rate_limiting,
)
from pydantic import SecretStr

from tests.services import require_redis, unique_name


class FakeClock:
    """Monotonic microseconds that move only when told to."""

    def __init__(self) -> None:
        self.now = 1_000_000_000

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += round(seconds * 1_000_000)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def redis_url() -> str:
    return require_redis()


@pytest.fixture
def prefix() -> str:
    return unique_name("rltest")


@pytest.fixture
async def redis_client(redis_url: str, prefix: str) -> AsyncIterator[Any]:
    client = create_redis_client(RedisSettings(url=SecretStr(redis_url)))
    try:
        yield client
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


def make_app(
    settings: RateLimitSettings | None = None,
    *,
    store: RateLimitStore | None = None,
    service: ServiceSettings | None = None,
    setup: Callable[[FastAPI], None] | None = None,
) -> FastAPI:
    app = create_service_app(
        "rl-test",
        "1.0.0",
        service or ServiceSettings.for_service("rl-test"),
        configure_logging=False,
    )
    if setup is not None:
        setup(app)
    install_rate_limiting(app, settings, store=store)

    @app.get("/things")
    async def things() -> dict[str, str]:
        return {"result": "ok"}

    @app.post("/things")
    async def create_thing() -> dict[str, str]:
        return {"result": "created"}

    @app.get("/things/{thing_id}")
    async def thing(thing_id: int) -> dict[str, int]:
        return {"id": thing_id}

    return app
