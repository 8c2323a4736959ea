"""`DatabaseSettings`: safe defaults, actionable errors, the environment, a hidden DSN."""

from __future__ import annotations

import pytest
from opsconductor_shared import ServiceSettings
from opsconductor_shared.database import DatabaseSettings
from opsconductor_shared.database._settings import DEFAULT_ACQUIRE_TIMEOUT, DEFAULT_MAX_SIZE
from pydantic import ValidationError


def test_defaults_are_bounded() -> None:
    settings = DatabaseSettings(dsn="postgresql://db/app")
    assert settings.max_size == DEFAULT_MAX_SIZE
    assert settings.acquire_timeout == DEFAULT_ACQUIRE_TIMEOUT
    assert settings.max_waiting > 0  # psycopg_pool's 0 would mean an unbounded queue
    assert settings.statement_timeout is not None
    assert settings.check == "fast"


def test_min_size_above_max_size_says_what_to_do() -> None:
    with pytest.raises(ValidationError, match="lower min_size or raise max_size"):
        DatabaseSettings(dsn="postgresql://db/app", min_size=5, max_size=2)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("acquire_timeout", 0),
        ("max_waiting", 0),
        ("connect_timeout", 1),
        ("statement_timeout", -1),
        ("transaction_attempts", 0),
    ],
)
def test_unsafe_values_are_rejected(field: str, value: float) -> None:
    with pytest.raises(ValidationError):
        DatabaseSettings(dsn="postgresql://db/app", **{field: value})


def test_empty_dsn_is_rejected() -> None:
    with pytest.raises(ValidationError, match="dsn is empty"):
        DatabaseSettings(dsn=" ")


def test_read_from_the_service_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    class Settings(ServiceSettings):
        database: DatabaseSettings

    monkeypatch.setenv("TARGETS_DATABASE__DSN", "postgresql://u:hunter2@db/targets")
    monkeypatch.setenv("TARGETS_DATABASE__MAX_SIZE", "20")
    monkeypatch.setenv("TARGETS_DATABASE__STATEMENT_TIMEOUT", "0")
    settings = Settings.for_service("targets")
    assert settings.database.max_size == 20
    assert settings.database.statement_timeout == 0  # no limit, as in PostgreSQL
    assert settings.database.dsn.get_secret_value().endswith("@db/targets")
    assert "hunter2" not in repr(settings)
