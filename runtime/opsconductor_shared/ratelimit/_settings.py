"""`RateLimitSettings`: the limits of a service, where counters live, and the failure policy.

class Settings(ServiceSettings):
    rate_limit: RateLimitSettings = RateLimitSettings()

TARGETS_RATE_LIMIT__DEFAULT_LIMIT=300/minute
TARGETS_RATE_LIMIT__ROLE_LIMITS='{"admin": "3000/minute"}'
TARGETS_RATE_LIMIT__SERVICE_LIMITS='{"scheduler": "6000/minute"}'
TARGETS_RATE_LIMIT__ROUTES='[{"path": "/targets", "methods": ["POST"], "limit": "30/minute"}]'
TARGETS_RATE_LIMIT__STORAGE=redis
TARGETS_RATE_LIMIT__REDIS__URL=redis://redis:6379/0
TARGETS_RATE_LIMIT__FAILURE_POLICY=closed
"""

from __future__ import annotations

from typing import Literal, Self

from opsconductor_contracts import Role
from pydantic import BaseModel, Field, model_validator

from .._redis import RedisSettings
from ._memory import DEFAULT_MAX_KEYS
from ._policy import RateLimit
from ._redis import DEFAULT_KEY_PREFIX, DEFAULT_STORE_TIMEOUT
from ._rules import DEFAULT_EXEMPT_PATHS, RateLimitRules, RouteRule

__all__ = ["DEFAULT_LIMIT", "RateLimitSettings", "RouteLimitSettings"]

DEFAULT_LIMIT = "600/minute"
_ROLES = sorted(role.value for role in Role)


def _check_roles(limits: dict[str, str]) -> None:
    for role, limit in limits.items():
        if role not in _ROLES:
            raise ValueError(f"unknown role {role!r} in rate limits; use {', '.join(_ROLES)}")
        RateLimit.parse(limit)


class RouteLimitSettings(BaseModel):
    """A limit for one route template (see `RouteRule`)."""

    path: str = Field(description="Starlette path template, such as /targets/{target_id}.")
    methods: list[str] = Field(default_factory=list, description="Methods; empty: all.")
    limit: str | None = Field(None, description="Such as 30/minute; None: only role limits.")
    roles: dict[str, str] = Field(default_factory=dict, description="Role -> limit.")
    name: str | None = Field(None, description="Name in the headers; default: METHODS path.")

    @model_validator(mode="after")
    def _valid(self) -> Self:
        _check_roles(self.roles)
        if self.limit is None and not self.roles:
            raise ValueError(f"route limit for {self.path!r} has neither a limit nor role limits")
        self.rule()
        return self

    def rule(self) -> RouteRule:
        methods = sorted({method.upper() for method in self.methods})
        name = self.name or " ".join([*methods, self.path])
        return RouteRule(
            self.path,
            RateLimit.parse(self.limit, name=name) if self.limit else None,
            frozenset(methods),
            {role: RateLimit.parse(limit, name=name) for role, limit in self.roles.items()},
        )


class RateLimitSettings(BaseModel):
    """Rate limiting of one service; every duration is in seconds."""

    enabled: bool = True
    default_limit: str | None = Field(
        DEFAULT_LIMIT, description="Per client or principal, every route not exempt; None: none."
    )
    role_limits: dict[str, str] = Field(
        default_factory=dict, description="Role -> service-wide limit instead of the default."
    )
    service_limits: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Service account -> its own service-wide limit, shared by all its replicas "
            "(callers with a client credentials token)."
        ),
    )
    routes: list[RouteLimitSettings] = Field(default_factory=list)
    exempt_paths: list[str] = Field(default_factory=lambda: list(DEFAULT_EXEMPT_PATHS))
    storage: Literal["memory", "redis"] = "memory"
    redis: RedisSettings = Field(default_factory=RedisSettings)
    key_prefix: str = Field(DEFAULT_KEY_PREFIX, min_length=1, max_length=64)
    failure_policy: Literal["open", "closed"] = Field(
        "open", description="While Redis cannot decide: open admits, closed answers 503."
    )
    store_timeout: float = Field(
        DEFAULT_STORE_TIMEOUT, gt=0, description="Longest wait for one decision from Redis."
    )
    retry_interval: float = Field(
        1.0, gt=0, description="After Redis failed, decide by the failure policy this long."
    )
    max_keys: int = Field(DEFAULT_MAX_KEYS, ge=1, description="Memory store bound.")
    headers: bool = Field(True, description="Send RateLimit-Policy and RateLimit headers.")

    @model_validator(mode="after")
    def _valid(self) -> Self:
        if self.default_limit is not None:
            RateLimit.parse(self.default_limit)
        _check_roles(self.role_limits)
        for limit in self.service_limits.values():
            RateLimit.parse(limit)
        return self

    def rules(self) -> RateLimitRules:
        """These settings as `RateLimitRules`."""
        return RateLimitRules(
            default=RateLimit.parse(self.default_limit) if self.default_limit else None,
            roles={role: RateLimit.parse(limit) for role, limit in self.role_limits.items()},
            principals={
                f"service:{name}": RateLimit.parse(limit)
                for name, limit in self.service_limits.items()
            },
            routes=[route.rule() for route in self.routes],
            exempt=self.exempt_paths,
        )
