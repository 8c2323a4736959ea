"""Health details: a check's counts in the readiness report, read as the check starts, kept
whatever the check finds, and dropped (the check's outcome standing) when they fail or break
the contract."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pytest
from fastapi.testclient import TestClient
from opsconductor_conformance import load_schema_dir
from opsconductor_contracts import HealthStatus
from opsconductor_shared import HealthCheckError, register_health_check
from opsconductor_shared._health import HealthRegistry
from opsconductor_shared.testing import capture_json_logs

from tests.conftest import SCHEMAS
from tests.shared.apps import make_app

HEALTH_SCHEMA = load_schema_dir(SCHEMAS).validator("HealthResponse")


def _ready(
    check: Callable[[], object], details: Callable[[], Mapping[str, int] | None]
) -> tuple[int, dict[str, object]]:
    app = make_app()
    register_health_check(app, "pool", check, details=details)  # type: ignore[arg-type]
    with TestClient(app) as client:
        response = client.get("/health/ready")
    body = response.json()
    assert [e.message for e in HEALTH_SCHEMA.iter_errors(body)] == []
    (result,) = body["checks"]
    assert isinstance(result, dict)
    return response.status_code, result


async def _ok() -> None:
    return None


async def _down() -> None:
    raise HealthCheckError("pool exhausted")


def test_the_counts_are_the_checks_details() -> None:
    status, check = _ready(_ok, lambda: {"size": 4, "in_use": 1, "waiting": 0})
    assert status == 200
    assert check["details"] == {"size": 4, "in_use": 1, "waiting": 0}


def test_a_failing_check_keeps_its_details() -> None:
    status, check = _ready(_down, lambda: {"in_use": 4, "waiting": 7})
    assert status == 503
    assert (check["status"], check["message"]) == ("unhealthy", "pool exhausted")
    assert check["details"] == {"in_use": 4, "waiting": 7}


def test_without_details_the_field_is_null() -> None:
    assert _ready(_ok, lambda: None)[1]["details"] is None
    app = make_app()
    register_health_check(app, "plain", _ok)
    with TestClient(app) as client:
        assert client.get("/health/ready").json()["checks"][0]["details"] is None


@pytest.mark.anyio
async def test_details_are_read_as_the_check_starts() -> None:
    seen: list[str] = []

    async def check() -> None:
        seen.append("check")

    def details() -> dict[str, int]:
        seen.append("details")
        return {"calls": len(seen)}

    registry = HealthRegistry("svc", "1.0.0")
    registry.register("pool", check, details=details)
    (result,) = await registry.run()
    assert seen == ["details", "check"]
    assert result.details == {"calls": 1}


def _raises() -> dict[str, int]:
    raise RuntimeError("stats unavailable")


@pytest.mark.parametrize(
    ("details", "event"),
    [
        (_raises, "health_details_failed"),
        (lambda: {"ratio": 0.5}, "health_details_invalid"),
        (lambda: {"state": "busy"}, "health_details_invalid"),
        (lambda: 3, "health_details_failed"),
    ],
    ids=["raises", "not-an-integer", "text", "not-a-mapping"],
)
def test_broken_details_leave_the_outcome_alone(
    details: Callable[[], Mapping[str, int]], event: str
) -> None:
    with capture_json_logs() as logs:
        status, check = _ready(_ok, details)
    assert status == 200
    assert (check["status"], check["details"]) == (HealthStatus.healthy.value, None)
    assert [line["check"] for line in logs.events(event)] == ["pool"]
