"""Service settings: pydantic-settings, one environment prefix per service, `__` for nesting.

`ServiceSettings.for_service("targets")` reads `TARGETS_ENVIRONMENT`, `TARGETS_LOG__LEVEL`,
`TARGETS_CORS__ALLOW_ORIGINS='["https://ops.example.com"]'` and so on; tests and code pass
values as keyword arguments instead, which win over the environment. Every default is the
safe production choice; `environment=development` relaxes what local work needs (console
logs, no HSTS, CORS open to any origin without credentials, debug-friendly docs CSP).
"""

from __future__ import annotations

import re
from typing import Any, Literal, Self

from pydantic import BaseModel, Field, IPvAnyNetwork, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .middleware.body_limit import DEFAULT_MAX_BODY_BYTES
from .middleware.cors import (
    DEFAULT_CORS_HEADERS,
    DEFAULT_CORS_METHODS,
    DEFAULT_EXPOSED_HEADERS,
    cors_middleware_options,
)
from .middleware.security_headers import DEFAULT_HSTS_MAX_AGE
from .middleware.standard import DEFAULT_SLOW_REQUEST_MS

__all__ = [
    "CORSSettings",
    "LoggingSettings",
    "SecurityHeadersSettings",
    "ServiceSettings",
    "env_prefix_for",
]


def env_prefix_for(service: str) -> str:
    """The environment prefix of a service: `targets-service` reads `TARGETS_SERVICE_*`."""
    prefix = re.sub(r"[^A-Z0-9]+", "_", service.upper()).strip("_")
    if not prefix:
        raise ValueError(
            f"service name {service!r} has no letters or digits for an environment prefix"
        )
    return f"{prefix}_"


class LoggingSettings(BaseModel):
    """Log level and format; the format defaults to JSON in production, console in development."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    format: Literal["json", "console"] | None = None


class CORSSettings(BaseModel):
    """Cross-origin access; off (no origins) by default. A wildcard never goes with credentials."""

    allow_origins: list[str] = Field(default_factory=list)
    allow_credentials: bool = False
    allow_methods: list[str] = Field(default_factory=lambda: list(DEFAULT_CORS_METHODS))
    allow_headers: list[str] = Field(default_factory=lambda: list(DEFAULT_CORS_HEADERS))
    expose_headers: list[str] = Field(default_factory=lambda: list(DEFAULT_EXPOSED_HEADERS))
    max_age: int = Field(600, ge=0)

    @model_validator(mode="after")
    def _safe(self) -> Self:
        cors_middleware_options(**self.model_dump())
        return self

    def middleware_options(self) -> dict[str, Any]:
        return cors_middleware_options(**self.model_dump())


class SecurityHeadersSettings(BaseModel):
    """Security headers; `hsts` None means on in production, off in development."""

    hsts: bool | None = None
    hsts_max_age: int = Field(DEFAULT_HSTS_MAX_AGE, ge=0)
    hsts_include_subdomains: bool = True


class ServiceSettings(BaseSettings):
    """Settings every service built on the runtime has (see the module docstring)."""

    model_config = SettingsConfigDict(
        env_nested_delimiter="__", extra="ignore", validate_default=True
    )

    environment: Literal["production", "development"] = "production"
    log: LoggingSettings = Field(default_factory=LoggingSettings)
    cors: CORSSettings = Field(default_factory=CORSSettings)
    security_headers: SecurityHeadersSettings = Field(default_factory=SecurityHeadersSettings)
    trusted_proxies: list[IPvAnyNetwork] = Field(
        default_factory=list,
        description="Networks of the reverse proxies whose X-Forwarded-For is believed.",
    )
    max_body_bytes: int = Field(DEFAULT_MAX_BODY_BYTES, ge=0)
    slow_request_ms: float = Field(DEFAULT_SLOW_REQUEST_MS, gt=0)
    metrics_enabled: bool = False
    request_id_header: str = Field("X-Request-ID", pattern=r"^[A-Za-z0-9-]{1,64}$")
    trust_incoming_request_id: bool = True
    health_check_timeout: float = Field(2.0, gt=0)
    docs_enabled: bool = True

    @classmethod
    def for_service(cls, service: str, **values: Any) -> Self:
        """Settings read from the environment under the service's prefix (`env_prefix_for`)."""
        return cls(_env_prefix=env_prefix_for(service), **values)

    @property
    def development(self) -> bool:
        return self.environment == "development"

    @property
    def log_json(self) -> bool:
        if self.log.format is not None:
            return self.log.format == "json"
        return not self.development

    @property
    def hsts(self) -> bool:
        if self.security_headers.hsts is not None:
            return self.security_headers.hsts
        return not self.development

    def cors_options(self) -> dict[str, Any] | None:
        """CORS middleware options, or None when CORS is off."""
        if self.cors.allow_origins:
            return self.cors.middleware_options()
        if self.development:
            return CORSSettings(allow_origins=["*"]).middleware_options()
        return None
