"""`handle_service_communication_error`: httpx failures as `ServiceCommunicationError`.

| lower-layer error                                  | status | code                |
| -------------------------------------------------- | ------ | ------------------- |
| ConnectError, ConnectTimeout, PoolTimeout          | 503    | SERVICE_UNAVAILABLE |
| ReadTimeout, WriteTimeout, other TimeoutException  | 504    | UPSTREAM_TIMEOUT    |
| protocol, decoding, redirect and other errors      | 502    | UPSTREAM_ERROR      |
| HTTPStatusError 429 or 503                         | 503    | SERVICE_UNAVAILABLE, Retry-After passed through |
| HTTPStatusError 504                                | 504    | UPSTREAM_TIMEOUT    |
| HTTPStatusError other 4xx and 5xx                  | 502    | UPSTREAM_ERROR      |

An upstream `ErrorResponse` body is parsed and kept on the error (`upstream_error`, with its
code and request id) for the log and for callers; the detail sent to our own client stays
generic. Use it raise-style, `raise handle_service_communication_error(exc) from exc`, or
return-style, `return handle_service_communication_error(exc).to_response()`.
"""

from __future__ import annotations

import email.utils
import math
import time

import httpx
from opsconductor_contracts import ErrorResponse
from pydantic import ValidationError as PydanticValidationError

from ._errors import ServiceCommunicationError

__all__ = [
    "DEFAULT_MAX_RETRY_AFTER",
    "handle_service_communication_error",
    "parse_retry_after",
    "upstream_error_body",
]

DEFAULT_MAX_RETRY_AFTER = 300.0

_UNAVAILABLE = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_TIMEOUTS = (httpx.TimeoutException,)


def parse_retry_after(
    value: str | None, *, maximum: float = DEFAULT_MAX_RETRY_AFTER
) -> float | None:
    """Seconds from a `Retry-After` header (delta-seconds or HTTP-date), capped at `maximum`;
    None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), maximum)


def upstream_error_body(response: httpx.Response) -> ErrorResponse | None:
    """The upstream's `ErrorResponse`, if its body is one; None for anything else."""
    try:
        return ErrorResponse.model_validate_json(response.content)
    except (PydanticValidationError, ValueError, httpx.ResponseNotRead):
        return None


def _service_name(exc: httpx.HTTPError, service: str | None) -> str:
    if service:
        return service
    try:
        return exc.request.url.host or "upstream"
    except RuntimeError:
        return "upstream"


def handle_service_communication_error(
    exc: httpx.HTTPError,
    *,
    service: str | None = None,
    max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
) -> ServiceCommunicationError:
    """The `ServiceCommunicationError` for an httpx failure (see the module docstring).

    Args:
        exc: what httpx raised (an `HTTPStatusError` for an error status).
        service: the upstream's name for the message and the log; defaults to its host.
        max_retry_after: cap on a passed-through `Retry-After`, in seconds.
    """
    name = _service_name(exc, service)
    if isinstance(exc, httpx.HTTPStatusError):
        response = exc.response
        status, code, detail, retry_after = (
            502,
            "UPSTREAM_ERROR",
            f"The {name} service failed.",
            None,
        )
        if response.status_code in (429, 503):
            status, code, detail = (
                503,
                "SERVICE_UNAVAILABLE",
                f"The {name} service is unavailable. Retry later.",
            )
            retry_after = parse_retry_after(
                response.headers.get("Retry-After"), maximum=max_retry_after
            )
        elif response.status_code == 504:
            status, code, detail = 504, "UPSTREAM_TIMEOUT", f"The {name} service timed out."
        return ServiceCommunicationError(
            detail,
            status=status,
            code=code,
            service=name,
            upstream_status=response.status_code,
            upstream_error=upstream_error_body(response),
            retry_after=retry_after,
        )
    if isinstance(exc, _UNAVAILABLE):
        return ServiceCommunicationError(
            f"The {name} service is unreachable.",
            status=503,
            code="SERVICE_UNAVAILABLE",
            service=name,
            metadata={"error": type(exc).__name__},
        )
    if isinstance(exc, _TIMEOUTS):
        return ServiceCommunicationError(
            f"The {name} service did not answer in time.",
            status=504,
            code="UPSTREAM_TIMEOUT",
            service=name,
            metadata={"error": type(exc).__name__},
        )
    return ServiceCommunicationError(
        f"The {name} service sent an invalid response.",
        status=502,
        code="UPSTREAM_ERROR",
        service=name,
        metadata={"error": type(exc).__name__},
    )
