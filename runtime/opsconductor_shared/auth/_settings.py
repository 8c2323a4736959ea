"""`AuthSettings`: how a service verifies the auth service's tokens.

    mode=local    verify in-process with PyJWT, against the auth service's JWKS (`jwks_url`)
                  or a shared HS256 secret (`hs256_secret`): exactly one of the two
    mode=remote   ask the auth service's verify endpoint (`verify_url`); needed for
                  `token_version` revocation, which only the auth service knows about

Nested in a service's settings as `auth` (`TARGETS_AUTH__MODE=remote`), or read on its own
with `AuthSettings.for_service("targets")`, which reads the same variables. Every default is
the safe production choice: RS256 only, 30 s of leeway, 4 KiB tokens at most, 2 s to reach
the auth service, and verified tokens cached for at most a minute (never beyond `exp`).
"""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic import ValidationError as PydanticValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from .._redis import RedisSettings
from .._settings import (
    SettingsError,
    env_prefix_for,
    read_under_service_prefix,
    settings_problems,
)

__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "AuthSettings",
    "DEFAULT_AUDIENCE",
    "DEFAULT_AUTH_TIMEOUT",
    "DEFAULT_CACHE_MAX_ENTRIES",
    "DEFAULT_CACHE_TTL",
    "DEFAULT_ISSUER",
    "DEFAULT_JWKS_REFRESH_INTERVAL",
    "DEFAULT_JWKS_UNKNOWN_KID_COOLDOWN",
    "DEFAULT_LEEWAY",
    "DEFAULT_MAX_TOKEN_BYTES",
    "DEFAULT_NEGATIVE_CACHE_TTL",
]

DEFAULT_ISSUER = "opsconductor-auth"
DEFAULT_AUDIENCE = "opsconductor"
DEFAULT_LEEWAY = 30.0
DEFAULT_MAX_TOKEN_BYTES = 4096
DEFAULT_AUTH_TIMEOUT = 2.0
DEFAULT_CACHE_MAX_ENTRIES = 10_000
DEFAULT_CACHE_TTL = 60.0
DEFAULT_NEGATIVE_CACHE_TTL = 5.0
DEFAULT_JWKS_REFRESH_INTERVAL = 300.0
DEFAULT_JWKS_UNKNOWN_KID_COOLDOWN = 30.0
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
_MIN_HS256_SECRET_BYTES = 32  # RFC 7518 section 3.2: at least the hash's size


class AuthSettings(BaseModel):
    """Token verification settings (see the module docstring)."""

    model_config = ConfigDict(extra="ignore", frozen=True, hide_input_in_errors=True)

    mode: Literal["local", "remote"] = "local"
    jwks_url: AnyHttpUrl | None = Field(None, description="The auth service's JWKS (local mode).")
    hs256_secret: SecretStr | None = Field(
        None, description="Shared HS256 secret (local mode without JWKS), 32 bytes or more."
    )
    issuer: str = Field(DEFAULT_ISSUER, min_length=1, description="Required `iss`.")
    audience: str = Field(DEFAULT_AUDIENCE, min_length=1, description="Required in `aud`.")
    algorithms: tuple[str, ...] | None = Field(
        None,
        description="Allowed algorithms; default RS256 with a JWKS, HS256 with a secret.",
    )
    leeway: float = Field(DEFAULT_LEEWAY, ge=0, le=300, description="Clock skew allowed, s.")
    max_token_bytes: int = Field(DEFAULT_MAX_TOKEN_BYTES, ge=256, le=65_536)
    verify_url: AnyHttpUrl | None = Field(None, description="The verify endpoint (remote mode).")
    health_url: AnyHttpUrl | None = Field(
        None,
        description="The auth service's health route for readiness (remote mode); default: "
        "/health/live next to verify_url.",
    )
    timeout: float = Field(
        DEFAULT_AUTH_TIMEOUT,
        gt=0,
        le=60,
        description="Seconds a verification or a JWKS fetch may take in all.",
    )
    cache_max_entries: int = Field(DEFAULT_CACHE_MAX_ENTRIES, ge=0)
    cache_ttl: float = Field(DEFAULT_CACHE_TTL, ge=0, description="Longest cache life, s.")
    negative_cache_ttl: float = Field(DEFAULT_NEGATIVE_CACHE_TTL, ge=0)
    shared_cache: Literal["memory", "redis"] = Field(
        "memory",
        description=(
            "Remote mode: where verified tokens are cached; redis shares them with every "
            "replica, so a token is verified once per fleet, not once per replica."
        ),
    )
    redis: RedisSettings = Field(
        default_factory=RedisSettings, description="The shared cache's Redis (shared_cache=redis)."
    )
    jwks_refresh_interval: float = Field(DEFAULT_JWKS_REFRESH_INTERVAL, gt=0)
    jwks_unknown_kid_cooldown: float = Field(DEFAULT_JWKS_UNKNOWN_KID_COOLDOWN, ge=0)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        for algorithm in self.algorithms or ():
            if algorithm.lower() == "none":
                raise ValueError("the 'none' algorithm can never be allowed")
            if algorithm not in ASYMMETRIC_ALGORITHMS | {"HS256"}:
                raise ValueError(
                    f"unsupported algorithm {algorithm!r}; use one of "
                    f"{sorted(ASYMMETRIC_ALGORITHMS)} or HS256"
                )
        if self.algorithms is not None and not self.algorithms:
            raise ValueError("algorithms cannot be empty; leave it unset for the default")
        if self.mode == "remote":
            if self.verify_url is None:
                raise ValueError("remote mode needs verify_url, the auth service's verify endpoint")
            return self
        if (self.jwks_url is None) == (self.hs256_secret is None):
            raise ValueError("local mode needs exactly one of jwks_url and hs256_secret")
        allowed = set(self.allowed_algorithms)
        if self.hs256_secret is not None:
            if allowed != {"HS256"}:
                raise ValueError("with hs256_secret the only allowed algorithm is HS256")
            if len(self.hs256_secret.get_secret_value().encode()) < _MIN_HS256_SECRET_BYTES:
                raise ValueError(
                    f"hs256_secret must be at least {_MIN_HS256_SECRET_BYTES} bytes long"
                )
        elif "HS256" in allowed:
            raise ValueError(
                "HS256 cannot be allowed with a JWKS: public keys are never HMAC secrets"
            )
        return self

    @property
    def allowed_algorithms(self) -> tuple[str, ...]:
        """The algorithm allow-list in force."""
        if self.algorithms is not None:
            return self.algorithms
        return ("HS256",) if self.hs256_secret is not None else ("RS256",)

    @property
    def readiness_url(self) -> str | None:
        """Where readiness probes the auth service (remote mode)."""
        if self.health_url is not None:
            return str(self.health_url)
        if self.verify_url is None:
            return None
        url = self.verify_url
        port = f":{url.port}" if url.port else ""
        return f"{url.scheme}://{url.host}{port}/health/live"

    @classmethod
    def for_service(cls, service: str, **values: Any) -> Self:
        """Settings from `<SERVICE>_AUTH__*` (the variables of a nested `auth` field).

        Raises:
            SettingsError: a value is missing, invalid or inconsistent; each problem names
                its variable.
        """
        prefix = f"{env_prefix_for(service)}AUTH__"
        try:
            environment = _Environment(_env_prefix=prefix, **values)
            return cls.model_validate(environment.model_dump())
        except PydanticValidationError as exc:
            raise SettingsError(
                f"the auth settings of {service}", settings_problems(exc, cls, prefix)
            ) from None


class _Environment(BaseSettings, AuthSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True, hide_input_in_errors=True)


read_under_service_prefix("AUTH", AuthSettings)
