"""Health: liveness touches nothing; readiness runs checks concurrently, each with a timeout."""

from __future__ import annotations

import asyncio
import time

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from opsconductor_conformance import load_schema_dir
from opsconductor_contracts import HealthResponse, HealthStatus
from opsconductor_shared import HealthCheckError, register_health_check
from opsconductor_shared._health import HealthRegistry, health_router
from opsconductor_shared._routes import RuntimeRoutes
from starlette.routing import Match

from tests.conftest import SCHEMAS
from tests.shared.apps import make_app

HEALTH_SCHEMA = load_schema_dir(SCHEMAS).validator("HealthResponse")


def _client_with(timeout: float = 0.2, **checks: tuple[object, bool]) -> TestClient:
    app = make_app(health_check_timeout=timeout)
    for name, (check, critical) in checks.items():
        register_health_check(app, name, check, critical=critical)  # type: ignore[arg-type]
    return TestClient(app)


async def _ok() -> None:
    await asyncio.sleep(0.05)


async def _down() -> None:
    raise ConnectionRefusedError("postgresql://ops:hunter2@10.0.0.5/ops refused")


async def _explained() -> None:
    raise HealthCheckError("replica lag above 30 s")


async def _hangs() -> None:
    await asyncio.sleep(10)


async def _degraded() -> HealthStatus:
    return HealthStatus.degraded


def _valid(body: dict[str, object]) -> HealthResponse:
    assert [e.message for e in HEALTH_SCHEMA.iter_errors(body)] == []
    return HealthResponse.model_validate(body)


def test_liveness_runs_no_check() -> None:
    client = _client_with(db=(_down, True))
    response = client.get("/health/live")
    assert response.status_code == 200
    report = _valid(response.json())
    assert report.status is HealthStatus.healthy
    assert report.checks == []
    assert (report.service, report.version) == ("test-service", "1.2.3")


def test_all_healthy() -> None:
    response = _client_with(db=(_ok, True), cache=(_ok, False)).get("/health/ready")
    report = _valid(response.json())
    assert response.status_code == 200
    assert report.status is HealthStatus.healthy
    assert [(c.name, c.status) for c in report.checks] == [("db", "healthy"), ("cache", "healthy")]
    assert all(c.duration_ms >= 40 for c in report.checks)


def test_checks_run_concurrently() -> None:
    # Each check returns only once all four have started: run one after another, the first
    # would wait for the others until its timeout and the report would be unhealthy. No
    # stopwatch, so a loaded machine cannot fail it.
    started: list[str] = []
    all_started = asyncio.Event()

    def waits_for_all(name: str) -> object:
        async def check() -> None:
            started.append(name)
            if len(started) == 4:
                all_started.set()
            await all_started.wait()

        return check

    client = _client_with(timeout=30, **{name: (waits_for_all(name), True) for name in "abcd"})
    response = client.get("/health")
    assert response.status_code == 200, response.text
    assert sorted(started) == ["a", "b", "c", "d"]


def test_critical_failure_is_503_without_internals() -> None:
    response = _client_with(db=(_down, True), cache=(_ok, False)).get("/health")
    assert response.status_code == 503
    report = _valid(response.json())
    assert report.status is HealthStatus.unhealthy
    (db,) = [c for c in report.checks if c.name == "db"]
    assert db.message == "check raised ConnectionRefusedError"
    assert "hunter2" not in response.text
    assert "10.0.0.5" not in response.text


def test_optional_failure_is_degraded_200() -> None:
    response = _client_with(db=(_ok, True), search=(_explained, False)).get("/health/ready")
    assert response.status_code == 200
    report = _valid(response.json())
    assert report.status is HealthStatus.degraded
    assert report.checks[1].message == "replica lag above 30 s"


def test_a_check_reporting_degraded() -> None:
    report = _valid(_client_with(db=(_degraded, True)).get("/health").json())
    assert report.status is HealthStatus.degraded


def test_hanging_check_times_out() -> None:
    client = _client_with(slow=(_hangs, True))
    start = time.perf_counter()
    response = client.get("/health/ready")
    assert time.perf_counter() - start < 5  # cut at 0.2 s, not the check's 10 s
    assert response.status_code == 503
    assert response.json()["checks"][0]["message"] == "timed out after 0.2 s"


def test_registry_refuses_duplicates_and_bad_timeouts() -> None:
    registry = HealthRegistry("svc", "1")
    registry.register("db", _ok)
    with pytest.raises(ValueError, match="already registered"):
        registry.register("db", _ok)
    with pytest.raises(ValueError, match="must be positive"):
        registry.register("other", _ok, timeout=0)


def test_health_routes_are_public_and_documented() -> None:
    paths = TestClient(make_app()).get("/openapi.json").json()["paths"]
    for path in ("/health/live", "/health/ready", "/health"):
        operation = paths[path]["get"]
        assert operation["x-public"] is True
        assert operation["responses"]["200"]["content"]["application/json"]["schema"][
            "$ref"
        ].endswith("/HealthResponse")
    assert paths["/health"]["get"]["responses"]["503"]["content"]["application/json"]["schema"][
        "$ref"
    ].endswith("/HealthResponse")


def test_service_routes_keep_their_order_behind_one_runtime_route() -> None:
    # Every request walks the route list until it matches: the runtime's own routes (health,
    # docs) are one route, first, that matches by an exact path lookup, and the service's
    # routes follow in the order they were declared, also after startup.
    app = make_app()
    declared = [getattr(route, "path", None) for route in app.router.routes[1:]]
    with TestClient(app) as client:
        assert client.get("/health/live").status_code == 200
        first, *rest = app.router.routes
    assert isinstance(first, RuntimeRoutes)
    assert [getattr(route, "path", None) for route in rest] == declared
    assert {"/health/live", "/health/ready", "/health", "/openapi.json", "/docs"} <= {
        route.path  # type: ignore[attr-defined]
        for route in first.routes
    }
    assert first.matches({"type": "http", "path": "/items/1", "method": "GET"})[0] is Match.NONE


def test_health_router_serves_the_same_routes_outside_the_factory() -> None:
    app = FastAPI()
    app.include_router(health_router(HealthRegistry("plain", "1.0.0")))
    report = TestClient(app).get("/health/live").json()
    assert HealthResponse.model_validate(report).service == "plain"
