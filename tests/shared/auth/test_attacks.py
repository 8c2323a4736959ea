"""The attack list: every forged, broken or hostile token is a 401 in both modes, never a 500
and never a 200, with the envelope and `WWW-Authenticate: Bearer error="invalid_token"`."""

from __future__ import annotations

import base64

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opsconductor_shared import AuthenticationError
from opsconductor_shared.auth import AuthSettings, LocalTokenVerifier

from .conftest import bearer, local_settings, protected_app, remote_settings, running
from .fake_auth import HS256_SECRET, FakeAuthService, base_claims
from .tokens import ATTACKS

pytestmark = [pytest.mark.anyio, pytest.mark.integration]


@pytest.mark.parametrize("mode", ["local", "remote"])
async def test_every_attack_is_a_401(fake_auth: FakeAuthService, mode: str) -> None:
    settings = local_settings(fake_auth) if mode == "local" else remote_settings(fake_auth)
    async with running(protected_app(settings)) as client:
        assert (await client.get("/me", headers=bearer(fake_auth.issue()))).status_code == 200
        for name, forge in ATTACKS.items():
            response = await client.get("/me", headers=bearer(forge(fake_auth)))
            assert response.status_code == 401, (name, response.text)
            body = response.json()
            assert body["code"] == "UNAUTHORIZED", name
            assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"', name
            assert response.headers["content-type"] == "application/problem+json", name


async def test_remote_mode_refuses_most_attacks_without_asking(fake_auth: FakeAuthService) -> None:
    async with running(protected_app(remote_settings(fake_auth))) as client:
        for name in (
            "alg_none_empty_signature",
            "expired",
            "not_yet_valid",
            "wrong_issuer",
            "wrong_audience",
            "refresh_token_as_access_token",
            "oversized_8kb_signed",
            "garbage",
            "claims_not_the_contract",
        ):
            response = await client.get("/me", headers=bearer(ATTACKS[name](fake_auth)))
            assert response.status_code == 401, name
    assert fake_auth.calls["verify"] == 0


async def test_hs256_mode_refuses_rsa_tokens_and_accepts_its_own(
    fake_auth: FakeAuthService,
) -> None:
    settings = AuthSettings(hs256_secret=HS256_SECRET)
    async with running(protected_app(settings)) as client:
        good = jwt.encode(base_claims(), HS256_SECRET, algorithm="HS256")
        assert (await client.get("/me", headers=bearer(good))).status_code == 200
        for token in (
            fake_auth.issue(),  # RS256: not on the allow-list
            jwt.encode(
                base_claims(), "another-secret-that-is-long-enough-xxxxx", algorithm="HS256"
            ),
            ATTACKS["alg_none_empty_signature"](fake_auth),
            jwt.encode(base_claims(type="refresh"), HS256_SECRET, algorithm="HS256"),
        ):
            assert (await client.get("/me", headers=bearer(token))).status_code == 401


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    token=st.one_of(
        st.text(max_size=200),
        st.from_regex(
            r"[A-Za-z0-9_-]{0,40}\.[A-Za-z0-9_-]{0,60}\.[A-Za-z0-9_-]{0,40}", fullmatch=True
        ),
        st.lists(st.binary(max_size=60), min_size=3, max_size=3).map(
            lambda parts: ".".join(base64.urlsafe_b64encode(p).decode().rstrip("=") for p in parts)
        ),
    )
)
async def test_any_string_is_refused_with_a_401_only(token: str) -> None:
    verifier = LocalTokenVerifier(AuthSettings(hs256_secret=HS256_SECRET, negative_cache_ttl=0))
    with pytest.raises(AuthenticationError) as caught:
        await verifier.verify(token)
    assert caught.value.status_code == 401
