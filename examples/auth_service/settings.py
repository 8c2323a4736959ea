"""Settings of the auth service (environment prefix `AUTH_SERVICE_`)."""

from __future__ import annotations

import re
from pathlib import Path

from opsconductor_contracts import Role
from opsconductor_shared import ServiceSettings
from pydantic import BaseModel, Field, SecretStr, model_validator

SERVICE_NAME = "auth-service"
SEEDED_USERS = ("admin", "operator", "viewer")


CLIENT_ID_PATTERN = r"^[a-z][a-z0-9-]*$"


class ServiceAccountSettings(BaseModel):
    """One service account: its secrets (two while a rotation is under way), role and scopes."""

    secrets: list[SecretStr] = Field(
        min_length=1, max_length=2, description="Valid secrets; a second one during a rotation."
    )
    role: Role = Field(Role.viewer, description="The role its tokens carry.")
    scopes: list[str] = Field(
        default_factory=list, max_length=64, description="Scopes it may be granted."
    )


class AuthServiceSettings(ServiceSettings):
    """What the auth service needs beyond the runtime's settings.

    In production the signing key comes from `SIGNING_KEY` (a PEM private key) and seeded
    users get their passwords from `SEED_PASSWORDS__<USER>`; nothing is generated. In
    development a missing key is generated once and kept in `SIGNING_KEY_FILE`, and seeded
    users without a configured password get a random one, printed once at start.
    """

    issuer: str = Field("opsconductor-auth", min_length=1)
    audience: str = Field("opsconductor", min_length=1)
    access_token_ttl: int = Field(900, ge=60, le=3600, description="Seconds an access token lives.")
    refresh_token_ttl: int = Field(7 * 24 * 3600, ge=3600, le=90 * 24 * 3600)
    signing_key: SecretStr | None = Field(None, description="PEM RSA private key (production).")
    signing_key_file: Path = Field(
        Path(".demo/auth-signing-key.pem"),
        description="Development key file, created at first start.",
    )
    key_id: str | None = Field(
        None, description="kid of the signing key; default: its RFC 7638 thumbprint."
    )
    seed_passwords: dict[str, SecretStr] = Field(
        default_factory=dict, description="Passwords of the seeded users admin, operator, viewer."
    )
    jwks_max_age: int = Field(300, ge=0, description="Cache-Control max-age of the JWKS document.")
    login_limit: str = Field("10/minute", description="Login attempts per client address.")
    service_accounts: dict[str, ServiceAccountSettings] = Field(
        default_factory=dict,
        description="Service accounts by client id (the client credentials grant).",
    )
    service_token_ttl: int = Field(
        300, ge=5, le=3600, description="Seconds a service's access token lives."
    )
    secret_overlap: int = Field(
        3600, ge=0, description="Seconds the previous secret stays valid after a rotation."
    )
    token_limit: str = Field(
        "60/minute", description="Client credentials token requests per client address."
    )
    default_limit: str | None = Field(
        "600/minute", description="Service-wide limit per principal or client address."
    )
    service_limits: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Service account -> its own service-wide limit instead of default_limit, shared by "
            'all its replicas (AUTH_SERVICE_SERVICE_LIMITS=\'{"targets-service": "6000/minute"}\').'
        ),
    )
    verify_limit: str | None = Field(
        "6000/minute",
        description=(
            "Verify calls per caller: per authenticated service when the call carries its "
            "token, else per client address; None: no limit of its own (the default_limit "
            "still applies unless verify is exempt)."
        ),
    )
    verify_exempt: bool = Field(
        False, description="Exempt /auth/verify from the service-wide default_limit."
    )
    argon2_time_cost: int = Field(
        3, ge=1, description="argon2id iterations (RFC 9106 low-memory profile)."
    )
    argon2_memory_kib: int = Field(65536, ge=8, description="argon2id memory in KiB.")

    @model_validator(mode="after")
    def _production_needs_a_key(self) -> AuthServiceSettings:
        if not self.development and self.signing_key is None:
            raise ValueError(
                "AUTH_SERVICE_SIGNING_KEY (a PEM RSA private key) is required in production; only development generates one"
            )
        bad_ids = [cid for cid in self.service_accounts if not re.fullmatch(CLIENT_ID_PATTERN, cid)]
        if bad_ids:
            raise ValueError(
                f"service account ids {bad_ids} are not lower-case names such as scheduler"
            )
        unknown = set(self.seed_passwords) - set(SEEDED_USERS)
        if unknown:
            raise ValueError(
                f"seed passwords for unknown users {sorted(unknown)}; the seeded users are {list(SEEDED_USERS)}"
            )
        return self
