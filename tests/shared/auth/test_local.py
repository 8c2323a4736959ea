"""Local verification against the live fake auth service's JWKS: rotation, the unknown-kid
cooldown, stale keys, failing closed without keys, the cache and expiry at `exp`."""

from __future__ import annotations

import asyncio
import time

import pytest
from opsconductor_shared import ServiceUnavailableError
from opsconductor_shared.auth import AuthSettings, LocalTokenVerifier
from opsconductor_shared.auth._jwks import parse_jwks
from opsconductor_shared.testing import (
    DEFAULT_KID,
    FakeAuthService,
    app_client,
    async_wait_until,
    closed_port_url,
)

from .conftest import bearer, issue, local_settings, protected_app

pytestmark = [pytest.mark.anyio, pytest.mark.integration]


async def test_valid_token_gives_the_identity_and_claims(fake_auth: FakeAuthService) -> None:
    async with app_client(protected_app(local_settings(fake_auth))) as client:
        token = issue(fake_auth)
        me = await client.get("/me", headers=bearer(token))
        assert me.status_code == 200
        assert me.json()["user_id"] == "7"
        assert me.json()["role"] == "operator"
        claims = await client.get("/claims", headers=bearer(token))
        assert claims.json() == {"sub": "7", "type": "access"}
    assert fake_auth.calls["jwks"] == 1


async def test_jwks_rotation_picks_up_the_new_key_with_one_fetch(
    fake_auth: FakeAuthService,
) -> None:
    async with app_client(protected_app(local_settings(fake_auth))) as client:
        old = issue(fake_auth)
        assert (await client.get("/me", headers=bearer(old))).status_code == 200
        fake_auth.rotate("k2")
        new = issue(fake_auth)
        assert new != old
        responses = await asyncio.gather(
            *(client.get("/me", headers=bearer(new)) for _ in range(20))
        )
        assert {response.status_code for response in responses} == {200}
        assert (await client.get("/me", headers=bearer(old))).status_code == 200  # still published
        assert fake_auth.calls["jwks"] == 2  # startup, then one refetch for k2
        fake_auth.rotate("k3", keep_old=False)
        verifier = client._transport.app.state.token_verifier  # type: ignore[attr-defined]
        assert await verifier.keys.refresh()
        assert verifier.keys.kids == ["k3"]
        fresh = issue(fake_auth)
        assert (await client.get("/me", headers=bearer(fresh))).status_code == 200


async def test_unknown_kids_cause_at_most_one_refetch_per_cooldown(
    fake_auth: FakeAuthService,
) -> None:
    settings = local_settings(fake_auth, jwks_unknown_kid_cooldown=60)
    async with app_client(protected_app(settings)) as client:
        fake_auth.rotate("k2")  # signs with k2, which the service has not fetched yet
        forged = [issue(fake_auth, kid="k2", jti=f"made-up-{n}") for n in range(5)]
        fake_auth.rotate(DEFAULT_KID, keep_old=False)  # k2 is not published after all
        statuses = []
        for token in forged:
            statuses.append((await client.get("/me", headers=bearer(token))).status_code)
        assert statuses == [401] * 5
        assert fake_auth.calls["jwks"] == 2  # startup plus one refetch, not five


async def test_stale_keys_keep_working_when_the_jwks_fails(fake_auth: FakeAuthService) -> None:
    async with app_client(protected_app(local_settings(fake_auth))) as client:
        verifier = client._transport.app.state.token_verifier  # type: ignore[attr-defined]
        fake_auth.jwks_mode = "fail"
        assert not await verifier.keys.refresh()
        response = await client.get("/me", headers=bearer(issue(fake_auth)))
        assert response.status_code == 200
        # an unknown kid cannot be decided while the JWKS fails: 503, not 401
        fake_auth.keys.add("k2")  # a key the JWKS never published
        unknown = issue(fake_auth, kid="k2")
        response = await client.get("/me", headers=bearer(unknown))
        assert response.status_code == 503
        assert response.json()["code"] == "SERVICE_UNAVAILABLE"


async def test_no_keys_at_all_is_503_and_not_ready(fake_auth: FakeAuthService) -> None:
    settings = AuthSettings(jwks_url=f"{closed_port_url()}/.well-known/jwks.json", timeout=0.5)
    async with app_client(protected_app(settings)) as client:
        response = await client.get("/me", headers=bearer(issue(fake_auth)))
        assert response.status_code == 503
        assert response.json()["code"] == "SERVICE_UNAVAILABLE"
        ready = await client.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"][0]["name"] == "auth-keys"


async def test_the_jwks_that_failed_at_startup_is_fetched_in_the_background(
    fake_auth: FakeAuthService,
) -> None:
    fake_auth.jwks_mode = "fail"
    async with app_client(protected_app(local_settings(fake_auth))) as client:
        assert (await client.get("/health/ready")).status_code == 503
        fake_auth.jwks_mode = "ok"

        async def ready() -> bool:  # the first background retry comes after one second
            return (await client.get("/health/ready")).status_code == 200

        await async_wait_until(ready, message="the JWKS was not fetched in the background")
        assert (await client.get("/me", headers=bearer(issue(fake_auth)))).status_code == 200


async def test_a_verified_token_is_cached(
    fake_auth: FakeAuthService, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with app_client(protected_app(local_settings(fake_auth))) as client:
        verifier = client._transport.app.state.token_verifier  # type: ignore[attr-defined]
        decodes = 0
        original = verifier._jwt.decode

        def counting(*args: object, **kwargs: object) -> object:
            nonlocal decodes
            decodes += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(verifier._jwt, "decode", counting)
        token = issue(fake_auth)
        for _ in range(5):
            assert (await client.get("/me", headers=bearer(token))).status_code == 200
        assert decodes == 1
        assert len(verifier.cache) == 1


async def test_the_cache_never_outlives_exp(fake_auth: FakeAuthService) -> None:
    settings = local_settings(fake_auth, leeway=0, cache_ttl=600)
    async with app_client(protected_app(settings)) as client:
        exp = int(time.time()) + 2
        token = issue(fake_auth, exp=exp)
        assert (await client.get("/me", headers=bearer(token))).status_code == 200
        verifier = client._transport.app.state.token_verifier  # type: ignore[attr-defined]
        ((expires_at, _),) = verifier.cache._entries.values()
        assert expires_at == exp
        await asyncio.sleep(max(0.0, exp - time.time()) + 0.05)
        response = await client.get("/me", headers=bearer(token))
        assert response.status_code == 401
        assert response.json()["detail"] == "The access token has expired."


def test_parse_jwks_skips_keys_it_cannot_trust(fake_auth: FakeAuthService) -> None:
    document = fake_auth.jwks()
    good = document["keys"][0]
    document["keys"] += [
        {**good, "kid": "hmac", "kty": "oct", "alg": "HS256"},  # not a contract JWK
        {**good, "kid": "es", "alg": "ES256"},  # not on the allow-list
        {**good, "kid": "broken", "n": "AAAA"},  # not a usable RSA key
        "not a key",
    ]
    keys = parse_jwks(document, {"RS256", "RS512"})
    assert set(keys) == {DEFAULT_KID}
    assert keys[DEFAULT_KID].algorithm == "RS256"
    with pytest.raises(ValueError, match="not a JWKS"):
        parse_jwks({"keys": "nope"}, {"RS256"})


async def test_verifier_without_start_fails_closed(fake_auth: FakeAuthService) -> None:
    verifier = LocalTokenVerifier(local_settings(fake_auth, jwks_unknown_kid_cooldown=0))
    try:
        fake_auth.jwks_mode = "fail"
        with pytest.raises(ServiceUnavailableError):
            await verifier.verify(issue(fake_auth))
    finally:
        await verifier.aclose()
