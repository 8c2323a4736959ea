"""The attack list: every forged, broken or hostile token is a 401 in both modes, never a 500
and never a 200, with the envelope and `WWW-Authenticate: Bearer error="invalid_token"`."""

from __future__ import annotations

import base64

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opsconductor_shared import AuthenticationError
from opsconductor_shared.auth import LocalTokenVerifier
from opsconductor_shared.testing import (
    FakeAuthService,
    KeySet,
    TokenFactory,
    app_client,
    forged_tokens,
)

from .conftest import bearer, hs256_tokens, local_settings, protected_app, remote_settings

pytestmark = [pytest.mark.anyio, pytest.mark.integration]
KEYS = KeySet()


@pytest.mark.parametrize("mode", ["local", "remote"])
async def test_every_attack_is_a_401(fake_auth: FakeAuthService, mode: str) -> None:
    settings = local_settings(fake_auth) if mode == "local" else remote_settings(fake_auth)
    async with app_client(protected_app(settings)) as client:
        assert (await client.get("/me", headers=bearer(fake_auth.issue()))).status_code == 200
        for name, token in forged_tokens(fake_auth.tokens).items():
            response = await client.get("/me", headers=bearer(token))
            assert response.status_code == 401, (name, response.text)
            body = response.json()
            assert body["code"] == "UNAUTHORIZED", name
            assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"', name
            assert response.headers["content-type"] == "application/problem+json", name


async def test_every_attack_is_a_401_in_hs256_mode(fake_auth: FakeAuthService) -> None:
    """The secret path verifies without reading the header first (one key, one algorithm):
    PyJWT must refuse every forged token the header checks used to."""
    hs256 = hs256_tokens(fake_auth.keys)
    # A token whose signature has a base64url-only character, so that its standard-alphabet
    # spelling differs (about 1 in 4 signatures has neither `-` nor `_`).
    good = next(
        token
        for token in (hs256.issue() for _ in range(200))
        if {"-", "_"} & set(token.rsplit(".", 1)[1])
    )
    head, payload, signature = good.split(".")
    unsigned = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').decode().rstrip("=")
    tampered = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    forged = {
        "rs256": fake_auth.issue(),
        "alg_none_empty_signature": f"{unsigned}.{payload}.",
        "alg_none_with_signature": f"{unsigned}.{payload}.{signature}",
        "tampered_payload": f"{head}.{tampered}.{signature}",
        "truncated_signature": f"{head}.{payload}.{signature[:-4]}",
        "two_segments": f"{head}.{payload}",
        "expired": hs256.issue(ttl=-60, validate=False),
        "exp_out_of_range": hs256.issue(exp=10**12, validate=False),
        "not_yet_valid": hs256.issue(nbf=4_000_000_000, validate=False),
        "wrong_issuer": hs256.issue(iss="someone-else", validate=False),
        "wrong_audience": hs256.issue(aud="someone-else", validate=False),
        "refresh_token_as_access_token": hs256.issue(type="refresh"),
        "header_not_json": "bm90LWpzb24." + payload + "." + signature,
        # One token, other spellings: PyJWT before 2.15 decodes these leniently, so the
        # shape is checked here whatever PyJWT version is installed.
        "signature_padded": f"{good}==",
        "signature_with_junk": f"{head}.{payload}.{signature[:5]}!!**{signature[5:]}",
        "signature_standard_alphabet": f"{head}.{payload}."
        + signature.replace("-", "+").replace("_", "/"),
        "four_segments": f"{good}.",
    }
    assert forged["signature_standard_alphabet"] != good
    async with app_client(protected_app(fake_auth.keys.hs256_settings())) as client:
        assert (await client.get("/me", headers=bearer(good))).status_code == 200
        for name, token in forged.items():
            response = await client.get("/me", headers=bearer(token))
            assert response.status_code == 401, (name, response.text)
            assert response.json()["code"] == "UNAUTHORIZED", name
            assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"', name


async def test_remote_mode_refuses_most_attacks_without_asking(fake_auth: FakeAuthService) -> None:
    forged = forged_tokens(fake_auth.tokens)
    async with app_client(protected_app(remote_settings(fake_auth))) as client:
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
            response = await client.get("/me", headers=bearer(forged[name]))
            assert response.status_code == 401, name
    assert fake_auth.calls["verify"] == 0


async def test_hs256_mode_refuses_rsa_tokens_and_accepts_its_own(
    fake_auth: FakeAuthService,
) -> None:
    hs256 = hs256_tokens(fake_auth.keys)
    other_secret = KeySet(hs256_secret="another-secret-that-is-long-enough-xxxxx")
    async with app_client(protected_app(fake_auth.keys.hs256_settings())) as client:
        assert (await client.get("/me", headers=bearer(hs256.issue()))).status_code == 200
        for token in (
            fake_auth.issue(),  # RS256: not on the allow-list
            TokenFactory(other_secret, algorithm="HS256").issue(),
            forged_tokens(fake_auth.tokens)["alg_none_empty_signature"],
            hs256.issue(type="refresh"),
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
    verifier = LocalTokenVerifier(KEYS.hs256_settings(negative_cache_ttl=0))
    with pytest.raises(AuthenticationError) as caught:
        await verifier.verify(token)
    assert caught.value.status_code == 401


async def test_hs256_checks_the_compact_shape_before_pyjwt(monkeypatch: pytest.MonkeyPatch) -> None:
    """Older PyJWT releases (the range allows them) decode a padded or junk-laden signature
    leniently, which would give one token many spellings, each missing the cache; so the
    secret path checks the compact shape itself, before PyJWT sees the token."""
    verifier = LocalTokenVerifier(KEYS.hs256_settings(negative_cache_ttl=0))
    good = TokenFactory(KEYS, algorithm="HS256").issue()
    head, payload, signature = good.split(".")

    def pyjwt_reached(*_: object, **__: object) -> None:
        raise AssertionError("PyJWT saw a token of the wrong shape")

    monkeypatch.setattr(verifier._jwt, "decode", pyjwt_reached)
    for spelling in (
        f"{good}==",
        f"{head}.{payload}.{signature[:5]}!!**{signature[5:]}",
        f"{good}.",
    ):
        with pytest.raises(AuthenticationError) as caught:
            await verifier.verify(spelling)
        assert caught.value.metadata["reason"] == "malformed", spelling
