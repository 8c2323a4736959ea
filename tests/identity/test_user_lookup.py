"""The auth service's user lookup for services (`GET /auth/users/{user_id}`): only the
targets service, only with the `users:read` scope, never a user; 404 for an unknown id."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from opsconductor_shared.testing import app_client

from examples.auth_service.app import create_app as create_auth_app

from .conftest import ACCOUNTS, PASSWORDS, auth_settings_with_accounts

pytestmark = pytest.mark.anyio
TARGETS_SECRET = "targets-secret-0123456789"
LOOKUP_ACCOUNTS = {
    **ACCOUNTS,
    "targets-service": {"secrets": [TARGETS_SECRET], "scopes": ["users:read"]},
    "targets-service-x": {"secrets": [TARGETS_SECRET], "scopes": ["users:read"]},
}


async def _service_token(http: httpx.AsyncClient, client_id: str, secret: str) -> str:
    answer = await http.post(
        "/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


async def test_only_the_targets_service_with_its_scope_may_look_users_up(tmp_path: Any) -> None:
    app = create_auth_app(
        auth_settings_with_accounts(tmp_path, service_accounts=LOOKUP_ACCOUNTS, default_limit=None)
    )
    async with app_client(app) as http:
        login = await http.post(
            "/auth/login", json={"username": "operator", "password": PASSWORDS["operator"]}
        )
        user_token = login.json()["access_token"]
        operator_id = (
            await http.get("/auth/me", headers={"Authorization": f"Bearer {user_token}"})
        ).json()["user_id"]
        targets = await _service_token(http, "targets-service", TARGETS_SECRET)
        found = await http.get(
            f"/auth/users/{operator_id}", headers={"Authorization": f"Bearer {targets}"}
        )
        assert found.status_code == 200, found.text
        assert found.json() == {
            "user_id": operator_id,
            "username": "operator",
            "role": "operator",
            "active": True,
        }
        missing = await http.get(
            "/auth/users/nobody", headers={"Authorization": f"Bearer {targets}"}
        )
        assert missing.status_code == 404
        other = await _service_token(http, "targets-service-x", TARGETS_SECRET)
        for token in (user_token, other):
            refused = await http.get(
                f"/auth/users/{operator_id}", headers={"Authorization": f"Bearer {token}"}
            )
            assert refused.status_code == 403, refused.text
        anonymous = await http.get(f"/auth/users/{operator_id}")
        assert anonymous.status_code == 401


async def test_a_service_account_gets_its_own_limit_at_the_auth_service(tmp_path: Any) -> None:
    """`service_limits` (AUTH_SERVICE_SERVICE_LIMITS) gives one service account its own
    service-wide budget: the targets service's lookups are not held to the default that a
    user or another service meets."""
    app = create_auth_app(
        auth_settings_with_accounts(
            tmp_path,
            service_accounts=LOOKUP_ACCOUNTS,
            default_limit="3/minute",
            token_limit="100/minute",
            service_limits={"targets-service": "100/minute"},
        )
    )
    async with app_client(app) as http:
        targets = await _service_token(http, "targets-service", TARGETS_SECRET)
        other = await _service_token(http, "targets-service-x", TARGETS_SECRET)
        own = [
            (
                await http.get("/auth/users/nobody", headers={"Authorization": f"Bearer {targets}"})
            ).status_code
            for _ in range(6)
        ]
        default = [
            (
                await http.get("/auth/users/nobody", headers={"Authorization": f"Bearer {other}"})
            ).status_code
            for _ in range(4)
        ]
    assert own == [404] * 6
    assert default[:3] == [403] * 3  # answered (it may not look users up), not throttled
    assert default[3] == 429
