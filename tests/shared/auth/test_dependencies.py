"""The FastAPI dependencies: 401 without credentials, the role hierarchy, permissions,
optional auth, the OpenAPI security scheme, the log context, and no default user."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import Depends, FastAPI
from fastapi.security import HTTPBearer
from opsconductor_shared._context import log_context_values
from opsconductor_shared.auth import (
    CurrentUser,
    _verifier,
    get_verified_token,
    require_permissions,
    require_role,
)
from opsconductor_shared.auth._dependencies import BEARER_SCHEME_NAME
from opsconductor_shared.testing import KeySet, app_client

from .conftest import bearer, hs256_tokens, protected_app

pytestmark = pytest.mark.anyio

TOKENS = hs256_tokens(KeySet())
SETTINGS = TOKENS.keys.hs256_settings()


def token(**claims: Any) -> str:
    return TOKENS.issue(**claims)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic YWxpY2U6c2VjcmV0"},
        {"Authorization": "Bearer"},
        {"Authorization": ""},
    ],
)
async def test_missing_credentials_are_401_with_a_plain_challenge(headers: dict[str, str]) -> None:
    async with app_client(protected_app(SETTINGS)) as client:
        response = await client.get("/me", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["code"] == "UNAUTHORIZED"


@pytest.mark.parametrize(
    ("role", "operator", "admin"),
    [("viewer", 403, 403), ("operator", 200, 403), ("admin", 200, 200)],
)
async def test_role_hierarchy(role: str, operator: int, admin: int) -> None:
    async with app_client(protected_app(SETTINGS)) as client:
        headers = bearer(token(role=role, permissions=[]))
        operator_response = await client.get("/operator", headers=headers)
        admin_response = await client.delete("/admin", headers=headers)
    assert operator_response.status_code == operator
    assert admin_response.status_code == admin
    if admin == 403:
        assert admin_response.json()["code"] == "FORBIDDEN"


@pytest.mark.parametrize(
    ("role", "permissions", "status"),
    [
        ("viewer", ["targets:write"], 200),
        ("operator", ["targets:read"], 403),
        ("operator", [], 403),
        ("admin", [], 200),
    ],
)
async def test_permissions(role: str, permissions: list[str], status: int) -> None:
    async with app_client(protected_app(SETTINGS)) as client:
        response = await client.post(
            "/write", headers=bearer(token(role=role, permissions=permissions))
        )
    assert response.status_code == status


async def test_admins_can_be_held_to_explicit_permissions() -> None:
    app = protected_app(SETTINGS)

    @app.get(
        "/strict", dependencies=[Depends(require_permissions("audit:read", allow_admin=False))]
    )
    async def strict() -> dict[str, bool]:
        return {"ok": True}

    async with app_client(app) as client:
        admin = bearer(token(role="admin", permissions=[]))
        assert (await client.get("/strict", headers=admin)).status_code == 403
        auditor = bearer(token(role="viewer", permissions=["audit:read"]))
        assert (await client.get("/strict", headers=auditor)).status_code == 200


async def test_optional_auth() -> None:
    async with app_client(protected_app(SETTINGS)) as client:
        assert (await client.get("/optional")).json() == {"user_id": None}
        assert (await client.get("/optional", headers=bearer(token()))).json() == {"user_id": "7"}
        bad = await client.get("/optional", headers=bearer("not.a.token"))
        assert bad.status_code == 401  # a token that was sent must verify


async def test_user_id_is_bound_to_the_log_context() -> None:
    async with app_client(protected_app(SETTINGS)) as client:
        response = await client.get("/log-context", headers=bearer(token(sub="42")))
    assert response.json() == {"user_id": "42"}


async def test_the_log_context_is_masked_once_per_verified_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A cached token's log context is computed when it is verified, not on every request;
    what looks like a secret in it is masked all the same."""
    calls = []

    def counting(values: Any) -> dict[str, Any]:
        calls.append(dict(values))
        return log_context_values(values)

    monkeypatch.setattr(_verifier, "log_context_values", counting)
    headers = bearer(token(sub="password=hunter2hunter2"))
    async with app_client(protected_app(SETTINGS)) as client:
        for _ in range(5):
            response = await client.get("/log-context", headers=headers)
            assert response.status_code == 200
            assert "hunter2" not in response.text
    assert len(calls) == 1, calls


async def test_no_default_user_without_install_auth() -> None:
    async with app_client(protected_app(None)) as client:
        for headers in ({}, bearer(token())):
            response = await client.get("/me", headers=headers)
            assert response.status_code in (401, 500)
            assert response.status_code != 200
        response = await client.get("/optional")
        assert response.json() == {"user_id": None}


async def test_openapi_declares_the_bearer_scheme_and_its_errors() -> None:
    async with app_client(protected_app(SETTINGS)) as client:
        document = (await client.get("/openapi.json")).json()
    scheme = document["components"]["securitySchemes"][BEARER_SCHEME_NAME]
    assert scheme == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": scheme["description"],
    }
    for path, method in [
        ("/me", "get"),
        ("/operator", "get"),
        ("/admin", "delete"),
        ("/write", "post"),
    ]:
        operation = document["paths"][path][method]
        assert operation["security"] == [{BEARER_SCHEME_NAME: []}], path
        assert {"401", "403"} <= set(operation["responses"]), path
    assert "security" not in document["paths"]["/health/live"]["get"]


def test_definition_errors() -> None:
    with pytest.raises(ValueError, match="superuser"):
        require_role("superuser")
    with pytest.raises(ValueError, match="at least one"):
        require_permissions()


def test_the_verified_token_is_one_dependency_level() -> None:
    """The token dependency is the `BearerAuth` scheme itself, with nothing beneath it but the
    request: FastAPI resolves every level per request, and a nested security scheme would
    cost a second one on every authenticated call."""
    app = FastAPI()

    @app.get("/me")
    async def me(user: CurrentUser) -> dict[str, str]:
        return {"user_id": user.user_id}

    route = next(r for r in app.routes if getattr(r, "path", None) == "/me")
    (current_user,) = route.dependant.dependencies  # type: ignore[attr-defined]
    (token,) = current_user.dependencies
    assert token.call is get_verified_token
    assert isinstance(token.call, HTTPBearer)
    assert token.dependencies == []
    assert token.request_param_name == "request"
