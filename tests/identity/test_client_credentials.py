"""The client credentials grant at the auth service (RFC 6749 section 4.4), in process."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI
from opsconductor_shared.testing import app_client

from examples.auth_service.app import create_app as create_auth_app

from .conftest import EXECUTOR_SECRET, PASSWORDS, SCHEDULER_SECRET, auth_settings_with_accounts

pytestmark = pytest.mark.anyio


def _form(client_id: str, secret: str, **extra: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": secret,
        **extra,
    }


async def _token(
    http: httpx.AsyncClient, client_id: str, secret: str, **extra: str
) -> httpx.Response:
    return await http.post("/auth/token", data=_form(client_id, secret, **extra))


async def test_a_form_request_gets_a_short_lived_service_token(identity_auth_app: FastAPI) -> None:
    async with app_client(identity_auth_app) as http:
        answer = await _token(http, "scheduler", SCHEDULER_SECRET)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["token_type"] == "Bearer"
        assert body["expires_in"] == 300
        assert body.get("refresh_token") is None
        claims = jwt.decode(body["access_token"], options={"verify_signature": False})
        assert claims["sub"] == "scheduler"
        assert claims["principal_type"] == "service"
        assert claims["scope"] == "jobs:run targets:read"
        me = await http.get("/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
        assert me.status_code == 200
        assert me.json()["principal_type"] == "service"
        assert me.json()["scopes"] == ["jobs:run", "targets:read"]
        verdict = await http.post("/auth/verify", json={"token": body["access_token"]})
        assert verdict.json()["valid"] is True
        assert verdict.json()["identity"]["principal_type"] == "service"


async def test_json_and_basic_client_authentication_are_accepted(
    identity_auth_app: FastAPI,
) -> None:
    basic = base64.b64encode(f"executor:{EXECUTOR_SECRET}".encode()).decode()
    async with app_client(identity_auth_app) as http:
        as_json = await http.post("/auth/token", json=_form("executor", EXECUTOR_SECRET))
        assert as_json.status_code == 200, as_json.text
        as_basic = await http.post(
            "/auth/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {basic}"},
        )
        assert as_basic.status_code == 200, as_basic.text


@pytest.mark.parametrize(
    ("client_id", "secret"),
    [("scheduler", "wrong-secret"), ("nobody", SCHEDULER_SECRET), ("executor", SCHEDULER_SECRET)],
)
async def test_a_wrong_client_or_secret_is_401_invalid_client(
    identity_auth_app: FastAPI, client_id: str, secret: str
) -> None:
    async with app_client(identity_auth_app) as http:
        answer = await _token(http, client_id, secret)
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"
    assert secret not in answer.text


async def test_a_scope_outside_the_account_is_400(identity_auth_app: FastAPI) -> None:
    async with app_client(identity_auth_app) as http:
        narrowed = await _token(http, "scheduler", SCHEDULER_SECRET, scope="jobs:run")
        assert narrowed.status_code == 200
        assert narrowed.json()["scope"] == "jobs:run"
        refused = await _token(http, "scheduler", SCHEDULER_SECRET, scope="users:revoke")
    assert refused.status_code == 400
    assert "users:revoke" not in refused.text


@pytest.mark.parametrize(
    "body",
    [
        {"grant_type": "password", "client_id": "scheduler", "client_secret": "x"},
        {"client_id": "x"},
        [],
    ],
)
async def test_a_malformed_grant_is_422_without_echo(identity_auth_app: FastAPI, body: Any) -> None:
    async with app_client(identity_auth_app) as http:
        answer = await http.post("/auth/token", json=body)
    assert answer.status_code == 422
    assert answer.json()["code"] == "VALIDATION_ERROR"


async def test_rotation_keeps_both_secrets_valid_during_the_overlap(tmp_path: Any) -> None:
    app = create_auth_app(auth_settings_with_accounts(tmp_path, secret_overlap=3600))
    async with app_client(app) as http:
        admin = await http.post(
            "/auth/login", json={"username": "admin", "password": PASSWORDS["admin"]}
        )
        headers = {"Authorization": f"Bearer {admin.json()['access_token']}"}
        rotated = await http.post("/auth/service-accounts/scheduler/secrets", headers=headers)
        assert rotated.status_code == 201, rotated.text
        new_secret = rotated.json()["client_secret"]
        assert rotated.json()["previous_expires_at"] is not None
        assert (await _token(http, "scheduler", SCHEDULER_SECRET)).status_code == 200
        assert (await _token(http, "scheduler", new_secret)).status_code == 200
        # A second rotation ends the oldest secret at once: never more than two.
        again = await http.post("/auth/service-accounts/scheduler/secrets", headers=headers)
        assert (await _token(http, "scheduler", SCHEDULER_SECRET)).status_code == 401
        assert (await _token(http, "scheduler", new_secret)).status_code == 200
        assert (await _token(http, "scheduler", again.json()["client_secret"])).status_code == 200
        missing = await http.post("/auth/service-accounts/nobody/secrets", headers=headers)
        assert missing.status_code == 404


async def test_without_overlap_the_previous_secret_ends_at_once(tmp_path: Any) -> None:
    app = create_auth_app(auth_settings_with_accounts(tmp_path, secret_overlap=0))
    async with app_client(app) as http:
        admin = await http.post(
            "/auth/login", json={"username": "admin", "password": PASSWORDS["admin"]}
        )
        headers = {"Authorization": f"Bearer {admin.json()['access_token']}"}
        rotated = await http.post("/auth/service-accounts/scheduler/secrets", headers=headers)
        assert rotated.json()["previous_expires_at"] is None
        assert (await _token(http, "scheduler", SCHEDULER_SECRET)).status_code == 401
        service = await _token(http, "executor", EXECUTOR_SECRET)
        as_service = {"Authorization": f"Bearer {service.json()['access_token']}"}
        refused = await http.post("/auth/service-accounts/scheduler/secrets", headers=as_service)
        assert refused.status_code == 403


async def test_verify_is_limited_per_authenticated_service_not_per_address(tmp_path: Any) -> None:
    app = create_auth_app(auth_settings_with_accounts(tmp_path, verify_limit="3/minute"))
    async with app_client(app) as http:
        scheduler = (await _token(http, "scheduler", SCHEDULER_SECRET)).json()["access_token"]
        executor = (await _token(http, "executor", EXECUTOR_SECRET)).json()["access_token"]
        as_scheduler = {"Authorization": f"Bearer {scheduler}"}
        answers = [
            (
                await http.post("/auth/verify", json={"token": executor}, headers=as_scheduler)
            ).status_code
            for _ in range(4)
        ]
        assert answers == [200, 200, 200, 429]
        # Same address, another principal: its own budget.
        as_executor = {"Authorization": f"Bearer {executor}"}
        other = await http.post("/auth/verify", json={"token": scheduler}, headers=as_executor)
        assert other.status_code == 200


async def test_verify_limit_off_and_every_429_documented(tmp_path: Any) -> None:
    app = create_auth_app(
        auth_settings_with_accounts(
            tmp_path, verify_limit=None, verify_exempt=True, default_limit="2/minute"
        )
    )
    async with app_client(app) as http:
        answers = {
            (await http.post("/auth/verify", json={"token": "a.b.c"})).status_code for _ in range(5)
        }
        assert answers == {200}
        document = (await http.get("/openapi.json")).json()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if path.startswith("/auth/") and path != "/auth/verify":
                assert "429" in operation["responses"], (
                    f"{method.upper()} {path} does not document 429"
                )
    token_body = document["paths"]["/auth/token"]["post"]["requestBody"]["content"]
    assert set(token_body) == {"application/x-www-form-urlencoded", "application/json"}
    assert "ClientCredentialsRequest" in document["components"]["schemas"]
