"""AuthSettings validation and environment, and the TokenCache's bounds."""

from __future__ import annotations

import pytest
from opsconductor_shared.auth import AuthSettings, TokenRejectedError, install_auth
from opsconductor_shared.auth._cache import TokenCache, token_digest
from opsconductor_shared.auth._verifier import unverified_token
from opsconductor_shared.testing import DEFAULT_HS256_SECRET as HS256_SECRET

from .conftest import protected_app


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({}, "exactly one of jwks_url and hs256_secret"),
        ({"jwks_url": "http://a/j", "hs256_secret": HS256_SECRET}, "exactly one"),
        ({"hs256_secret": "too-short"}, "at least 32 bytes"),
        ({"jwks_url": "http://a/j", "algorithms": ["none"]}, "'none'"),
        ({"jwks_url": "http://a/j", "algorithms": ["NONE"]}, "'none'"),
        ({"jwks_url": "http://a/j", "algorithms": ["RS256", "HS256"]}, "never HMAC secrets"),
        ({"jwks_url": "http://a/j", "algorithms": ["HS512"]}, "unsupported algorithm"),
        ({"jwks_url": "http://a/j", "algorithms": []}, "cannot be empty"),
        (
            {"hs256_secret": HS256_SECRET, "algorithms": ["RS256"]},
            "only allowed algorithm is HS256",
        ),
        ({"mode": "remote"}, "verify_url"),
        ({"jwks_url": "http://a/j", "leeway": 3600}, "less than or equal to 300"),
    ],
)
def test_invalid_settings_say_what_to_fix(values: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AuthSettings(**values)  # type: ignore[arg-type]


def test_secrets_never_appear_in_errors() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes") as caught:
        AuthSettings(hs256_secret="short-secret-value")
    assert "short-secret-value" not in str(caught.value)
    assert "short-secret-value" not in repr(AuthSettings(hs256_secret=HS256_SECRET * 2))


def test_defaults() -> None:
    settings = AuthSettings(jwks_url="http://auth:8000/.well-known/jwks.json")
    assert settings.allowed_algorithms == ("RS256",)
    assert AuthSettings(hs256_secret=HS256_SECRET).allowed_algorithms == ("HS256",)
    remote = AuthSettings(mode="remote", verify_url="http://auth:8000/auth/verify")
    assert remote.readiness_url == "http://auth:8000/health/live"


def test_for_service_reads_the_nested_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERS_AUTH__MODE", "remote")
    monkeypatch.setenv("ORDERS_AUTH__VERIFY_URL", "http://auth:8000/auth/verify")
    monkeypatch.setenv("ORDERS_AUTH__CACHE_TTL", "15")
    settings = AuthSettings.for_service("orders", leeway=5)
    assert settings.mode == "remote"
    assert settings.cache_ttl == 15
    assert settings.leeway == 5
    monkeypatch.delenv("ORDERS_AUTH__VERIFY_URL")
    with pytest.raises(ValueError, match="ORDERS_AUTH__"):
        AuthSettings.for_service("orders")


def test_install_auth_refuses_a_second_install() -> None:
    settings = AuthSettings(hs256_secret=HS256_SECRET)
    app = protected_app(settings)
    with pytest.raises(RuntimeError, match="already installed"):
        install_auth(app, settings)


def test_cache_entries_expire_one_by_one_and_are_bounded() -> None:
    now = [1000.0]
    cache: TokenCache[str] = TokenCache(2, clock=lambda: now[0])
    cache.put(b"a", "A", expires_at=1010)
    cache.put(b"b", "B", expires_at=1001)
    assert cache.get(b"a") == "A"
    now[0] = 1001
    assert cache.get(b"b") is None  # expired at exactly its expiry
    assert cache.get(b"a") == "A"
    cache.put(b"c", "C", expires_at=1010)
    cache.put(b"d", "D", expires_at=1010)  # evicts the least recently used
    assert len(cache) == 2
    assert cache.get(b"a") is None
    cache.put(b"e", "E", expires_at=999)  # already expired: not kept
    assert cache.get(b"e") is None
    off: TokenCache[str] = TokenCache(0)
    off.put(b"a", "A", expires_at=10**12)
    assert off.get(b"a") is None
    assert token_digest("abc") != token_digest("abd")
    assert len(token_digest("abc")) == 32


def test_size_is_checked_before_anything_else() -> None:
    with pytest.raises(TokenRejectedError) as caught:
        unverified_token("x" * 5000, max_bytes=4096)
    assert caught.value.rejection.reason == "too_large"
