"""`ServiceClient.health_check`: an upstream's health as a readiness check, in one call,
against a real upstream on loopback, with reasons that say what answered what."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from opsconductor_contracts import HealthStatus
from opsconductor_shared import (
    HealthCheckError,
    ServiceSettings,
    create_service_app,
    register_health_check,
)
from opsconductor_shared.client import CircuitBreaker, ServiceClient, ServiceClientSettings
from opsconductor_shared.testing import closed_port_url

from .upstream import FakeUpstream

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

UNHEALTHY = {
    "service": "inventory",
    "status": "unhealthy",
    "version": "1",
    "uptime_seconds": 1,
    "timestamp": "2026-01-01T00:00:00Z",
    "checks": [],
}


async def readiness(app: FastAPI) -> tuple[int, dict[str, Any]]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as caller:
        response = await caller.get("/health/ready")
    (check,) = response.json()["checks"]
    return response.status_code, check


async def test_an_upstream_health_check_in_one_call(upstream: FakeUpstream) -> None:
    # The settings' URL ends in "/" (pydantic adds it): the check must not ask for //health/live.
    settings = ServiceClientSettings(url=upstream.url)  # type: ignore[attr-defined]
    async with ServiceClient.from_settings("inventory", settings) as inventory:
        app = create_service_app("gateway", "1.0.0", ServiceSettings(), configure_logging=False)
        register_health_check(app, "inventory", inventory.health_check)

        status, check = await readiness(app)
        assert (status, check["status"], check["message"]) == (200, "healthy", None)
        assert upstream.calls["health"] == 1

        upstream.health_body = {**UNHEALTHY, "status": "degraded"}
        status, check = await readiness(app)
        assert (status, check["status"]) == (200, "degraded")

        upstream.health_body = UNHEALTHY
        status, check = await readiness(app)
        assert (status, check["status"]) == (503, "unhealthy")
        assert (
            check["message"] == "GET /health/live: the inventory service reports itself unhealthy"
        )


async def test_the_reason_names_the_path_and_the_answer_never_the_host(
    upstream: FakeUpstream,
) -> None:
    async with ServiceClient("inventory", upstream.url) as inventory:  # type: ignore[attr-defined]
        with pytest.raises(HealthCheckError) as caught:
            await inventory.health_check("/health/nope")
    assert str(caught.value) == "GET /health/nope answered 404 Not Found"

    async with ServiceClient("inventory", closed_port_url()) as gone:
        with pytest.raises(HealthCheckError) as caught:
            await gone.health_check()
    assert str(caught.value) == "GET /health/live failed: ConnectError"
    assert "127.0.0.1" not in str(caught.value)


async def test_a_prefixed_base_url_is_kept(upstream: FakeUpstream) -> None:
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, json={"status": "healthy"})

    transport = httpx.MockTransport(handler)
    async with ServiceClient("inventory", "http://gw/inventory/", transport=transport) as client:
        assert await client.health_check("health/ready") is HealthStatus.healthy
    assert [str(url) for url in seen] == ["http://gw/inventory/health/ready"]


async def test_an_open_circuit_is_the_reason() -> None:
    breaker = CircuitBreaker("inventory", failure_threshold=1, reset_timeout=60)
    breaker.record_failure()
    async with ServiceClient("inventory", closed_port_url(), breaker=breaker) as gone:
        with pytest.raises(HealthCheckError, match=r"^GET /health/live failed: circuit open$"):
            await gone.health_check()
