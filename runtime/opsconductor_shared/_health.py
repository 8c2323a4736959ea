"""Health: liveness and readiness in the shared `HealthResponse`, with dependency checks.

`/health/live` touches no dependency: it says the process answers. `/health/ready` and
`/health` run every registered check concurrently, each under its own timeout, and report
each one's status and duration; the service is unhealthy (503) when a critical check fails,
degraded (200) when only optional ones do. A check is an async function returning None or
True (healthy), False (unhealthy), a `HealthStatus`, or raising; a raised
`HealthCheckError`'s message is shown, any other exception only by its type, so nothing
internal (a DSN, a host) reaches the report. A check may come with a `details` function,
read as the check starts (so a pool's counts are the state the check met, not counting the
check's own connection): the counts it returns (a pool's size, connections in use, requests
waiting, errors) are the check's `details` in the report, whatever the check finds.

`DependencyState` is what the runtime knows of one dependency that may come and go
(PostgreSQL, Redis, the auth service's keys): whether it was reachable when last tried, since
when it is not, and its last error in words safe for a public report (`describe_error`: no
address, no URL, no password). It logs an outage as state changes, never per failure: one
`dependency_down` line, then at most one `dependency_still_down` line every
`still_down_every` seconds, and one `dependency_up` line, at WARNING (ERROR for the outage
lines of a dependency whose absence fails requests) and without a traceback (an outage is expected; the code that meets an unexpected error logs its
traceback itself). Readiness checks report it through `raise_if_down`.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from opsconductor_contracts import DependencyCheck, HealthResponse, HealthStatus
from pydantic import ValidationError

from ._logging import get_logger

__all__ = [
    "CheckFunction",
    "DEFAULT_CHECK_TIMEOUT",
    "DEFAULT_STILL_DOWN_INTERVAL",
    "DependencyState",
    "DetailsFunction",
    "HealthCheckError",
    "HealthRegistry",
    "add_health_routes",
    "describe_error",
    "health_router",
]

DEFAULT_CHECK_TIMEOUT = 2.0
DEFAULT_STILL_DOWN_INTERVAL = 60.0
_MAX_ERROR_CHARS = 200
# What a driver's message may carry that a public report must not: where the server is, how
# to log in to it.
_SCRUBBED = (
    (re.compile(r"connection to server (?:at|on) .*? failed: ", re.S), ""),
    (re.compile(r"^connection failed: "), ""),
    (re.compile(r"[a-z][a-z0-9+.-]*://\S+", re.I), "<url>"),
    (re.compile(r"\b(password|passwd|pwd|user|host|hostaddr)\s*=\s*\S+", re.I), r"\1=<hidden>"),
    (re.compile(r"\[[0-9a-f:.]+\](?::\d+)?", re.I), "<address>"),
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b"), "<address>"),
    (re.compile(r"\b(?:localhost|[a-z0-9-]+(?:\.[a-z0-9-]+)+):\d{1,5}\b", re.I), "<address>"),
    (re.compile(r"\s+"), " "),
)

CheckFunction = Callable[[], Awaitable[HealthStatus | bool | None]]
DetailsFunction = Callable[[], Mapping[str, int] | None]
_log = get_logger("opsconductor.health")


class HealthCheckError(Exception):
    """Raised by a check to fail with a message that is safe to show in the report."""


def describe_error(error: BaseException | str) -> str:
    """An error in words safe for a public report: its type and message, without addresses,
    URLs or credentials, on one line, at most 200 characters."""
    text = str(error).split("\n", 1)[0]
    for pattern, replacement in _SCRUBBED:
        text = pattern.sub(replacement, text)
    text = text.strip() or "no message"
    if isinstance(error, BaseException):
        text = f"{type(error).__name__}: {text}"
    return text if len(text) <= _MAX_ERROR_CHARS else text[: _MAX_ERROR_CHARS - 3] + "..."


class DependencyState:
    """Whether a dependency was reachable when last tried, and its outages' log lines (see
    the module docstring).

    Args:
        name: the dependency in reports and log lines (`database`, `redis`, `auth-keys`).
        effect: what its absence does to requests, said in the `dependency_down` line.
        level: of the `dependency_down` and `dependency_still_down` lines.
        still_down_every: seconds between `dependency_still_down` lines of one outage.
        clock: a monotonic clock in seconds (tests pass a fake one).
    """

    def __init__(
        self,
        name: str,
        *,
        effect: str | None = None,
        level: Literal["warning", "error"] = "warning",
        still_down_every: float = DEFAULT_STILL_DOWN_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if still_down_every <= 0:
            raise ValueError("still_down_every must be positive")
        self.name = name
        self.effect = effect
        self.level = level
        self.still_down_every = still_down_every
        self._clock = clock
        self.up: bool | None = None
        self.last_error: str | None = None
        self.down_since: float | None = None
        self.failures = 0
        self._logged_at = 0.0
        self.known = asyncio.Event()
        """Set once an attempt has succeeded or failed."""

    def __repr__(self) -> str:
        state = "unknown" if self.up is None else "up" if self.up else "down"
        return f"DependencyState({self.name!r}, {state})"

    @property
    def down(self) -> bool:
        return self.up is False

    def failed(self, error: BaseException | str) -> None:
        """Record a failed attempt; logs the outage's first line, or a reminder when due."""
        now = self._clock()
        self.last_error = describe_error(error)
        self.failures += 1
        self.known.set()
        if not self.down:
            self.up, self.down_since, self._logged_at, self.failures = False, now, now, 1
            _log.log(
                logging.ERROR if self.level == "error" else logging.WARNING,
                "dependency_down",
                dependency=self.name,
                error=self.last_error,
                effect=self.effect,
            )
        elif now - self._logged_at >= self.still_down_every:
            self._logged_at = now
            _log.log(
                logging.ERROR if self.level == "error" else logging.WARNING,
                "dependency_still_down",
                dependency=self.name,
                error=self.last_error,
                down_for_s=round(now - (self.down_since or now), 1),
                failures=self.failures,
            )

    def succeeded(self) -> None:
        """Record a successful attempt; logs the outage's end when there was one."""
        if self.up:
            return
        self.known.set()
        if self.down:
            now = self._clock()
            _log.warning(
                "dependency_up",
                dependency=self.name,
                down_for_s=round(now - (self.down_since or now), 1),
                failures=self.failures,
            )
        self.up, self.down_since, self.failures = True, None, 0

    def raise_if_down(self) -> None:
        """For a readiness check: fail with the last error while the dependency is down.

        Raises:
            HealthCheckError: the last attempt failed; the message says how and since when.
        """
        if self.down:
            since = self._clock() - (self.down_since or self._clock())
            raise HealthCheckError(f"{self.name} unreachable for {since:.0f} s: {self.last_error}")


@dataclass(frozen=True)
class _Check:
    name: str
    function: CheckFunction
    timeout: float
    critical: bool
    details: DetailsFunction | None


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
        details: DetailsFunction | None = None,
    ) -> None:
        """Add a readiness check.

        Args:
            name: the dependency's name in the report (`database`, `redis`, `auth-service`).
            check: the async check (see the module docstring).
            timeout: seconds before the check counts as failed.
            critical: whether its failure makes the service unhealthy (else degraded).
            details: returns the dependency's counts (name -> non-negative integer, safe to
                show), read as the check starts; its failure leaves the report without them.

        Raises:
            ValueError: a check of this name exists, or the timeout is not positive.
        """
        if name in self._checks:
            raise ValueError(f"a health check named {name!r} is already registered")
        timeout = self.default_timeout if timeout is None else timeout
        if timeout <= 0:
            raise ValueError("a health check timeout must be positive")
        self._checks[name] = _Check(name, check, timeout, critical, details)

    @property
    def names(self) -> list[str]:
        return list(self._checks)

    async def _run(self, check: _Check) -> DependencyCheck:
        start = time.perf_counter()
        details = _details(check)
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
        result: dict[str, Any] = {
            "name": check.name,
            "status": status,
            "duration_ms": round(duration_ms, 3),
            "critical": check.critical,
            "message": message,
        }
        if details is not None:
            try:
                return DependencyCheck(**result, details=details)
            except ValidationError as exc:  # wrong counts cost the report its details only
                _log.warning("health_details_invalid", check=check.name, errors=exc.error_count())
        return DependencyCheck(**result)

    async def run(self) -> list[DependencyCheck]:
        """Run every check concurrently; one result per check, in registration order."""
        return list(await asyncio.gather(*(self._run(check) for check in self._checks.values())))

    async def wait_ready(self, within: float, *, interval: float = 0.25) -> list[DependencyCheck]:
        """Run the checks until no critical one fails, at most `within` seconds; the
        critical checks that still fail (none: ready)."""
        deadline = time.monotonic() + within
        while True:
            failing = [
                check
                for check in await self.run()
                if check.critical and check.status is HealthStatus.unhealthy
            ]
            remaining = deadline - time.monotonic()
            if not failing or remaining <= 0:
                return failing
            await asyncio.sleep(min(interval, remaining))

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


def _details(check: _Check) -> dict[str, int] | None:
    if check.details is None:
        return None
    try:
        counts = check.details()
        return None if counts is None else dict(counts)
    except Exception as exc:  # the counts are extra: the check's outcome stands without them
        _log.warning("health_details_failed", check=check.name, exc_info=exc)
        return None


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
