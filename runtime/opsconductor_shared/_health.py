"""Health: liveness and readiness in the shared `HealthResponse`, with dependency checks.

`/health/live` touches no dependency: it says the process answers. `/health/ready` and
`/health` run every registered check concurrently, each under its own timeout, and report
each one's status and duration; the service is unhealthy (503) when a critical check fails,
degraded (200) when only optional ones do. A check is an async function returning None or
True (healthy), False (unhealthy), a `HealthStatus`, or raising; a raised
`HealthCheckError`'s message is shown, any other exception only by its type, so nothing
internal (a DSN, a host) reaches the report.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from opsconductor_contracts import DependencyCheck, HealthResponse, HealthStatus

from ._logging import get_logger

__all__ = [
    "CheckFunction",
    "DEFAULT_CHECK_TIMEOUT",
    "HealthCheckError",
    "HealthRegistry",
    "add_health_routes",
    "health_router",
]

DEFAULT_CHECK_TIMEOUT = 2.0

CheckFunction = Callable[[], Awaitable[HealthStatus | bool | None]]
_log = get_logger("opsconductor.health")


class HealthCheckError(Exception):
    """Raised by a check to fail with a message that is safe to show in the report."""


@dataclass(frozen=True)
class _Check:
    name: str
    function: CheckFunction
    timeout: float
    critical: bool


class HealthRegistry:
    """The dependency checks of one service.

    Args:
        service: the service name in reports.
        version: the service version in reports.
        default_timeout: per-check timeout when a check names none, in seconds.
    """

    def __init__(
        self, service: str, version: str, *, default_timeout: float = DEFAULT_CHECK_TIMEOUT
    ) -> None:
        if default_timeout <= 0:
            raise ValueError("default_timeout must be positive")
        self.service = service
        self.version = version
        self.default_timeout = default_timeout
        self.started = time.monotonic()
        self._checks: dict[str, _Check] = {}

    def register(
        self,
        name: str,
        check: CheckFunction,
        *,
        timeout: float | None = None,
        critical: bool = True,
    ) -> None:
        """Add a readiness check.

        Args:
            name: the dependency's name in the report (`database`, `redis`, `auth-service`).
            check: the async check (see the module docstring).
            timeout: seconds before the check counts as failed.
            critical: whether its failure makes the service unhealthy (else degraded).

        Raises:
            ValueError: a check of this name exists, or the timeout is not positive.
        """
        if name in self._checks:
            raise ValueError(f"a health check named {name!r} is already registered")
        timeout = self.default_timeout if timeout is None else timeout
        if timeout <= 0:
            raise ValueError("a health check timeout must be positive")
        self._checks[name] = _Check(name, check, timeout, critical)

    @property
    def names(self) -> list[str]:
        return list(self._checks)

    async def _run(self, check: _Check) -> DependencyCheck:
        start = time.perf_counter()
        message = None
        try:
            async with asyncio.timeout(check.timeout):
                outcome = await check.function()
            if outcome is None or outcome is True:
                status = HealthStatus.healthy
            elif outcome is False:
                status, message = HealthStatus.unhealthy, "check failed"
            else:
                status = HealthStatus(outcome)
        except TimeoutError:
            status, message = HealthStatus.unhealthy, f"timed out after {check.timeout:g} s"
        except HealthCheckError as exc:
            status, message = HealthStatus.unhealthy, str(exc)[:1024]
        except Exception as exc:  # a failing check is a finding, not an error of ours
            status, message = HealthStatus.unhealthy, f"check raised {type(exc).__name__}"
            _log.warning("health_check_failed", check=check.name, exc_info=exc)
        duration_ms = (time.perf_counter() - start) * 1000
        return DependencyCheck(
            name=check.name,
            status=status,
            duration_ms=round(duration_ms, 3),
            critical=check.critical,
            message=message,
        )

    async def run(self) -> list[DependencyCheck]:
        """Run every check concurrently; one result per check, in registration order."""
        return list(await asyncio.gather(*(self._run(check) for check in self._checks.values())))

    def report(self, checks: list[DependencyCheck]) -> HealthResponse:
        """The health report for these check results."""
        status = HealthStatus.healthy
        for check in checks:
            if check.status is HealthStatus.unhealthy and check.critical:
                status = HealthStatus.unhealthy
                break
            if check.status is not HealthStatus.healthy:
                status = HealthStatus.degraded
        return HealthResponse(
            service=self.service,
            status=status,
            version=self.version,
            uptime_seconds=round(time.monotonic() - self.started, 3),
            timestamp=datetime.now(UTC),
            checks=checks,
        )


def _respond(report: HealthResponse) -> JSONResponse:
    status = 503 if report.status is HealthStatus.unhealthy else 200
    return JSONResponse(
        report.model_dump(mode="json"), status_code=status, headers={"cache-control": "no-store"}
    )


def add_health_routes(router: APIRouter, registry: HealthRegistry) -> None:
    """Add the `/health/live`, `/health/ready` and `/health` routes for `registry` to `router`.

    `create_service_app` makes them runtime routes, answered before the service's own.
    """
    documented: dict[int | str, dict[str, Any]] = {
        200: {"model": HealthResponse, "description": "Healthy or degraded."},
        503: {"model": HealthResponse, "description": "Unhealthy: a critical dependency fails."},
    }
    common: dict[str, Any] = {
        "response_model": HealthResponse,
        "tags": ["health"],
        "openapi_extra": {"x-public": True},
        "methods": ["GET"],
    }

    async def health_live() -> JSONResponse:
        return _respond(registry.report([]))

    async def health_ready() -> JSONResponse:
        return _respond(registry.report(await registry.run()))

    router.add_api_route(
        "/health/live", health_live, operation_id="health_live", summary="Liveness", **common
    )
    router.add_api_route(
        "/health/ready",
        health_ready,
        responses=documented,
        operation_id="health_ready",
        summary="Readiness",
        **common,
    )
    router.add_api_route(
        "/health",
        health_ready,
        responses=documented,
        operation_id="health",
        summary="Health (readiness)",
        **common,
    )


def health_router(registry: HealthRegistry) -> APIRouter:
    """An `APIRouter` with the health routes for `registry` (see `add_health_routes`)."""
    router = APIRouter()
    add_health_routes(router, registry)
    return router
