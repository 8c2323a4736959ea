"""Fixtures of the auth tests: the testing kit's fake auth service (`fake_auth`, from the
plugin), settings that trust it with the tests' short timeout, and a protected app to call."""

from __future__ import annotations

from typing import Annotated, Any

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
from opsconductor_shared.testing import FakeAuthService, KeySet, TokenFactory

# Long enough for a loaded machine, short enough that the failure tests stay fast.
AUTH_TIMEOUT = 2.0
# The claims the tests' tokens carry unless a test says otherwise.
CLAIMS = {
    "sub": "7",
    "username": "alice",
    "email": "alice@example.com",
    "permissions": ["targets:write"],
    "token_version": 3,
}


def hs256_tokens(keys: KeySet) -> TokenFactory:
    """HS256 tokens with the tests' claims, for `keys.hs256_settings()`."""
    return TokenFactory(keys, algorithm="HS256", defaults=CLAIMS)


def issue(fake: FakeAuthService, **claims: Any) -> str:
    """An RS256 token from the fake auth service, with the tests' claims."""
    return fake.issue(**(CLAIMS | claims))


def local_settings(fake: FakeAuthService, **overrides: Any) -> AuthSettings:
    return fake.local_settings(**({"timeout": AUTH_TIMEOUT} | overrides))


def remote_settings(fake: FakeAuthService, **overrides: Any) -> AuthSettings:
    return fake.remote_settings(**({"timeout": AUTH_TIMEOUT} | overrides))


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


def bearer(token: str) -> dict[str, bytes]:
    # bytes, so that hostile tokens outside ASCII reach the server as sent
    return {"Authorization": f"Bearer {token}".encode("latin-1")}
