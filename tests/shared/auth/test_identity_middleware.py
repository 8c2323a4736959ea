"""Rate limits count per verified principal and role, because install_auth verifies the bearer
token before the limiter runs; the dependencies reuse that verification."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from opsconductor_shared import (
    CurrentUser,
    ServiceSettings,
    create_service_app,
    install_auth,
)
from opsconductor_shared.auth import LocalTokenVerifier, VerifiedToken
from opsconductor_shared.ratelimit import RateLimitSettings, install_rate_limiting
from opsconductor_shared.testing import KeySet, TokenFactory

KEYS = KeySet()
TOKENS = TokenFactory(KEYS, algorithm="HS256")


def _token(sub: str, role: str) -> str:
    return TOKENS.issue(role, sub=sub, username=f"u{sub}")


class CountingVerifier(LocalTokenVerifier):
    calls = 0

    async def verify(self, token: str) -> VerifiedToken:
        CountingVerifier.calls += 1
        return await super().verify(token)


def _app(*, rate_limit_first: bool) -> FastAPI:
    app = create_service_app("identity-test", "1", ServiceSettings(), configure_logging=False)
    limits = RateLimitSettings(default_limit="2/minute", role_limits={"admin": "100/minute"})
    verifier = CountingVerifier(KEYS.hs256_settings())
    if rate_limit_first:
        install_rate_limiting(app, limits)
        install_auth(app, verifier=verifier)
    else:
        install_auth(app, verifier=verifier)
        install_rate_limiting(app, limits)

    @app.get("/me", operation_id="me")
    async def me(user: CurrentUser) -> dict[str, Any]:
        return {"user": user.user_id}

    @app.get("/public", operation_id="public", openapi_extra={"x-public": True})
    async def public() -> dict[str, str]:
        return {"ok": "yes"}

    return app


@pytest.mark.parametrize("rate_limit_first", [False, True])
def test_limits_count_per_principal_and_role(rate_limit_first: bool) -> None:
    client = TestClient(_app(rate_limit_first=rate_limit_first))
    admin, viewer, other = (_token("1", "admin"), _token("2", "viewer"), _token("3", "viewer"))
    for _ in range(3):
        assert client.get("/me", headers={"Authorization": f"Bearer {admin}"}).status_code == 200
    viewer_codes = [
        client.get("/me", headers={"Authorization": f"Bearer {viewer}"}).status_code
        for _ in range(3)
    ]
    assert viewer_codes == [200, 200, 429]
    # Another user behind the same address has a counter of their own.
    assert client.get("/me", headers={"Authorization": f"Bearer {other}"}).status_code == 200
    policy = client.get("/me", headers={"Authorization": f"Bearer {admin}"}).headers[
        "ratelimit-policy"
    ]
    assert policy.endswith("q=100;w=60")


def test_one_verification_per_request() -> None:
    client = TestClient(_app(rate_limit_first=False))
    CountingVerifier.calls = 0
    assert (
        client.get("/me", headers={"Authorization": f"Bearer {_token('1', 'admin')}"}).status_code
        == 200
    )
    assert CountingVerifier.calls == 1


def test_a_bad_token_is_refused_only_where_auth_is_required() -> None:
    client = TestClient(_app(rate_limit_first=False))
    CountingVerifier.calls = 0
    bad = {"Authorization": "Bearer not.a.token"}
    assert client.get("/public", headers=bad).status_code == 200
    refused = client.get("/me", headers=bad)
    assert refused.status_code == 401
    assert refused.json()["code"] == "UNAUTHORIZED"
    assert CountingVerifier.calls == 2  # once per request, not twice for /me


@pytest.mark.parametrize(
    "authorization", ["Bearer  {token}", "bearer {token} ", "BEARER {token}"], ids=repr
)
def test_the_dependency_reads_the_token_the_middleware_verified(authorization: str) -> None:
    # The dependency's scheme reads the header as the middleware does (`bearer_token`):
    # extra spaces or another case of the scheme never make it verify a second time.
    client = TestClient(_app(rate_limit_first=False))
    CountingVerifier.calls = 0
    response = client.get(
        "/me", headers={"Authorization": authorization.format(token=_token("7", "viewer"))}
    )
    assert (response.status_code, response.json()) == (200, {"user": "7"})
    assert CountingVerifier.calls == 1
