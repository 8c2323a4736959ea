"""Remote verification against the live fake auth service: single-flight, caching up to
`exp`, negative caching, revocation, and failing closed (503 in bounded time) when the auth
service is down, hanging or broken."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from opsconductor_shared.testing import (
    FakeAuthService,
    LiveServer,
    app_client,
    async_wait_until,
    closed_port_url,
)

from .conftest import bearer, issue, protected_app, remote_settings

pytestmark = [pytest.mark.anyio, pytest.mark.integration]


async def test_one_verify_call_for_100_concurrent_requests(fake_auth: FakeAuthService) -> None:
    fake_auth.verify_delay = 0.3
    with LiveServer(protected_app(remote_settings(fake_auth))) as service:
        limits = httpx.Limits(max_connections=100)
        async with httpx.AsyncClient(base_url=service.url, limits=limits, timeout=10) as client:
            token = issue(fake_auth)
            responses = await asyncio.gather(
                *(client.get("/me", headers=bearer(token)) for _ in range(100))
            )
    assert [response.status_code for response in responses] == [200] * 100
    assert fake_auth.calls["verify"] == 1


async def test_verified_tokens_are_cached_and_identity_comes_from_the_auth_service(
    fake_auth: FakeAuthService,
) -> None:
    async with app_client(protected_app(remote_settings(fake_auth))) as client:
        token = issue(fake_auth)
        for _ in range(3):
            me = await client.get("/me", headers=bearer(token))
            assert me.status_code == 200
        assert me.json()["user_id"] == "7"
        assert (await client.get("/claims", headers=bearer(token))).json()["sub"] == "7"
    assert fake_auth.calls["verify"] == 1


async def test_the_cache_never_outlives_exp(fake_auth: FakeAuthService) -> None:
    settings = remote_settings(fake_auth, leeway=0, cache_ttl=600)
    async with app_client(protected_app(settings)) as client:
        exp = int(time.time()) + 2
        token = issue(fake_auth, exp=exp)
        assert (await client.get("/me", headers=bearer(token))).status_code == 200
        verifier = client._transport.app.state.token_verifier  # type: ignore[attr-defined]
        ((expires_at, _),) = verifier.cache._entries.values()
        assert expires_at == exp
        await asyncio.sleep(max(0.0, exp - time.time()) + 0.05)
        assert (await client.get("/me", headers=bearer(token))).status_code == 401
    assert fake_auth.calls["verify"] == 1  # the expired token was refused without asking


async def test_revoked_token_version_is_a_401_and_negatively_cached(
    fake_auth: FakeAuthService,
) -> None:
    fake_auth.current_versions["7"] = 4
    async with app_client(protected_app(remote_settings(fake_auth))) as client:
        token = issue(fake_auth, token_version=3)
        for _ in range(3):
            response = await client.get("/me", headers=bearer(token))
            assert response.status_code == 401
            assert response.json()["code"] == "UNAUTHORIZED"
    assert fake_auth.calls["verify"] == 1


async def test_negative_cache_is_short(fake_auth: FakeAuthService) -> None:
    fake_auth.current_versions["7"] = 4
    settings = remote_settings(fake_auth, negative_cache_ttl=0.2)
    async with app_client(protected_app(settings)) as client:
        token = issue(fake_auth, token_version=4)
        fake_auth.current_versions["7"] = 5
        assert (await client.get("/me", headers=bearer(token))).status_code == 401
        fake_auth.current_versions["7"] = 4  # un-revoked

        # Within the negative TTL the 401 comes from the cache; after it, the auth service
        # is asked again and says yes.
        async def accepted() -> bool:
            return (await client.get("/me", headers=bearer(token))).status_code == 200

        await async_wait_until(accepted, message="the negative cache entry never expired")
    assert fake_auth.calls["verify"] == 2


@pytest.mark.parametrize("mode", ["fail", "garbage", "html", "other_subject"])
async def test_a_broken_auth_service_is_503_and_not_cached(
    fake_auth: FakeAuthService, mode: str
) -> None:
    async with app_client(protected_app(remote_settings(fake_auth))) as client:
        token = issue(fake_auth)
        fake_auth.mode = mode
        response = await client.get("/me", headers=bearer(token))
        assert response.status_code == 503
        assert response.json()["code"] == "SERVICE_UNAVAILABLE"
        assert "www-authenticate" not in response.headers
        fake_auth.mode = "ok"
        assert (await client.get("/me", headers=bearer(token))).status_code == 200


async def test_an_unreachable_auth_service_is_503_at_once(fake_auth: FakeAuthService) -> None:
    settings = remote_settings(fake_auth, verify_url=f"{closed_port_url()}/auth/verify")
    async with app_client(protected_app(settings)) as client:
        start = time.monotonic()
        response = await client.get("/me", headers=bearer(issue(fake_auth)))
        assert response.status_code == 503
        assert time.monotonic() - start < 1.0
        ready = await client.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"][0]["name"] == "auth-service"


async def test_a_hanging_auth_service_is_503_within_the_timeout(fake_auth: FakeAuthService) -> None:
    fake_auth.mode = "hang"
    fake_auth.hang_seconds = 10.0
    settings = remote_settings(fake_auth, timeout=0.5)
    async with app_client(protected_app(settings)) as client:
        start = time.monotonic()
        responses = await asyncio.gather(
            *(client.get("/me", headers=bearer(issue(fake_auth))) for _ in range(5))
        )
        elapsed = time.monotonic() - start
    assert [response.status_code for response in responses] == [503] * 5
    # Bounded by the 0.5 s timeout, not by the 10 s hang (slack for a loaded machine).
    assert elapsed < 3.0


async def test_readiness_follows_the_auth_service(fake_auth: FakeAuthService) -> None:
    async with app_client(protected_app(remote_settings(fake_auth))) as client:
        assert (await client.get("/health/ready")).status_code == 200
        fake_auth.mode = "fail"
        assert (await client.get("/health/ready")).status_code == 503
        assert (await client.get("/health/live")).status_code == 200


async def test_verify_calls_carry_the_request_id_and_traceparent(
    fake_auth: FakeAuthService,
) -> None:
    async with app_client(protected_app(remote_settings(fake_auth))) as client:
        trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
        headers = {
            **bearer(issue(fake_auth)),
            "X-Request-ID": "req-42",
            "traceparent": f"00-{trace_id}-00f067aa0ba902b7-01",
        }
        assert (await client.get("/me", headers=headers)).status_code == 200
    (seen,) = fake_auth.seen_headers
    assert seen["x-request-id"] == "req-42"
    assert seen["traceparent"].startswith(f"00-{trace_id}-")
    assert "authorization" not in seen
