"""The auth service: login, refresh, verify, JWKS, revocation, and its contract conformance."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator

import jwt
import pydantic
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from opsconductor_conformance import assert_conforms
from opsconductor_contracts import JsonWebKeySet, TokenClaims, TokenResponse, VerifyResponse

from examples.auth_service.app import create_app
from examples.auth_service.settings import AuthServiceSettings
from tests.examples.conftest import PASSWORDS


@pytest.fixture
def client(auth_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(auth_app) as test_client:
        yield test_client


def _login(client: TestClient, user: str) -> TokenResponse:
    response = client.post("/auth/login", json={"username": user, "password": PASSWORDS[user]})
    assert response.status_code == 200, response.text
    return TokenResponse.model_validate(response.json())


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_login_issues_contract_tokens_signed_with_the_published_key(client: TestClient) -> None:
    tokens = _login(client, "operator")
    jwks = JsonWebKeySet.model_validate(client.get("/.well-known/jwks.json").json())
    (key,) = jwks.keys
    assert jwt.get_unverified_header(tokens.access_token) == {
        "alg": "RS256",
        "kid": key.kid,
        "typ": "JWT",
    }
    public = jwt.PyJWK(key.model_dump(exclude_none=True)).key
    payload = jwt.decode(
        tokens.access_token,
        public,
        algorithms=["RS256"],
        audience="opsconductor",
        issuer="opsconductor-auth",
    )
    claims = TokenClaims.model_validate(payload)
    assert (claims.username, claims.role.value, claims.type.value) == (
        "operator",
        "operator",
        "access",
    )
    assert claims.exp - claims.iat == 900
    refresh = TokenClaims.model_validate(
        jwt.decode(
            tokens.refresh_token or "", public, algorithms=["RS256"], audience="opsconductor"
        )
    )
    assert refresh.type.value == "refresh"
    assert refresh.exp - refresh.iat == 7 * 24 * 3600


@pytest.mark.parametrize(
    ("username", "password"), [("admin", "wrong-password"), ("nobody", "whatever-password")]
)
def test_bad_credentials_are_the_same_401(client: TestClient, username: str, password: str) -> None:
    response = client.post("/auth/login", json={"username": username, "password": password})
    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHORIZED"
    assert response.json()["detail"] == "The username or password is wrong."
    assert password not in response.text


def test_refresh_rotates_and_refuses_access_tokens(client: TestClient) -> None:
    tokens = _login(client, "viewer")
    refreshed = client.post("/auth/refresh", json={"refresh_token": tokens.refresh_token})
    assert refreshed.status_code == 200
    assert refreshed.json()["refresh_token"] != tokens.refresh_token
    # The old refresh token was redeemed: presenting it again is a leak, and every token of
    # the user is revoked, the fresh ones included.
    reused = client.post("/auth/refresh", json={"refresh_token": tokens.refresh_token})
    assert reused.status_code == 401
    new_access = refreshed.json()["access_token"]
    assert client.post("/auth/verify", json={"token": new_access}).json()["reason"] == "revoked"
    assert (
        client.post(
            "/auth/refresh", json={"refresh_token": refreshed.json()["refresh_token"]}
        ).status_code
        == 401
    )
    tokens = _login(client, "viewer")
    wrong = client.post("/auth/refresh", json={"refresh_token": tokens.access_token})
    assert wrong.status_code == 401
    assert client.get("/auth/me", headers=_bearer(tokens.refresh_token or "")).status_code == 401


def test_verify_reports_reasons(client: TestClient) -> None:
    tokens = _login(client, "viewer")
    valid = VerifyResponse.model_validate(
        client.post("/auth/verify", json={"token": tokens.access_token}).json()
    )
    assert valid.valid
    assert valid.identity is not None
    assert valid.identity.username == "viewer"
    for token, reason in (
        (tokens.refresh_token, "wrong_type"),
        ("not.a.jwt", "malformed"),
        (tokens.access_token[:-4] + "AAAA", "invalid_signature"),
    ):
        verdict = client.post("/auth/verify", json={"token": token}).json()
        assert (verdict["valid"], verdict["reason"]) == (False, reason), token


def test_revocation_kills_every_token_of_the_user(client: TestClient) -> None:
    viewer = _login(client, "viewer")
    me = client.get("/auth/me", headers=_bearer(viewer.access_token)).json()
    admin = _login(client, "admin")
    assert (
        client.post(
            f"/auth/users/{me['user_id']}/revoke", headers=_bearer(viewer.access_token)
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/auth/users/{me['user_id']}/revoke", headers=_bearer(admin.access_token)
        ).status_code
        == 200
    )
    assert client.get("/auth/me", headers=_bearer(viewer.access_token)).status_code == 401
    assert (
        client.post("/auth/verify", json={"token": viewer.access_token}).json()["reason"]
        == "revoked"
    )
    assert (
        client.post("/auth/refresh", json={"refresh_token": viewer.refresh_token}).status_code
        == 401
    )
    again = _login(client, "viewer")
    assert client.get("/auth/me", headers=_bearer(again.access_token)).status_code == 200
    assert (
        client.post(
            "/auth/users/no-such-user/revoke", headers=_bearer(admin.access_token)
        ).status_code
        == 404
    )


def test_revoke_own_tokens(client: TestClient) -> None:
    tokens = _login(client, "operator")
    assert (
        client.post("/auth/revoke", headers=_bearer(tokens.access_token)).json()["success"] is True
    )
    assert client.get("/auth/me", headers=_bearer(tokens.access_token)).status_code == 401


def test_jwks_is_cacheable(client: TestClient) -> None:
    response = client.get("/.well-known/jwks.json")
    assert response.headers["cache-control"] == "public, max-age=300"


def test_key_is_generated_once_and_kept_private(
    auth_service_settings: AuthServiceSettings,
) -> None:
    first = create_app(auth_service_settings)
    second = create_app(auth_service_settings)
    with TestClient(first) as a, TestClient(second) as b:
        assert a.get("/.well-known/jwks.json").json() == b.get("/.well-known/jwks.json").json()
    assert stat.S_IMODE(os.stat(auth_service_settings.signing_key_file).st_mode) == 0o600


def test_production_requires_a_configured_key() -> None:
    with pytest.raises(pydantic.ValidationError, match="SIGNING_KEY"):
        AuthServiceSettings(environment="production")


def test_conforms_to_the_contracts_strictly(auth_app: FastAPI) -> None:
    assert_conforms(auth_app, strict=True)
