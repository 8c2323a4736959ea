"""ServiceClient against a real uvicorn upstream on 127.0.0.1."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from opsconductor_shared import ServiceCommunicationError, ServiceSettings, create_service_app
from opsconductor_shared.client import (
    CircuitBreaker,
    CircuitOpenError,
    CircuitState,
    RetryPolicy,
    ServiceClient,
    ServiceClientRegistry,
    ServiceClientSettings,
    get_service_client,
    install_service_clients,
    validate_service_health,
)
from opsconductor_shared.testing import closed_port_url
from pydantic import BaseModel

from .upstream import FakeUpstream

pytestmark = [pytest.mark.anyio, pytest.mark.integration]


class Item(BaseModel):
    id: int
    name: str


def client(upstream: FakeUpstream, **options: Any) -> ServiceClient:
    options.setdefault("retry", RetryPolicy(backoff_initial=0.01, deadline=5))
    return ServiceClient("inventory", upstream.url, **options)  # type: ignore[attr-defined]


async def test_typed_get_and_connection_reuse(upstream: FakeUpstream) -> None:
    limits = httpx.Limits(max_connections=5, max_keepalive_connections=5)
    # Reuse, not speed, is under test: 200 calls queue for 5 connections, which took longer
    # than the default 5 s deadline beside two CPU hogs.
    patient = RetryPolicy(backoff_initial=0.01, deadline=120)
    timeout = httpx.Timeout(60)
    async with client(upstream, limits=limits, retry=patient, timeout=timeout) as inventory:
        item = await inventory.get("/items/3", response_model=Item)
        assert item == Item(id=3, name="web-1")
        await asyncio.gather(*(inventory.get("/items/1") for _ in range(200)))
    assert upstream.calls["item"] == 201
    assert len(upstream.connections) <= 5


async def test_post_is_never_retried_without_an_idempotency_key(upstream: FakeUpstream) -> None:
    async with client(upstream) as inventory:
        with pytest.raises(ServiceCommunicationError) as caught:
            await inventory.post("/jobs", json={"run": "backup"})
        assert caught.value.status_code == 503
        assert upstream.calls["jobs"] == 1
        with pytest.raises(ServiceCommunicationError):
            await inventory.post("/jobs", json={"run": "backup"}, idempotency_key="job-77")
        assert upstream.calls["jobs"] == 1 + 3
    assert [seen.get("idempotency-key") for seen in upstream.seen] == [
        None,
        "job-77",
        "job-77",
        "job-77",
    ]


async def test_retry_after_is_respected(upstream: FakeUpstream) -> None:
    upstream.script = [(503, {"Retry-After": "1"})]
    async with client(upstream) as inventory:
        start = time.monotonic()
        item = await inventory.get("/flaky", response_model=Item)
        elapsed = time.monotonic() - start
    assert item.name == "recovered"
    assert upstream.calls["flaky"] == 2
    assert 1.0 <= elapsed < 2.0


async def test_retry_after_beyond_the_limit_is_passed_to_the_caller(upstream: FakeUpstream) -> None:
    upstream.script = [(429, {"Retry-After": "120"})]
    async with client(upstream) as inventory:
        with pytest.raises(ServiceCommunicationError) as caught:
            await inventory.get("/flaky")
    assert upstream.calls["flaky"] == 1
    assert caught.value.retry_after == 120
    assert caught.value.status_code == 503


async def test_breaker_opens_and_recovers(upstream: FakeUpstream) -> None:
    breaker = CircuitBreaker("inventory", failure_threshold=3, reset_timeout=0.3)
    upstream.fail_status = 500
    async with client(upstream, breaker=breaker) as inventory:
        for _ in range(3):
            with pytest.raises(ServiceCommunicationError):
                await inventory.get("/items/1")
        assert breaker.state is CircuitState.open
        with pytest.raises(CircuitOpenError):
            await inventory.get("/items/1")
        assert upstream.calls["item"] == 3  # failed fast, the upstream was not called
        await asyncio.sleep(0.35)
        upstream.fail_status = None
        assert (await inventory.get("/items/1", response_model=Item)).id == 1
        assert breaker.state is CircuitState.closed
        assert upstream.calls["item"] == 4


async def test_unreachable_is_503_and_hanging_is_504_in_bounded_time() -> None:
    async with ServiceClient(
        "gone", closed_port_url(), retry=RetryPolicy(attempts=2, backoff_initial=0.01)
    ) as gone:
        with pytest.raises(ServiceCommunicationError) as caught:
            await gone.get("/items/1")
    assert caught.value.status_code == 503
    assert caught.value.code == "SERVICE_UNAVAILABLE"


async def test_hanging_upstream_is_504_within_the_deadline(upstream: FakeUpstream) -> None:
    policy = RetryPolicy(attempts=3, deadline=0.6, backoff_initial=0.01)
    async with client(upstream, retry=policy, timeout=httpx.Timeout(0.25)) as inventory:
        start = time.monotonic()
        with pytest.raises(ServiceCommunicationError) as caught:
            await inventory.get("/slow")
        elapsed = time.monotonic() - start
    assert caught.value.status_code == 504
    assert elapsed < 2.0  # the 0.6 s deadline, not the upstream's 3 s (slack for load)


def gateway(upstream: FakeUpstream) -> FastAPI:
    app = create_service_app("gateway", "1.0.0", ServiceSettings(), configure_logging=False)
    registry = install_service_clients(app, ServiceClientRegistry())
    registry.get("inventory", settings=ServiceClientSettings(url=upstream.url))  # type: ignore[attr-defined]

    @app.get("/proxy")
    async def proxy() -> dict[str, Any]:
        item = await registry.get("inventory").get("/echo", response_model=Item)
        return item.model_dump()

    return app


async def test_request_id_and_traceparent_arrive_upstream(upstream: FakeUpstream) -> None:
    app = gateway(upstream)
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as caller:
            response = await caller.get(
                "/proxy",
                headers={
                    "X-Request-ID": "req-abc",
                    "traceparent": f"00-{trace_id}-00f067aa0ba902b7-01",
                },
            )
        assert response.status_code == 200
        registry = app.state.service_clients
        inventory = registry.get("inventory")
    assert inventory.is_closed  # closed with the app's lifespan
    (seen,) = upstream.seen
    assert seen["x-request-id"] == "req-abc"
    version, seen_trace, parent, flags = seen["traceparent"].split("-")
    assert (version, seen_trace, flags) == ("00", trace_id, "01")
    assert parent != "00f067aa0ba902b7"  # the gateway's own span is the parent


async def test_get_service_client_reads_the_upstream_variables(
    upstream: FakeUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INVENTORY_SERVICE_URL", upstream.url)  # type: ignore[attr-defined]
    monkeypatch.setenv("INVENTORY_SERVICE_RETRY_ATTEMPTS", "2")
    inventory = get_service_client("inventory")
    try:
        assert inventory is get_service_client("inventory")
        assert inventory.retry.attempts == 2
        assert (await inventory.get("/items/5", response_model=Item)).id == 5
    finally:
        await inventory.aclose()
    with pytest.raises(ValueError, match="AUTH_SERVICE_URL"):
        get_service_client("auth-service")


async def test_validate_service_health(upstream: FakeUpstream) -> None:
    assert await validate_service_health(f"{upstream.url}/health/live")  # type: ignore[attr-defined]
    upstream.health_body = {
        "service": "x",
        "status": "unhealthy",
        "version": "1",
        "uptime_seconds": 1,
        "timestamp": "2026-01-01T00:00:00Z",
        "checks": [],
    }
    assert not await validate_service_health(f"{upstream.url}/health/live")  # type: ignore[attr-defined]
    assert not await validate_service_health(f"{closed_port_url()}/health/live", timeout=0.5)
    assert not await validate_service_health(f"{upstream.url}/slow", timeout=0.2)  # type: ignore[attr-defined]
