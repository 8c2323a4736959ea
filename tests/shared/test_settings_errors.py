"""Settings mistakes in the environment's terms: every validation error names its variable
(nested groups, list items, a group's own checks), one clear error without pydantic's
traceback, and variables under the service's prefix that set nothing are warned about once at
startup with the closest valid name."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from opsconductor_shared import (
    AuthSettings,
    ServiceSettings,
    SettingsError,
    create_service_app,
)
from opsconductor_shared._settings import unknown_variables
from opsconductor_shared.database import DatabaseSettings
from opsconductor_shared.ratelimit import RateLimitSettings
from pydantic import BaseModel, Field, SecretStr
from structlog.testing import capture_logs


class Storage(BaseModel):
    dsn: SecretStr
    pool_size: int = Field(4, ge=1)


class JobsSettings(ServiceSettings):
    auth: AuthSettings
    storage: Storage | None = None
    rate_limit: RateLimitSettings = Field(default_factory=RateLimitSettings)
    max_jobs: int = Field(10, ge=1)
    queue_weights: dict[str, int] = Field(default_factory=dict)


def problems(monkeypatch: pytest.MonkeyPatch, **env: str) -> list[str]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        JobsSettings.for_service("jobs-service")
    error = caught.value
    assert error.service == "jobs-service"
    assert error.__cause__ is None  # no pydantic wall under it
    assert error.__suppress_context__
    assert str(error).startswith(f"cannot configure jobs-service: {len(error.problems)} setting")
    return [str(problem) for problem in error.problems]


def test_a_missing_nested_group_names_what_it_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    assert problems(monkeypatch) == [
        "JOBS_SERVICE_AUTH__*: local mode needs exactly one of JOBS_SERVICE_AUTH__JWKS_URL "
        "and JOBS_SERVICE_AUTH__HS256_SECRET"
    ]


def test_a_missing_nested_field_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    found = problems(
        monkeypatch,
        JOBS_SERVICE_AUTH__JWKS_URL="http://auth/.well-known/jwks.json",
        JOBS_SERVICE_STORAGE__POOL_SIZE="2",
    )
    assert found == ["JOBS_SERVICE_STORAGE__DSN is required"]


def test_every_kind_of_bad_value_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    found = problems(
        monkeypatch,
        JOBS_SERVICE_AUTH__MODE="remote",
        JOBS_SERVICE_LOG__LEVEL="LOUD",
        JOBS_SERVICE_TRUSTED_PROXIES='["10.0.0.0/8", "not-a-network"]',
        JOBS_SERVICE_MAX_JOBS="0",
        JOBS_SERVICE_QUEUE_WEIGHTS__BULK="heavy",
        JOBS_SERVICE_RATE_LIMIT__ROUTES='[{"path": "/jobs", "limit": "lots"}]',
    )
    assert found[0] == (
        "JOBS_SERVICE_LOG__LEVEL: Input should be 'DEBUG', 'INFO', 'WARNING', 'ERROR' or 'CRITICAL'"
    )
    assert found[1].startswith("JOBS_SERVICE_TRUSTED_PROXIES (item 2): ")
    assert found[2] == (
        "JOBS_SERVICE_AUTH__*: remote mode needs JOBS_SERVICE_AUTH__VERIFY_URL, the auth "
        "service's verify endpoint"
    )
    rest = "\n".join(found[3:])
    assert "JOBS_SERVICE_RATE_LIMIT__ROUTES (item 1): " in rest
    assert "JOBS_SERVICE_MAX_JOBS: Input should be greater than or equal to 1" in rest
    assert "JOBS_SERVICE_QUEUE_WEIGHTS__BULK: Input should be a valid integer" in rest
    assert len(found) == 6


def test_no_value_is_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    found = problems(monkeypatch, JOBS_SERVICE_AUTH__HS256_SECRET="short-s3cret-value")
    assert "short-s3cret-value" not in "\n".join(found)
    assert any("JOBS_SERVICE_AUTH__HS256_SECRET" in line for line in found)


def test_the_error_at_startup_is_one_sentence_not_a_traceback_wall() -> None:
    code = textwrap.dedent(
        """
        from opsconductor_shared import create_service_app
        create_service_app("jobs-service", "1.0.0")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={"JOBS_SERVICE_LOG__LEVEL": "LOUD", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 1
    assert "SettingsError: cannot configure jobs-service: 1 setting is invalid" in result.stderr
    assert "JOBS_SERVICE_LOG__LEVEL: Input should be" in result.stderr
    assert "pydantic_core" not in result.stderr
    assert "During handling of the above exception" not in result.stderr


def test_unknown_variables_under_the_prefix_and_their_closest_names() -> None:
    environ = {
        "JOBS_SERVICE_LOG_LEVEL": "DEBUG",  # one underscore short
        "JOBS_SERVICE_AUTH__JWKSURL": "x",
        "JOBS_SERVICE_MAX_JOB": "3",
        "JOBS_SERVICE_TOTALLY_UNRELATED_THING": "1",
        "JOBS_SERVICE_LOG__LEVEL": "DEBUG",  # valid
        "JOBS_SERVICE_RATE_LIMIT__REDIS__URL": "redis://r",  # valid, two levels down
        "JOBS_SERVICE_QUEUE_WEIGHTS__BULK": "2",  # a key of a mapping: valid
        "JOBS_SERVICE_STORAGE": '{"dsn": "x"}',  # a whole group as JSON: valid
        "jobs_service_max_jobs": "4",  # case does not matter
        "TARGETS_SERVICE_URL": "http://targets",  # another prefix: not ours
    }
    assert unknown_variables(JobsSettings, "JOBS_SERVICE_", environ) == [
        ("JOBS_SERVICE_AUTH__JWKSURL", "JOBS_SERVICE_AUTH__JWKS_URL"),
        ("JOBS_SERVICE_LOG_LEVEL", "JOBS_SERVICE_LOG__LEVEL"),
        ("JOBS_SERVICE_MAX_JOB", "JOBS_SERVICE_MAX_JOBS"),
        ("JOBS_SERVICE_TOTALLY_UNRELATED_THING", None),
    ]


def test_the_app_warns_once_at_startup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBS_SERVICE_AUTH__JWKS_URL", "http://auth/.well-known/jwks.json")
    monkeypatch.setenv("JOBS_SERVICE_LOG_LEVEL", "DEBUG")
    settings = JobsSettings.for_service("jobs-service")
    with capture_logs() as logs:
        create_service_app("jobs-service", "1.0.0", settings, configure_logging=False)
    warnings = [log for log in logs if log["event"] == "unknown_setting"]
    assert len(warnings) == 1
    (warning,) = warnings
    assert warning["log_level"] == "warning"
    assert warning["variable"] == "JOBS_SERVICE_LOG_LEVEL"
    assert warning["closest"] == "JOBS_SERVICE_LOG__LEVEL"
    assert warning["hint"].endswith("did you mean JOBS_SERVICE_LOG__LEVEL?")
    # Settings made in code read no environment: nothing to warn about.
    with capture_logs() as logs:
        create_service_app("jobs-service", "1.0.0", ServiceSettings(), configure_logging=False)
    assert not [log for log in logs if log["event"] == "unknown_setting"]


def test_the_reference_services_settings_know_their_variables() -> None:
    from examples.auth_service.settings import AuthServiceSettings  # noqa: PLC0415
    from examples.targets_service.settings import TargetsSettings  # noqa: PLC0415

    environ = {
        "TARGETS_SERVICE_AUTH__MODE": "local",
        "TARGETS_SERVICE_DATABASE__DSN": "postgresql://db/targets",
        "TARGETS_SERVICE_RATE_LIMIT__DEFAULT_LIMIT": "10/minute",
        "TARGETS_SERVICE_CURSOR_SECRET": "x",
    }
    assert unknown_variables(TargetsSettings, "TARGETS_SERVICE_", environ) == []
    environ = {"AUTH_SERVICE_SEED_PASSWORDS": "{}", "AUTH_SERVICE_SEED_PASSWORDS__ADMIN": "x"}
    assert unknown_variables(AuthServiceSettings, "AUTH_SERVICE_", environ) == []
    assert unknown_variables(DatabaseSettings, "X_", {"X_DSN": "y"}) == []
    # install_auth reads <SERVICE>_AUTH__* by itself, whatever the settings class has.
    environ = {"PLAIN_SERVICE_AUTH__HS256_SECRET": "x", "PLAIN_SERVICE_AUTH__MOD": "local"}
    assert unknown_variables(ServiceSettings, "PLAIN_SERVICE_", environ) == [
        ("PLAIN_SERVICE_AUTH__MOD", "PLAIN_SERVICE_AUTH__MODE")
    ]
