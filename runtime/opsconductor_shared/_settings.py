"""Service settings: pydantic-settings, one environment prefix per service, `__` for nesting.

`ServiceSettings.for_service("targets")` reads `TARGETS_ENVIRONMENT`, `TARGETS_LOG__LEVEL`,
`TARGETS_CORS__ALLOW_ORIGINS='["https://ops.example.com"]'` and so on; tests and code pass
values as keyword arguments instead, which win over the environment. Every default is the
safe production choice; `environment=development` relaxes what local work needs (console
logs, no HSTS, CORS open to any origin without credentials, debug-friendly docs CSP).

Mistakes are told in the environment's terms. A value that does not validate is a
`SettingsError` that names each variable and says what is wrong with it, one line each,
without pydantic's traceback of the cause:

    cannot configure jobs-service: 2 settings are invalid
      JOBS_SERVICE_AUTH__JWKS_URL is required
      JOBS_SERVICE_LOG__LEVEL: Input should be 'DEBUG', 'INFO', 'WARNING', 'ERROR' or 'CRITICAL'

nested fields (`AUTH__JWKS_URL`), items of lists (`TRUSTED_PROXIES (item 2)`) and the checks
of a whole group (`AUTH__*: remote mode needs JOBS_SERVICE_AUTH__VERIFY_URL, ...`) included.
A variable with the service's prefix that is no setting of it (`JOBS_SERVICE_LOG_LEVEL`, one
underscore short) is not ignored in silence: `create_service_app` logs one
`unknown_setting` warning for each at startup, with the closest valid name (`did you mean
JOBS_SERVICE_LOG__LEVEL?`).
"""

from __future__ import annotations

import difflib
import os
import re
import types
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Self, Union, get_args, get_origin

from pydantic import BaseModel, Field, IPvAnyNetwork, PrivateAttr, model_validator
from pydantic import ValidationError as PydanticValidationError
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
    "StartupSettings",
    "SettingsError",
    "SettingsProblem",
    "env_prefix_for",
    "read_under_service_prefix",
    "settings_problems",
    "setting_variables",
    "unknown_variables",
]

NESTED_DELIMITER = "__"
_SERVICE_GROUPS: dict[str, type[BaseModel]] = {}
_VALUE_ERROR = "Value error, "
_IDENTIFIER = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def env_prefix_for(service: str) -> str:
    """The environment prefix of a service: `targets-service` reads `TARGETS_SERVICE_*`."""
    prefix = re.sub(r"[^A-Z0-9]+", "_", service.upper()).strip("_")
    if not prefix:
        raise ValueError(
            f"service name {service!r} has no letters or digits for an environment prefix"
        )
    return f"{prefix}_"


@dataclass(frozen=True)
class SettingsProblem:
    """One invalid setting: the variable that sets it, and what is wrong."""

    variable: str
    message: str

    def __str__(self) -> str:
        return (
            self.message
            if self.message.startswith(self.variable)
            else (f"{self.variable}: {self.message}")
        )


class SettingsError(ValueError):
    """Settings that do not validate, each problem named by its environment variable.

    Attributes:
        service: what was being configured (`targets-service`).
        problems: one `SettingsProblem` per invalid value.
    """

    def __init__(self, service: str, problems: Sequence[SettingsProblem]) -> None:
        self.service = service
        self.problems = list(problems)
        count = len(self.problems)
        noun = "setting is" if count == 1 else "settings are"
        lines = "".join(f"\n  {problem}" for problem in self.problems)
        super().__init__(f"cannot configure {service}: {count} {noun} invalid{lines}")


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The models an annotation admits (`X`, `X | None`), not those inside a container."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if get_origin(annotation) in (Union, types.UnionType):
        return [m for arg in get_args(annotation) for m in _models_in(arg)]
    return []


def _is_mapping(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        return any(_is_mapping(arg) for arg in get_args(annotation))
    return isinstance(origin, type) and issubclass(origin, Mapping)


def _env_name(field: str, info: Any) -> str:
    alias = info.validation_alias if isinstance(info.validation_alias, str) else info.alias
    return (alias or field).upper()


def _translate(message: str, model: type[BaseModel] | None, variable: str) -> str:
    """`message` with the field names of `model` it mentions as their variables."""
    message = message.removeprefix(_VALUE_ERROR)
    if model is None:
        return message
    fields = {name: _env_name(name, info) for name, info in model.model_fields.items()}

    def variable_of(match: re.Match[str]) -> str:
        name = match.group(0)
        return f"{variable}{fields[name]}" if name in fields else name

    return _IDENTIFIER.sub(variable_of, message)


def settings_problems(
    exc: PydanticValidationError, model: type[BaseModel], prefix: str
) -> list[SettingsProblem]:
    """The problems of a failed validation of `model` read under `prefix`, each named by its
    variable (see the module docstring)."""
    problems: list[SettingsProblem] = []
    for error in exc.errors(include_url=False, include_input=False):
        problems.extend(_problems_of(error, model, prefix))
    return problems


def _problems_of(error: Any, model: type[BaseModel], prefix: str) -> Iterator[SettingsProblem]:
    variable, item = prefix, ""
    located: type[BaseModel] | None = model
    for depth, part in enumerate(error.get("loc") or ()):
        if isinstance(part, int):
            item = f" (item {part + 1})"
            break
        joint = "" if depth == 0 else NESTED_DELIMITER
        info = located.model_fields.get(str(part)) if located is not None else None
        if info is None:  # a key of a mapping
            variable, located = f"{variable}{joint}{str(part).upper()}", None
        else:
            variable = f"{variable}{joint}{_env_name(str(part), info)}"
            models = _models_in(info.annotation)
            located = models[0] if models else None
    group = f"{variable}{NESTED_DELIMITER}" if variable != prefix else prefix
    if error["type"] == "missing" and located is not None and not item:
        try:  # a whole group is missing: say what in it is
            located.model_validate({})
        except PydanticValidationError as inner:
            yield from settings_problems(inner, located, group)
            return
    if error["type"] == "missing":
        yield SettingsProblem(variable, f"{variable}{item} is required")
    elif located is not None and not item:  # a check of the whole group failed
        yield SettingsProblem(f"{group}*", _translate(str(error["msg"]), located, group))
    else:
        yield SettingsProblem(f"{variable}{item}", _translate(str(error["msg"]), None, variable))


def setting_variables(model: type[BaseModel], prefix: str) -> tuple[set[str], set[str]]:
    """The variables that set `model` under `prefix`, and the prefixes under which any name
    does (the keys of a mapping field), all upper case."""
    names: set[str] = set()
    open_prefixes: set[str] = set()
    for field, info in model.model_fields.items():
        name = f"{prefix}{_env_name(field, info)}".upper()
        names.add(name)
        if _is_mapping(info.annotation):
            open_prefixes.add(f"{name}{NESTED_DELIMITER}")
        for nested in _models_in(info.annotation):
            inner, inner_open = setting_variables(nested, f"{name}{NESTED_DELIMITER}")
            names |= inner
            open_prefixes |= inner_open
    return names, open_prefixes


def read_under_service_prefix(group: str, model: type[BaseModel]) -> None:
    """Declare that the runtime reads `model` from `<SERVICE>_<GROUP>__*` by itself (as
    `install_auth` reads `AuthSettings`), so those variables are a service's settings even
    when its settings class has no such field."""
    _SERVICE_GROUPS[group.upper()] = model


def unknown_variables(
    model: type[BaseModel], prefix: str, environ: Mapping[str, str] | None = None
) -> list[tuple[str, str | None]]:
    """The variables under `prefix` that set nothing of `model` (nor of the groups the
    runtime reads under a service's prefix by itself), each with the closest valid name (or
    None), sorted."""
    environ = os.environ if environ is None else environ
    prefix = prefix.upper()
    names, open_prefixes = setting_variables(model, prefix)
    for group, group_model in _SERVICE_GROUPS.items():
        inner, inner_open = setting_variables(group_model, f"{prefix}{group}{NESTED_DELIMITER}")
        names |= inner
        open_prefixes |= inner_open
    # Compared without the prefix, which every candidate shares.
    candidates = sorted(name.removeprefix(prefix) for name in names)
    found = []
    for key in sorted(environ):
        name = key.upper()
        if not name.startswith(prefix) or name in names:
            continue
        if any(name.startswith(open_prefix) for open_prefix in open_prefixes):
            continue
        close = difflib.get_close_matches(name.removeprefix(prefix), candidates, n=1, cutoff=0.6)
        found.append((key, f"{prefix}{close[0]}" if close else None))
    return found


class LoggingSettings(BaseModel):
    """Log level and format; the format defaults to JSON in production, console in development."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    format: Literal["json", "console"] | None = None
    access: bool = Field(
        True,
        description="One `request` line per request; false where something in front of the "
        "service (a gateway) logs every request already (slow requests are still logged, at "
        "WARNING).",
    )


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


class StartupSettings(BaseModel):
    """What startup waits for. By default nothing: a service starts whatever state its
    dependencies are in and reports them in readiness; operators who prefer a crash loop to a
    service that is up but not ready set `require_dependencies`."""

    require_dependencies: bool = Field(
        False,
        description="Exit at startup, with one sentence naming each dependency, unless every "
        "critical readiness check passes within `timeout`.",
    )
    timeout: float = Field(
        30.0, gt=0, description="Seconds startup waits for the dependencies when required."
    )


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
    startup: StartupSettings = Field(default_factory=StartupSettings)
    docs_enabled: bool = True
    legacy_error_member: bool = Field(
        False,
        description=(
            "Transitional, while callers are not migrated: add the old `error` member (code, "
            "message, status_code) to every problem+json body; the OpenAPI document says so "
            "and `validate` warns until it is off again."
        ),
    )
    _env_prefix: str | None = PrivateAttr(None)

    @classmethod
    def for_service(cls, service: str, **values: Any) -> Self:
        """Settings read from the environment under the service's prefix (`env_prefix_for`).

        Raises:
            SettingsError: a value is missing or invalid; each problem names its variable.
        """
        prefix = env_prefix_for(service)
        try:
            settings = cls(_env_prefix=prefix, **values)
        except PydanticValidationError as exc:
            # The variables say it all; pydantic's traceback of the cause would bury them.
            raise SettingsError(service, settings_problems(exc, cls, prefix)) from None
        settings._env_prefix = prefix
        return settings

    @property
    def env_prefix(self) -> str | None:
        """The prefix these settings were read under (None: not read from the environment)."""
        return self._env_prefix

    def unknown_variables(self) -> list[tuple[str, str | None]]:
        """Variables under this service's prefix that set nothing, with the closest valid
        name each (see `unknown_variables`); none when not read from the environment."""
        if self._env_prefix is None:
            return []
        return unknown_variables(type(self), self._env_prefix)

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
