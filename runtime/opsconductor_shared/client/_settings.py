"""`ServiceClientSettings`: how to reach one upstream, read from `<NAME>_SERVICE_*`.

`ServiceClientSettings.for_upstream("targets")` reads `TARGETS_SERVICE_URL`,
`TARGETS_SERVICE_TIMEOUT`, `TARGETS_SERVICE_RETRY_ATTEMPTS` and so on; keyword arguments win
over the environment. The model itself is plain pydantic, so a service can also keep one (or
a dict of them) inside its own settings.
"""

from __future__ import annotations

import re
from typing import Any, Self

import httpx
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from .._settings import SettingsError, env_prefix_for, settings_problems
from ._breaker import DEFAULT_FAILURE_THRESHOLD, DEFAULT_RESET_TIMEOUT, CircuitBreaker
from ._credentials import ServiceCredentials
from ._retry import (
    DEFAULT_BACKOFF_INITIAL,
    DEFAULT_BACKOFF_MAX,
    DEFAULT_RETRY_AFTER_LIMIT,
    DEFAULT_RETRY_ATTEMPTS,
    DEFAULT_RETRY_DEADLINE,
    RetryPolicy,
)

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_KEEPALIVE_EXPIRY",
    "DEFAULT_MAX_CONNECTIONS",
    "DEFAULT_TIMEOUT_SECONDS",
    "ServiceClientSettings",
    "upstream_env_prefix",
]

DEFAULT_TIMEOUT_SECONDS = 5.0
DEFAULT_CONNECT_TIMEOUT = 2.0
DEFAULT_MAX_CONNECTIONS = 20
# Below uvicorn's keep-alive timeout (5 s): a connection is dropped here before the server
# closes it under a request.
DEFAULT_KEEPALIVE_EXPIRY = 4.0
_SERVICE_SUFFIX = re.compile(r"[-_ ]service$", re.IGNORECASE)


def upstream_env_prefix(name: str) -> str:
    """The environment prefix of an upstream: `targets` reads `TARGETS_SERVICE_*`.

    Raises:
        ValueError: the name ends in `service` (`auth-service` would read
            `AUTH_SERVICE_SERVICE_URL`), or has no letters or digits.
    """
    if _SERVICE_SUFFIX.search(name.strip()):
        short = _SERVICE_SUFFIX.sub("", name.strip())
        raise ValueError(
            f"name the upstream without the service suffix: {short!r} reads "
            f"{env_prefix_for(short)}SERVICE_URL, {name!r} would read "
            f"{env_prefix_for(name)}SERVICE_URL"
        )
    return f"{env_prefix_for(name)}SERVICE_"


class ServiceClientSettings(BaseModel):
    """Connection, retry and circuit-breaker settings of one upstream service."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    url: AnyHttpUrl = Field(description="Base URL of the upstream, such as http://targets:8000.")
    timeout: float = Field(
        DEFAULT_TIMEOUT_SECONDS, gt=0, description="Read, write and pool timeout, in seconds."
    )
    connect_timeout: float = Field(DEFAULT_CONNECT_TIMEOUT, gt=0)
    max_connections: int = Field(DEFAULT_MAX_CONNECTIONS, ge=1, description="Pool size.")
    max_keepalive_connections: int | None = Field(
        None, ge=0, description="Idle connections kept; default: the pool size."
    )
    keepalive_expiry: float = Field(DEFAULT_KEEPALIVE_EXPIRY, ge=0)
    retry_attempts: int = Field(DEFAULT_RETRY_ATTEMPTS, ge=1)
    retry_deadline: float = Field(DEFAULT_RETRY_DEADLINE, gt=0)
    retry_backoff_initial: float = Field(DEFAULT_BACKOFF_INITIAL, ge=0)
    retry_backoff_max: float = Field(DEFAULT_BACKOFF_MAX, gt=0)
    retry_after_limit: float = Field(DEFAULT_RETRY_AFTER_LIMIT, ge=0)
    breaker_enabled: bool = True
    breaker_failure_threshold: int = Field(DEFAULT_FAILURE_THRESHOLD, ge=1)
    breaker_reset_timeout: float = Field(DEFAULT_RESET_TIMEOUT, gt=0)
    forward_authorization: bool = Field(
        False, description="Forward the caller's verified bearer token on every call."
    )
    credentials: ServiceCredentials | None = Field(
        None, description="Call as this service account (client credentials) instead."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (
            self.max_keepalive_connections is not None
            and self.max_keepalive_connections > self.max_connections
        ):
            raise ValueError("max_keepalive_connections cannot exceed max_connections")
        return self

    @classmethod
    def for_upstream(cls, name: str, **values: Any) -> Self:
        """Settings of upstream `name` from `<NAME>_SERVICE_*` (see `upstream_env_prefix`).

        Raises:
            SettingsError: the URL is missing or a value is invalid; each problem names its
                variable.
        """
        prefix = upstream_env_prefix(name)
        try:
            environment = _Environment(_env_prefix=prefix, **values)
        except PydanticValidationError as exc:
            raise SettingsError(
                f"the client of the {name} service (set the variables, or pass "
                "ServiceClientSettings(url=...))",
                settings_problems(exc, cls, prefix),
            ) from None
        return cls.model_validate(environment.model_dump())

    def httpx_timeout(self) -> httpx.Timeout:
        """The explicit `httpx.Timeout` of these settings."""
        return httpx.Timeout(self.timeout, connect=self.connect_timeout)

    def httpx_limits(self) -> httpx.Limits:
        """The explicit `httpx.Limits` of these settings (idle connections default to the pool)."""
        keepalive = self.max_keepalive_connections
        return httpx.Limits(
            max_connections=self.max_connections,
            max_keepalive_connections=self.max_connections if keepalive is None else keepalive,
            keepalive_expiry=self.keepalive_expiry,
        )

    def retry_policy(self) -> RetryPolicy:
        """The `RetryPolicy` of these settings."""
        return RetryPolicy(
            attempts=self.retry_attempts,
            deadline=self.retry_deadline,
            backoff_initial=self.retry_backoff_initial,
            backoff_max=self.retry_backoff_max,
            retry_after_limit=self.retry_after_limit,
        )

    def circuit_breaker(self, name: str) -> CircuitBreaker | None:
        """A new `CircuitBreaker` for upstream `name`, or None when the breaker is off."""
        if not self.breaker_enabled:
            return None
        return CircuitBreaker(
            name,
            failure_threshold=self.breaker_failure_threshold,
            reset_timeout=self.breaker_reset_timeout,
        )


class _Environment(BaseSettings, ServiceClientSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)
