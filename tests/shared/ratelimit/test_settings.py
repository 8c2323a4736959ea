"""`RateLimitSettings`: validation with actionable messages, the environment, the rules."""

from __future__ import annotations

import pytest
from opsconductor_shared import ServiceSettings
from opsconductor_shared.ratelimit import RateLimit, RateLimitSettings, RouteLimitSettings
from opsconductor_shared.ratelimit._settings import DEFAULT_LIMIT
from pydantic import ValidationError


def test_defaults() -> None:
    settings = RateLimitSettings()
    assert settings.default_limit == DEFAULT_LIMIT
    assert (settings.storage, settings.failure_policy) == ("memory", "open")
    rules = settings.rules()
    assert rules.default == RateLimit(600, 60)
    assert rules.is_exempt("/health/ready")
    assert not rules.is_exempt("/things")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"default_limit": "lots"}, "100/minute"),
        (
            {"role_limits": {"root": "1/minute"}},
            "unknown role 'root' in rate limits; use admin, operator, viewer",
        ),
        ({"role_limits": {"admin": "1/fortnight"}}, "100/minute"),
        ({"routes": [{"path": "/x"}]}, "neither a limit nor role limits"),
        ({"routes": [{"path": "x", "limit": "1/minute"}]}, "must start with '/'"),
        ({"routes": [{"path": "/x", "roles": {"boss": "1/minute"}}]}, "unknown role 'boss'"),
        ({"failure_policy": "sometimes"}, "failure_policy"),
    ],
)
def test_invalid_settings_say_what_to_fix(values: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        RateLimitSettings.model_validate(values)


def test_route_rules_are_named_by_methods_and_path() -> None:
    rule = RouteLimitSettings(path="/things/{id}", methods=["post", "get"], limit="1/minute").rule()
    assert rule.limit == RateLimit(1, 60, "GET POST /things/{id}")
    assert rule.matches("POST", "/things/7")
    assert not rule.matches("DELETE", "/things/7")
    assert not rule.matches("GET", "/things/7/parts")
    named = RouteLimitSettings(path="/x", limit="1/minute", roles={"admin": "5/minute"}, name="x")
    assert named.rule().policy_for("admin") == RateLimit(5, 60, "x")
    assert named.rule().policy_for("viewer") == RateLimit(1, 60, "x")


def test_first_matching_route_wins() -> None:
    settings = RateLimitSettings(
        default_limit=None,
        routes=[
            RouteLimitSettings(path="/things/special", limit="1/minute"),
            RouteLimitSettings(path="/things/{id}", limit="2/minute"),
        ],
    )
    rules = settings.rules()
    assert [p.limit for p in rules.policies("GET", "/things/special", None)] == [1]
    assert [p.limit for p in rules.policies("GET", "/things/3", None)] == [2]
    assert rules.policies("GET", "/other", None) == ()


def test_read_from_the_service_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    class Settings(ServiceSettings):
        rate_limit: RateLimitSettings = RateLimitSettings()

    monkeypatch.setenv("TARGETS_RATE_LIMIT__DEFAULT_LIMIT", "300/minute")
    monkeypatch.setenv("TARGETS_RATE_LIMIT__ROLE_LIMITS", '{"admin": "3000/minute"}')
    monkeypatch.setenv(
        "TARGETS_RATE_LIMIT__ROUTES",
        '[{"path": "/targets", "methods": ["POST"], "limit": "30/minute"}]',
    )
    monkeypatch.setenv("TARGETS_RATE_LIMIT__STORAGE", "redis")
    monkeypatch.setenv("TARGETS_RATE_LIMIT__REDIS__URL", "redis://:hunter2@redis:6379/2")
    monkeypatch.setenv("TARGETS_RATE_LIMIT__FAILURE_POLICY", "closed")
    settings = Settings.for_service("targets").rate_limit
    assert settings.default_limit == "300/minute"
    assert settings.rules().roles == {"admin": RateLimit(3000, 60)}
    assert settings.routes[0].rule().limit == RateLimit(30, 60, "POST /targets")
    assert (settings.storage, settings.failure_policy) == ("redis", "closed")
    assert settings.redis.url.get_secret_value().endswith("@redis:6379/2")
    assert "hunter2" not in repr(settings)
