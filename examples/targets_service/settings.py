"""Settings of the targets service (environment prefix `TARGETS_SERVICE_`)."""

from __future__ import annotations

import os

from opsconductor_shared import AuthSettings, ServiceSettings
from opsconductor_shared.client import ServiceClientSettings
from opsconductor_shared.database import DatabaseSettings
from opsconductor_shared.idempotency import IdempotencySettings
from opsconductor_shared.ratelimit import RateLimitSettings
from pydantic import Field, SecretStr, model_validator

SERVICE_NAME = "targets-service"
DEVELOPMENT_CURSOR_SECRET = "development-cursor-secret-change-me"  # noqa: S105 - refused in production


class TargetsSettings(ServiceSettings):
    """The runtime's settings plus auth, storage and cursor signing.

    `auth` defaults to local verification against the auth service's JWKS at
    `AUTH__JWKS_URL`; `DATABASE__DSN` (or the conventional `DATABASE_URL`) switches storage
    from memory to PostgreSQL, in `DATABASE_SCHEMA`, and with it the idempotency keys, unless
    `IDEMPOTENCY__STORAGE` says otherwise: to `DATABASE_SCHEMA.idempotency_keys`, where a
    create's response commits with the create. `auth_client` is how the service calls the
    auth service as itself (`AUTH_CLIENT__URL` and `AUTH_CLIENT__CREDENTIALS__TOKEN_URL`,
    `__CLIENT_ID`, `__CLIENT_SECRET`; see `owners`).
    """

    auth: AuthSettings = Field(
        default_factory=lambda: AuthSettings(jwks_url="http://127.0.0.1:8001/.well-known/jwks.json")
    )
    database: DatabaseSettings | None = Field(
        None, description="PostgreSQL; unset: in-memory storage."
    )
    database_schema: str = Field(
        "targets_service", pattern=r"^[a-z_][a-z0-9_]*$", description="Schema of the tables."
    )
    rate_limit: RateLimitSettings = Field(
        default_factory=lambda: RateLimitSettings(default_limit="600/minute")
    )
    write_limit: str = Field("120/minute", description="Per principal, on every write route.")
    idempotency: IdempotencySettings = Field(
        default_factory=IdempotencySettings,
        description=(
            "Idempotency-Key on the create routes: memory, redis for replicas, or postgres "
            "(the default with a database)."
        ),
    )
    cursor_secret: SecretStr = Field(
        SecretStr(DEVELOPMENT_CURSOR_SECRET), description="Signs page tokens."
    )
    max_bulk_items: int = Field(100, ge=1, le=1000)
    auth_client: ServiceClientSettings | None = Field(
        None,
        description=(
            "The auth service, called with this service's own credentials (the owner "
            "lookup); unset: the lookup answers 503."
        ),
    )

    @model_validator(mode="after")
    def _production_needs_a_cursor_secret(self) -> TargetsSettings:
        if (
            not self.development
            and self.cursor_secret.get_secret_value() == DEVELOPMENT_CURSOR_SECRET
        ):
            raise ValueError(
                "TARGETS_SERVICE_CURSOR_SECRET is required in production; only development uses the built-in one"
            )
        return self

    @model_validator(mode="after")
    def _idempotency_beside_the_targets(self) -> TargetsSettings:
        if self.database is None:
            return self
        idempotency = self.idempotency
        if "storage" not in idempotency.model_fields_set:  # only STORAGE chooses another
            idempotency = idempotency.model_copy(update={"storage": "postgres"})
        if idempotency.storage == "postgres" and "table" not in idempotency.model_fields_set:
            table = f"{self.database_schema}.idempotency_keys"
            idempotency = idempotency.model_copy(update={"table": table})
        self.idempotency = idempotency
        return self

    @model_validator(mode="before")
    @classmethod
    def _database_url(cls, values: object) -> object:
        # The conventional DATABASE_URL switches storage to PostgreSQL too.
        url = os.environ.get("DATABASE_URL")
        if isinstance(values, dict) and url and "database" not in values:
            return {**values, "database": {"dsn": url}}
        return values
