"""Settings of the auth service (environment prefix `AUTH_SERVICE_`)."""

from __future__ import annotations

from pathlib import Path

from opsconductor_shared import ServiceSettings
from pydantic import Field, SecretStr, model_validator

SERVICE_NAME = "auth-service"
SEEDED_USERS = ("admin", "operator", "viewer")


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
        unknown = set(self.seed_passwords) - set(SEEDED_USERS)
        if unknown:
            raise ValueError(
                f"seed passwords for unknown users {sorted(unknown)}; the seeded users are {list(SEEDED_USERS)}"
            )
        return self
