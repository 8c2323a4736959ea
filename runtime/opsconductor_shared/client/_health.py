"""Is another service up? `ServiceClient.health_check` and `validate_service_health`.

`ServiceClient.health_check` is a readiness check, ready to register in one call:

    targets = get_service_client("targets")
    register_health_check(app, "targets", targets.health_check)            # GET /health/live
    register_health_check(app, "auth", partial(auth.health_check, "/health/ready"), critical=False)

It asks the upstream once (no retries: the readiness check has its own timeout), under the
client's base URL and through its circuit breaker. Healthy on a 2xx; degraded when the
upstream reports itself degraded; otherwise it fails with a reason that names the path and
what came back (`GET /health/live answered 404 Not Found`, `GET /health/live failed:
ConnectError`), never the upstream's host, because the reason is shown in the readiness
report. The log line of the call (`service_call`) has the rest.

`validate_service_health(url)` answers the same question as a bool, for a bare URL.
"""

from __future__ import annotations

import time

import httpx
from opsconductor_contracts import HealthResponse, HealthStatus
from pydantic import ValidationError as PydanticValidationError

from .._errors import ServiceCommunicationError, status_line
from .._health import HealthCheckError
from .._logging import log_service_call
from ._requests import HTTPMethods
from ._retry import RetryPolicy, retry_async

__all__ = [
    "DEFAULT_HEALTH_PATH",
    "DEFAULT_HEALTH_TIMEOUT",
    "check_upstream_health",
    "validate_service_health",
]

DEFAULT_HEALTH_PATH = "/health/live"
DEFAULT_HEALTH_TIMEOUT = 2.0


async def check_upstream_health(
    client: HTTPMethods, path: str = DEFAULT_HEALTH_PATH
) -> HealthStatus:
    """The health of `client`'s upstream at `path` (see the module docstring).

    Raises:
        HealthCheckError: the upstream is unreachable, answered with an error status, or
            reports itself unhealthy; the message says which.
    """
    shown = f"GET /{path.split('?', 1)[0].lstrip('/')}"
    try:
        response = await client.request(
            "GET", path, retry=RetryPolicy.disabled(), raise_for_status=False
        )
    except ServiceCommunicationError as exc:
        reason = exc.metadata.get("error") or (
            "circuit open" if exc.metadata.get("circuit") == "open" else exc.code
        )
        raise HealthCheckError(f"{shown} failed: {reason}") from exc
    if not response.is_success:
        raise HealthCheckError(f"{shown} answered {status_line(response.status_code)}")
    try:
        report = HealthResponse.model_validate_json(response.content)
    except PydanticValidationError:
        return HealthStatus.healthy  # a 2xx from a health route without the shared body says "up"
    if report.status is HealthStatus.unhealthy:
        raise HealthCheckError(f"{shown}: the {client.name} service reports itself unhealthy")
    return report.status


async def validate_service_health(
    url: str | httpx.URL,
    *,
    timeout: float = DEFAULT_HEALTH_TIMEOUT,  # noqa: ASYNC109 - the bound of the whole check
    retry: RetryPolicy | None = None,
    client: httpx.AsyncClient | None = None,
    service: str | None = None,
) -> bool:
    """Whether the service at `url` (its health route) answers 2xx and does not report itself
    unhealthy. Never raises for network failures: they make it False.

    Args:
        url: the full URL of the health route, such as `http://auth:8000/health/live`.
        timeout: seconds for the whole check (every attempt together).
        retry: retry policy for the check; default: one attempt.
        client: an httpx client to reuse; default: a short-lived one.
        service: the name in the log line; default: the URL's host.
    """
    url = httpx.URL(url)
    name = service or url.host or "upstream"
    policy = retry or RetryPolicy.disabled(deadline=timeout)
    owned = client is None
    http = client or httpx.AsyncClient(timeout=timeout)
    attempt = 0

    async def probe() -> httpx.Response:
        nonlocal attempt
        attempt += 1
        start = time.perf_counter()
        try:
            response = await http.get(url, timeout=timeout)
        except httpx.HTTPError as exc:
            log_service_call(
                name,
                "GET",
                url.path,
                status=None,
                duration_ms=(time.perf_counter() - start) * 1000,
                attempt=attempt,
                error=type(exc).__name__,
            )
            raise
        log_service_call(
            name,
            "GET",
            url.path,
            status=response.status_code,
            duration_ms=(time.perf_counter() - start) * 1000,
            attempt=attempt,
        )
        if response.status_code in policy.statuses:
            response.raise_for_status()
        return response

    try:
        response = await retry_async(probe, policy=policy)
    except (httpx.HTTPError, TimeoutError):
        return False
    finally:
        if owned:
            await http.aclose()
    if not response.is_success:
        return False
    try:
        report = HealthResponse.model_validate_json(response.content)
    except PydanticValidationError:
        return True  # a 2xx from a health route without the shared body still says "up"
    return report.status is not HealthStatus.unhealthy
