"""Fixtures of the auth tests: a live fake auth service, and a protected app to call."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI
from opsconductor_contracts import Identity
from opsconductor_shared import ServiceSettings, create_service_app
from opsconductor_shared._context import get_log_context
from opsconductor_shared.auth import (
    AuthSettings,
    CurrentUser,
    OptionalUser,
    VerifiedClaims,
    install_auth,
    require_admin,
    require_permissions,
    require_role,
)

from tests.live_server import LiveServer

from .fake_auth import FakeAuthService, new_rsa_key


@pytest.fixture(scope="session")
def rsa_keys() -> dict[str, Any]:
    return {"k1": new_rsa_key(), "k2": new_rsa_key(), "k3": new_rsa_key()}


@pytest.fixture(scope="session")
def fake_auth_server(rsa_keys: dict[str, Any]) -> Iterator[tuple[FakeAuthService, LiveServer]]:
    fake = FakeAuthService(rsa_keys)
    with LiveServer(fake.app, lifespan="off") as server:
        yield fake, server


@pytest.fixture
def fake_auth(fake_auth_server: tuple[FakeAuthService, LiveServer]) -> FakeAuthService:
    fake, server = fake_auth_server
    fake.reset()
    fake.url = server.url  # type: ignore[attr-defined]
    return fake


def local_settings(fake: FakeAuthService, **overrides: Any) -> AuthSettings:
    values: dict[str, Any] = {"jwks_url": f"{fake.url}/.well-known/jwks.json", "timeout": 1.0}  # type: ignore[attr-defined]
    return AuthSettings(**(values | overrides))


def remote_settings(fake: FakeAuthService, **overrides: Any) -> AuthSettings:
    values: dict[str, Any] = {
        "mode": "remote",
        "verify_url": f"{fake.url}/auth/verify",
        "timeout": 1.0,
    }  # type: ignore[attr-defined]
    return AuthSettings(**(values | overrides))


def protected_app(settings: AuthSettings | None) -> FastAPI:
    """A service with one route per dependency; auth is not installed when settings is None."""
    app = create_service_app(
        "orders", "1.0.0", ServiceSettings(environment="production"), configure_logging=False
    )
    if settings is not None:
        install_auth(app, settings)

    @app.get("/me")
    async def me(user: CurrentUser) -> Identity:
        return user

    @app.get("/claims")
    async def claims(claims: VerifiedClaims) -> dict[str, Any]:
        return {"sub": claims.sub, "type": claims.type.value}

    @app.get("/optional")
    async def optional(user: OptionalUser) -> dict[str, Any]:
        return {"user_id": user.user_id if user else None}

    @app.get("/log-context")
    async def log_context(user: CurrentUser) -> dict[str, Any]:
        return {"user_id": get_log_context().get("user_id")}

    @app.get("/operator")
    async def operator(
        user: Annotated[Identity, Depends(require_role("operator"))],
    ) -> dict[str, str]:
        return {"role": user.role.value}

    @app.delete("/admin", dependencies=[Depends(require_admin)])
    async def admin() -> dict[str, bool]:
        return {"ok": True}

    @app.post("/write", dependencies=[Depends(require_permissions("targets:write"))])
    async def write() -> dict[str, bool]:
        return {"ok": True}

    return app


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """`app` with its lifespan entered, and an httpx client that calls it in-process."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://orders") as client:
            yield client


def bearer(token: str) -> dict[str, bytes]:
    # bytes, so that hostile tokens outside ASCII reach the server as sent
    return {"Authorization": f"Bearer {token}".encode("latin-1")}
