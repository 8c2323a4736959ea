"""Settings: per-service prefix, nesting with __, safe defaults, clear errors."""

from __future__ import annotations

import pydantic
import pytest
from opsconductor_shared import ServiceSettings
from opsconductor_shared._settings import env_prefix_for


def test_defaults_are_production_safe(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = ServiceSettings.for_service("targets")
    assert settings.environment == "production"
    assert settings.log_json
    assert settings.hsts
    assert settings.cors_options() is None
    assert settings.trusted_proxies == []


def test_prefix_and_nesting_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TARGETS_SERVICE_ENVIRONMENT", "development")
    monkeypatch.setenv("TARGETS_SERVICE_LOG__LEVEL", "DEBUG")
    monkeypatch.setenv("TARGETS_SERVICE_CORS__ALLOW_ORIGINS", '["https://ops.example.com"]')
    monkeypatch.setenv("TARGETS_SERVICE_TRUSTED_PROXIES", '["10.0.0.0/8"]')
    monkeypatch.setenv("JOBS_ENVIRONMENT", "development")  # another service's: ignored
    settings = ServiceSettings.for_service("targets-service")
    assert settings.development
    assert not settings.log_json
    assert not settings.hsts
    assert settings.log.level == "DEBUG"
    assert settings.cors.allow_origins == ["https://ops.example.com"]
    assert [str(n) for n in settings.trusted_proxies] == ["10.0.0.0/8"]
    assert ServiceSettings.for_service("auth").environment == "production"


def test_init_arguments_win_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTH_MAX_BODY_BYTES", "10")
    assert ServiceSettings.for_service("auth", max_body_bytes=99).max_body_bytes == 99


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("AUTH_CORS__ALLOW_ORIGINS", '["*"]', None),
        ("AUTH_ENVIRONMENT", "staging", "environment"),
        ("AUTH_MAX_BODY_BYTES", "-1", "max_body_bytes"),
        ("AUTH_TRUSTED_PROXIES", '["not-a-network"]', "trusted_proxies"),
    ],
)
def test_bad_values_are_settings_errors(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str | None
) -> None:
    monkeypatch.setenv(variable, value)
    if message is None:
        monkeypatch.setenv("AUTH_CORS__ALLOW_CREDENTIALS", "true")
        message = "wildcard origin with credentials"
    with pytest.raises(pydantic.ValidationError, match=message):
        ServiceSettings.for_service("auth")


def test_env_prefix_for() -> None:
    assert env_prefix_for("step-libraries") == "STEP_LIBRARIES_"
    with pytest.raises(ValueError, match="no letters or digits"):
        env_prefix_for("--")
