"""Settings of the targets service (environment prefix `TARGETS_SERVICE_`)."""

from __future__ import annotations

from opsconductor_shared import AuthSettings, ServiceSettings
from pydantic import Field, SecretStr

SERVICE_NAME = "targets-service"


class TargetsSettings(ServiceSettings):
    """The runtime's settings plus auth, storage and cursor signing.

    `auth` defaults to local verification against the auth service's JWKS at
    `AUTH__JWKS_URL`; `database_url` (or `DATABASE_URL` in the environment, read by the app)
    switches storage from memory to PostgreSQL.
    """

    auth: AuthSettings = Field(
        default_factory=lambda: AuthSettings(jwks_url="http://127.0.0.1:8001/.well-known/jwks.json")
    )
    database_url: SecretStr | None = Field(
        None, description="PostgreSQL DSN; unset: in-memory storage."
    )
    cursor_secret: SecretStr = Field(
        SecretStr("development-cursor-secret-change-me"), description="Signs page tokens."
    )
    max_bulk_items: int = Field(100, ge=1, le=1000)
