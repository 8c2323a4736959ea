"""`validate_service_health`: is another service up and ready? For readiness checks."""

from __future__ import annotations

import time

import httpx
from opsconductor_contracts import HealthResponse, HealthStatus
from pydantic import ValidationError as PydanticValidationError

from .._logging import log_service_call
from ._retry import RetryPolicy, retry_async

__all__ = [
    "DEFAULT_HEALTH_TIMEOUT",
    "validate_service_health",
]

DEFAULT_HEALTH_TIMEOUT = 2.0


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
