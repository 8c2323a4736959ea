"""The remote verifier's cache shared by replicas through Redis: a token verified by one
replica is not verified again by another."""

from __future__ import annotations

import pytest
from opsconductor_shared._cache import MemoryCache, RedisCache
from opsconductor_shared._redis import RedisSettings, create_redis_client
from opsconductor_shared.auth import RemoteTokenVerifier
from opsconductor_shared.testing import FakeAuthService

from tests.services import require_redis, unique_name

pytestmark = pytest.mark.anyio


def _verify_calls(fake: FakeAuthService) -> int:
    return sum(count for name, count in fake.calls.items() if "verify" in name)


@pytest.mark.integration
async def test_replicas_share_verified_tokens_through_redis(fake_auth: FakeAuthService) -> None:
    url = require_redis()
    client = create_redis_client(
        RedisSettings(url=url, socket_timeout=2, connect_timeout=2, pool_timeout=2)
    )
    prefix = unique_name("verified")
    replicas = [
        RemoteTokenVerifier(
            fake_auth.remote_settings(), shared_cache=RedisCache(client, key_prefix=prefix)
        )
        for _ in range(2)
    ]
    token = fake_auth.issue("operator")
    try:
        for replica in replicas:
            await replica.start()
        first = await replicas[0].verify(token)
        second = await replicas[1].verify(token)
        assert first.identity == second.identity
        assert _verify_calls(fake_auth) == 1
        assert replicas[1].calls == 0
    finally:
        for replica in replicas:
            await replica.aclose()
        await client.aclose()


async def test_without_a_shared_cache_each_replica_asks(fake_auth: FakeAuthService) -> None:
    replicas = [RemoteTokenVerifier(fake_auth.remote_settings()) for _ in range(2)]
    assert all(replica.shared_cache is None for replica in replicas)
    token = fake_auth.issue("operator")
    try:
        for replica in replicas:
            await replica.start()
            await replica.verify(token)
        assert _verify_calls(fake_auth) == 2
    finally:
        for replica in replicas:
            await replica.aclose()


async def test_any_cache_can_be_shared(fake_auth: FakeAuthService) -> None:
    shared = MemoryCache()
    replicas = [
        RemoteTokenVerifier(fake_auth.remote_settings(), shared_cache=shared) for _ in range(2)
    ]
    token = fake_auth.issue("operator")
    try:
        for replica in replicas:
            await replica.start()
            await replica.verify(token)
        assert _verify_calls(fake_auth) == 1
        assert len(shared) == 1
    finally:
        for replica in replicas:
            await replica.aclose()


def test_redis_is_chosen_by_settings(fake_auth: FakeAuthService) -> None:
    verifier = RemoteTokenVerifier(fake_auth.remote_settings(shared_cache="redis"))
    assert isinstance(verifier.shared_cache, RedisCache)
