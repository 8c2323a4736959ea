"""The targets service's owner lookup (`GET /targets/{id}/owner`), in process: the targets app
calling the real auth app (ASGI transport) with its own service identity; 404s, 503 when the
auth service cannot be reached or the lookup is not configured, the settings from the
environment, a misconfigured account (502), and the OpenAPI document."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from opsconductor_shared import AuthSettings
from opsconductor_shared.client import ServiceClientSettings, ServiceCredentials
from opsconductor_shared.testing import app_client, closed_port_url

from examples.auth_service.app import create_app as create_auth_app
from examples.auth_service.users import USER_ID_NAMESPACE
from examples.targets_service.app import create_app as create_targets_app
from examples.targets_service.settings import TargetsSettings

from .conftest import ACCOUNTS, auth_settings_with_accounts

pytestmark = pytest.mark.anyio
TARGETS_SECRET = "targets-secret-0123456789"
ACCOUNTS_WITH_TARGETS = {
    **ACCOUNTS,
    "targets-service": {"secrets": [TARGETS_SECRET], "scopes": ["users:read"]},
}
OPERATOR_ID = str(uuid.uuid5(USER_ID_NAMESPACE, "operator"))
TARGET = {"name": "owned-01", "hostname": "owned-01.example.com", "os_type": "linux"}


def _client_settings(base: str = "http://auth.test", **credentials: Any) -> ServiceClientSettings:
    return ServiceClientSettings(
        url=base,
        retry_attempts=1,
        credentials=ServiceCredentials(
            token_url=f"{base}/auth/token",
            client_id="targets-service",
            client_secret=TARGETS_SECRET,
            **credentials,
        ),
    )


class CountingTransport(httpx.AsyncBaseTransport):
    """The auth app behind an ASGI transport, counting the token requests it answers."""

    def __init__(self, app: Any) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.token_requests = 0
        self.lookups = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/token":
            self.token_requests += 1
        elif request.url.path.startswith("/auth/users/"):
            self.lookups += 1
        return await self.inner.handle_async_request(request)


async def _created(targets: httpx.AsyncClient, headers: dict[str, str]) -> int:
    answer = await targets.post("/targets", json=TARGET, headers=headers)
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


async def test_the_owner_comes_from_the_auth_service_as_the_targets_service(
    tmp_path: Any,
    auth_settings: AuthSettings,
    auth_headers: Callable[..., dict[str, str]],
) -> None:
    auth_app = create_auth_app(
        auth_settings_with_accounts(tmp_path, service_accounts=ACCOUNTS_WITH_TARGETS)
    )
    transport = CountingTransport(auth_app)
    targets_app = create_targets_app(
        TargetsSettings(auth=auth_settings, cursor_secret="test", auth_client=_client_settings()),
        auth_client_options={"transport": transport},
    )
    operator = auth_headers(role="operator", sub=OPERATOR_ID)
    async with app_client(auth_app), app_client(targets_app) as targets:
        target_id = await _created(targets, operator)
        viewer = auth_headers(role="viewer", sub="someone-else")
        answers = await asyncio.gather(
            *(targets.get(f"/targets/{target_id}/owner", headers=viewer) for _ in range(20))
        )
        assert {a.status_code for a in answers} == {200}, answers[0].text
        assert answers[0].json() == {
            "user_id": OPERATOR_ID,
            "username": "operator",
            "role": "operator",
            "active": True,
        }
        # 20 concurrent lookups, one token (single flight), each lookup on that token.
        assert transport.token_requests == 1
        assert transport.lookups == 20
        anonymous = await targets.get(f"/targets/{target_id}/owner")
        assert anonymous.status_code == 401
        missing = await targets.get("/targets/987654/owner", headers=viewer)
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        ghost = auth_headers(role="operator", sub="no-such-user")
        unknown_owner = await targets.get(
            f"/targets/{await _created_named(targets, ghost)}/owner", headers=viewer
        )
        assert unknown_owner.status_code == 404, unknown_owner.text
        assert "not a known user" in unknown_owner.json()["detail"]
        assert transport.token_requests == 1


async def _created_named(targets: httpx.AsyncClient, headers: dict[str, str]) -> int:
    body = {**TARGET, "name": f"owned-{uuid.uuid4().hex[:8]}"}
    answer = await targets.post("/targets", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


async def test_an_unreachable_auth_service_is_503_not_401(
    auth_settings: AuthSettings, auth_headers: Callable[..., dict[str, str]]
) -> None:
    targets_app = create_targets_app(
        TargetsSettings(
            auth=auth_settings,
            cursor_secret="test",
            auth_client=_client_settings(closed_port_url(), timeout=1.0),
        )
    )
    operator = auth_headers(role="operator", sub=OPERATOR_ID)
    async with app_client(targets_app) as targets:
        target_id = await _created(targets, operator)
        down = await targets.get(f"/targets/{target_id}/owner", headers=operator)
    assert down.status_code == 503, down.text
    assert down.headers["content-type"] == "application/problem+json"
    assert down.json()["code"] == "SERVICE_UNAVAILABLE"
    assert TARGETS_SECRET not in down.text


async def test_without_an_auth_client_the_lookup_is_503(
    auth_settings: AuthSettings, auth_headers: Callable[..., dict[str, str]]
) -> None:
    targets_app = create_targets_app(TargetsSettings(auth=auth_settings, cursor_secret="test"))
    operator = auth_headers(role="operator", sub=OPERATOR_ID)
    async with app_client(targets_app) as targets:
        target_id = await _created(targets, operator)
        answer = await targets.get(f"/targets/{target_id}/owner", headers=operator)
    assert answer.status_code == 503
    assert "not configured" in answer.json()["detail"]


def test_the_auth_client_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TARGETS_SERVICE_ENVIRONMENT", "development")
    monkeypatch.setenv("TARGETS_SERVICE_AUTH_CLIENT__URL", "http://auth:8000")
    prefix = "TARGETS_SERVICE_AUTH_CLIENT__CREDENTIALS__"
    monkeypatch.setenv(f"{prefix}TOKEN_URL", "http://auth:8000/auth/token")
    monkeypatch.setenv(f"{prefix}CLIENT_ID", "targets-service")
    monkeypatch.setenv(f"{prefix}CLIENT_SECRET", TARGETS_SECRET)
    settings = TargetsSettings.for_service("targets-service")
    assert settings.auth_client is not None
    credentials = settings.auth_client.credentials
    assert credentials is not None
    assert credentials.client_id == "targets-service"
    assert credentials.client_secret.get_secret_value() == TARGETS_SECRET
    assert TARGETS_SECRET not in repr(settings)
    assert TARGETS_SECRET not in json.dumps(settings.model_dump(mode="json"))


def test_an_auth_client_without_credentials_is_refused(auth_settings: AuthSettings) -> None:
    settings = TargetsSettings(
        auth=auth_settings,
        cursor_secret="test",
        auth_client=ServiceClientSettings(url="http://auth:8000"),
    )
    with pytest.raises(ValueError, match="own identity only"):
        create_targets_app(settings)


def test_the_owner_route_documents_its_errors(auth_settings: AuthSettings) -> None:
    app = create_targets_app(TargetsSettings(auth=auth_settings, cursor_secret="test"))
    operation = app.openapi()["paths"]["/targets/{target_id}/owner"]["get"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/UserSummary"
    }
    for status in ("401", "404", "502", "503", "504"):
        assert status in operation["responses"], status


async def test_an_account_without_the_scope_is_502_not_403(
    tmp_path: Any,
    auth_settings: AuthSettings,
    auth_headers: Callable[..., dict[str, str]],
) -> None:
    # A misconfigured account (no users:read) is this service's fault, not the caller's: the
    # auth service's 403 becomes a 502, and the caller is never told it is forbidden.
    accounts = {"targets-service": {"secrets": [TARGETS_SECRET], "scopes": []}}
    auth_app = create_auth_app(auth_settings_with_accounts(tmp_path, service_accounts=accounts))
    targets_app = create_targets_app(
        TargetsSettings(auth=auth_settings, cursor_secret="test", auth_client=_client_settings()),
        auth_client_options={"transport": httpx.ASGITransport(app=auth_app)},
    )
    operator = auth_headers(role="operator", sub=OPERATOR_ID)
    async with app_client(auth_app), app_client(targets_app) as targets:
        target_id = await _created(targets, operator)
        refused = await targets.get(f"/targets/{target_id}/owner", headers=operator)
    assert refused.status_code == 502, refused.text
    assert refused.json()["code"] == "UPSTREAM_ERROR"
