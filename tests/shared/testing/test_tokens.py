"""The testing kit's keys and tokens: what it signs, the runtime's verifiers accept, with the
claims, role and expiry asked for; what it refuses to sign is what the contract refuses."""

from __future__ import annotations

import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opsconductor_contracts import JsonWebKeySet, Role
from opsconductor_shared import AuthenticationError
from opsconductor_shared.auth import LocalTokenVerifier, RemoteTokenVerifier
from opsconductor_shared.auth._jwks import parse_jwks
from opsconductor_shared.testing import (
    DEFAULT_KID,
    FakeAuthService,
    KeySet,
    TokenFactory,
    bearer_headers,
)

pytestmark = pytest.mark.anyio

KEYS = KeySet()
HS256 = TokenFactory(KEYS, algorithm="HS256")


async def test_rs256_tokens_verify_against_the_published_jwks(fake_auth: FakeAuthService) -> None:
    tokens = TokenFactory(fake_auth.keys)
    verifier = LocalTokenVerifier(fake_auth.local_settings())
    await verifier.start()
    try:
        verified = await verifier.verify(
            tokens.issue("admin", sub="42", username="root", permissions=["jobs:run"])
        )
    finally:
        await verifier.aclose()
    assert verified.claims.sub == "42"
    assert verified.identity.role is Role.admin
    assert verified.identity.username == "root"
    assert verified.identity.permissions == ["jobs:run"]
    assert jwt.get_unverified_header(tokens.issue())["kid"] == DEFAULT_KID


async def test_rs256_tokens_verify_with_the_remote_verifier(fake_auth: FakeAuthService) -> None:
    verifier = RemoteTokenVerifier(fake_auth.remote_settings())
    try:
        verified = await verifier.verify(fake_auth.issue("viewer", sub="9"))
    finally:
        await verifier.aclose()
    assert (verified.identity.user_id, verified.identity.role) == ("9", Role.viewer)
    assert fake_auth.calls["verify"] == 1


async def test_hs256_tokens_verify_with_the_key_sets_settings() -> None:
    verifier = LocalTokenVerifier(KEYS.hs256_settings())
    verified = await verifier.verify(HS256.issue(Role.operator))
    assert verified.identity.role is Role.operator
    assert verified.claims.type.value == "access"
    assert "kid" not in jwt.get_unverified_header(HS256.issue())


async def test_another_key_sets_tokens_are_refused() -> None:
    other = TokenFactory(
        KeySet(hs256_secret="a-different-secret-of-at-least-32-bytes"), algorithm="HS256"
    )
    verifier = LocalTokenVerifier(KEYS.hs256_settings())
    with pytest.raises(AuthenticationError):
        await verifier.verify(other.issue())


@settings(max_examples=50, deadline=None)
@given(
    role=st.sampled_from(list(Role)),
    sub=st.text(st.characters(codec="utf-8"), min_size=1, max_size=40),
    permissions=st.lists(st.text(max_size=30), max_size=5),
    token_version=st.integers(min_value=0, max_value=2**31),
)
async def test_any_contract_claims_come_back_as_the_identity(
    role: Role, sub: str, permissions: list[str], token_version: int
) -> None:
    verifier = LocalTokenVerifier(KEYS.hs256_settings(cache_max_entries=0))
    token = HS256.issue(role, sub=sub, permissions=permissions, token_version=token_version)
    identity = (await verifier.verify(token)).identity
    assert (identity.user_id, identity.role, identity.permissions, identity.token_version) == (
        sub,
        role,
        permissions,
        token_version,
    )


def test_expiry_follows_the_ttl() -> None:
    factory = TokenFactory(KEYS, algorithm="HS256", ttl=60, clock=lambda: 1_000_000.0)
    assert factory.claims()["exp"] == 1_000_060
    assert factory.claims(ttl=5)["exp"] == 1_000_005
    assert factory.claims(exp=7)["exp"] == 7


async def test_an_expired_token_is_refused_as_expired() -> None:
    verifier = LocalTokenVerifier(KEYS.hs256_settings(leeway=0))
    with pytest.raises(AuthenticationError, match="expired"):
        await verifier.verify(HS256.issue(ttl=-60))


def test_overrides_defaults_and_removed_claims() -> None:
    factory = TokenFactory(KEYS, algorithm="HS256", defaults={"sub": "7", "email": "a@b.example"})
    claims = factory.claims("viewer", permissions=["x"], email=None)
    assert (claims["sub"], claims["role"], claims["permissions"]) == ("7", "viewer", ["x"])
    assert "email" not in claims
    assert claims["iss"] == "opsconductor-auth"
    assert claims["aud"] == "opsconductor"
    assert factory.claims()["jti"] != factory.claims()["jti"]


def test_claims_outside_the_contract_need_validate_false() -> None:
    with pytest.raises(ValueError, match="validate=False"):
        HS256.issue(role="superuser")
    with pytest.raises(ValueError, match="token-claims contract"):
        HS256.issue(exp=None)
    forged = HS256.issue(role="superuser", validate=False)
    assert jwt.decode(forged, options={"verify_signature": False})["role"] == "superuser"


def test_auth_headers_and_bearer_headers() -> None:
    headers = HS256.auth_headers("admin")
    scheme, token = headers["Authorization"].split(" ")
    assert scheme == "Bearer"
    assert jwt.decode(token, options={"verify_signature": False})["role"] == "admin"
    assert bearer_headers("abc") == {"Authorization": "Bearer abc"}


def test_key_set_publishes_contract_keys_the_runtime_can_use() -> None:
    keys = KeySet(["a", "b"])
    document = keys.jwks()
    assert isinstance(document, JsonWebKeySet)
    assert [key.kid for key in document.keys] == ["a", "b"]
    usable = parse_jwks(document.model_dump(mode="json", exclude_none=True), {"RS256"})
    assert set(usable) == {"a", "b"}
    assert keys.public_pem("a").startswith(b"-----BEGIN PUBLIC KEY-----")
    keys.add("a")
    assert keys.kids == ["a", "b"]


def test_key_set_and_factory_misuse_is_explained() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        KeySet(hs256_secret="short")
    with pytest.raises(ValueError, match="at least one key id"):
        KeySet([])
    with pytest.raises(KeyError, match="add it first"):
        KEYS.private_key("nope")
    with pytest.raises(ValueError, match="no key 'nope'"):
        TokenFactory(KEYS, kid="nope")
    with pytest.raises(ValueError, match="unsupported algorithm"):
        TokenFactory(KEYS, algorithm="ES256")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not with a kid"):
        HS256.issue(kid=DEFAULT_KID)
