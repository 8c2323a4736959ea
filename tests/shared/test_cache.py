"""The cache interface: `MemoryCache`, and `RedisCache` against a real Redis."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from opsconductor_shared._cache import Cache, MemoryCache, RedisCache
from opsconductor_shared._redis import create_redis_client
from opsconductor_shared.ratelimit import RedisSettings
from pydantic import SecretStr
from structlog.testing import capture_logs

from tests.services import closed_port, require_redis, unique_name

pytestmark = pytest.mark.anyio


@pytest.fixture
def redis_url() -> str:
    return require_redis()


@pytest.fixture
def prefix() -> str:
    return unique_name("cachetest")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_memory_cache_expires_and_is_bounded() -> None:
    clock = Clock()
    cache = MemoryCache(max_entries=2, clock=clock)
    assert isinstance(cache, Cache)
    await cache.set("a", b"1", ttl=10)
    assert await cache.get("a") == b"1"
    clock.now += 10
    assert await cache.get("a") is None
    await cache.set("a", b"1", ttl=10)
    await cache.set("b", b"2", ttl=10)
    await cache.get("a")  # a is now the most recently used
    await cache.set("c", b"3", ttl=10)
    assert (await cache.get("a"), await cache.get("b"), await cache.get("c")) == (b"1", None, b"3")
    await cache.delete("a")
    assert await cache.get("a") is None
    assert len(cache) == 1
    with pytest.raises(ValueError, match="ttl"):
        await cache.set("x", b"", ttl=0)
    with pytest.raises(ValueError, match="max_entries"):
        MemoryCache(max_entries=0)


@pytest.mark.integration
async def test_redis_cache(redis_url: str, prefix: str) -> None:
    client = create_redis_client(RedisSettings(url=SecretStr(redis_url)))
    cache = RedisCache(client, key_prefix=prefix)
    try:
        assert isinstance(cache, Cache)
        await cache.set("token", b"identity", ttl=0.2)
        assert await cache.get("token") == b"identity"
        assert 0 < await client.pttl(f"{prefix}:token") <= 200
        await asyncio.sleep(0.25)
        assert await cache.get("token") is None
        await cache.set("token", b"identity", ttl=10)
        await cache.delete("token")
        assert await cache.get("token") is None
    finally:
        await client.aclose()


async def test_unreachable_redis_reads_as_a_miss_and_logs_the_outage_once() -> None:
    client: Any = create_redis_client(
        RedisSettings(url=SecretStr(f"redis://127.0.0.1:{closed_port()}/0"))
    )
    cache = RedisCache(client)
    try:
        with capture_logs() as logs:
            for _ in range(5):
                await cache.set("k", b"v", ttl=1)
                assert await cache.get("k") is None
                await cache.delete("k")
        # Fifteen failed calls are one outage: one line when it starts, none per call.
        down = [log for log in logs if log["event"] == "dependency_down"]
        assert [log["dependency"] for log in down] == ["redis-cache"]
        assert not [log for log in logs if log["event"] == "cache_unavailable"]
        assert cache.state.down
    finally:
        await client.aclose()


async def test_the_cache_outage_ends_with_one_line(redis_url: str, prefix: str) -> None:
    client: Any = create_redis_client(RedisSettings(url=SecretStr(redis_url)))
    cache = RedisCache(client, key_prefix=prefix)
    try:
        cache.state.failed(ConnectionError("gone"))
        with capture_logs() as logs:
            await cache.set("k", b"v", ttl=5)
            assert await cache.get("k") == b"v"
        assert [log["event"] for log in logs] == ["dependency_up"]
        assert cache.state.up
    finally:
        await client.aclose()
