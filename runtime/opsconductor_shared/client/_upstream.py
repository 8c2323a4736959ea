"""httpx failures as `ServiceCommunicationError`: one table, every httpx exception in it.

`HTTPX_ERRORS` says what each exception class httpx defines means for our own caller, the
way httpx maps httpcore's exceptions onto its own: the upstream was unreachable (503
SERVICE_UNAVAILABLE), too slow (504 UPSTREAM_TIMEOUT), or failed (502 UPSTREAM_ERROR). An
answer with an error status (`HTTPStatusError`) is a 502 too, except that a 429 or 503 is
SERVICE_UNAVAILABLE with the upstream's `Retry-After` passed through (capped), and a 504 is
UPSTREAM_TIMEOUT. The most specific class of an exception decides (its MRO is walked), and a
test checks that every class httpx exports is in the table, so a new one needs a decision.

An upstream `ErrorResponse` body (or an unmigrated service's old error body, read as one:
see `_legacy`) is parsed and kept on the error (`upstream_error`, with its code and request id) for the log and for callers, with the call's method and URL (no
credentials, no secret query values); the detail sent to our own client stays generic and
never names the upstream's host.
"""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Mapping
from typing import TypedDict

import httpx
import orjson
from opsconductor_contracts import ErrorCode, ErrorResponse
from pydantic import ValidationError as PydanticValidationError

from .._errors import ServiceCommunicationError
from ._legacy import legacy_error_body
from ._urls import public_url

__all__ = [
    "DEFAULT_MAX_RETRY_AFTER",
    "HTTPXError",
    "HTTPX_ERRORS",
    "HTTPX_EXCEPTIONS",
    "UpstreamCall",
    "call_of",
    "handle_service_communication_error",
    "parse_retry_after",
    "upstream_error_body",
]

DEFAULT_MAX_RETRY_AFTER = 300.0

HTTPXError = httpx.HTTPError | httpx.InvalidURL | httpx.CookieConflict | httpx.StreamError
"""Every exception httpx raises of its own."""
HTTPX_EXCEPTIONS = (httpx.HTTPError, httpx.InvalidURL, httpx.CookieConflict, httpx.StreamError)
"""The same, to catch them."""

_UNREACHABLE = (ErrorCode.SERVICE_UNAVAILABLE, "The {service} service is unreachable.")
_TOO_SLOW = (ErrorCode.UPSTREAM_TIMEOUT, "The {service} service did not answer in time.")
_BROKEN = (ErrorCode.UPSTREAM_ERROR, "The connection to the {service} service broke.")
_INVALID = (ErrorCode.UPSTREAM_ERROR, "The {service} service sent an invalid response.")
_NOT_CALLED = (ErrorCode.UPSTREAM_ERROR, "The {service} service could not be called.")
_FAILED = (ErrorCode.UPSTREAM_ERROR, "The {service} service failed.")

HTTPX_ERRORS: Mapping[type[Exception], tuple[ErrorCode, str]] = {
    # No connection was made: the request never reached the upstream.
    httpx.ConnectError: _UNREACHABLE,
    httpx.ConnectTimeout: _UNREACHABLE,
    httpx.PoolTimeout: _UNREACHABLE,
    # Connected, but the answer did not come in time.
    httpx.ReadTimeout: _TOO_SLOW,
    httpx.WriteTimeout: _TOO_SLOW,
    httpx.TimeoutException: _TOO_SLOW,
    # The connection broke on the way.
    httpx.ReadError: _BROKEN,
    httpx.WriteError: _BROKEN,
    httpx.CloseError: _BROKEN,
    httpx.NetworkError: _BROKEN,
    # The upstream answered with something that is not a usable HTTP answer.
    httpx.RemoteProtocolError: _INVALID,
    httpx.LocalProtocolError: _INVALID,
    httpx.ProtocolError: _INVALID,
    httpx.DecodingError: _INVALID,
    httpx.TooManyRedirects: _INVALID,
    httpx.TransportError: _INVALID,
    httpx.RequestError: _INVALID,
    # The call could not be made: a proxy refused it, or it was not written right (its URL,
    # its cookies, a response used twice).
    httpx.ProxyError: _NOT_CALLED,
    httpx.UnsupportedProtocol: _NOT_CALLED,
    httpx.InvalidURL: _NOT_CALLED,
    httpx.CookieConflict: _NOT_CALLED,
    httpx.StreamConsumed: _NOT_CALLED,
    httpx.StreamClosed: _NOT_CALLED,
    httpx.ResponseNotRead: _NOT_CALLED,
    httpx.RequestNotRead: _NOT_CALLED,
    httpx.StreamError: _NOT_CALLED,
    # It answered with an error status (see `_STATUS_ERRORS` for the exceptions).
    httpx.HTTPStatusError: _FAILED,
    httpx.HTTPError: _FAILED,
}
"""What each httpx exception class means for our caller: its code and a detail template."""

_STATUS_ERRORS: Mapping[int, tuple[ErrorCode, str]] = {
    429: (ErrorCode.SERVICE_UNAVAILABLE, "The {service} service is unavailable. Retry later."),
    503: (ErrorCode.SERVICE_UNAVAILABLE, "The {service} service is unavailable. Retry later."),
    504: (ErrorCode.UPSTREAM_TIMEOUT, "The {service} service timed out."),
}


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
    """The upstream's `ErrorResponse`, if its body is one, or one of the old error shapes of
    an unmigrated service (read by `client._legacy`); None for anything else."""
    try:
        return ErrorResponse.model_validate_json(response.content)
    except (PydanticValidationError, ValueError, httpx.ResponseNotRead):
        pass
    try:
        return legacy_error_body(response, orjson.loads(response.content))
    except (orjson.JSONDecodeError, httpx.ResponseNotRead):
        return None


def _service_name(exc: Exception, service: str | None) -> str:
    if service:
        return service
    if isinstance(exc, httpx.HTTPError):
        try:
            return exc.request.url.host or "upstream"
        except RuntimeError:  # an exception made without its request
            pass
    return "upstream"


class UpstreamCall(TypedDict, total=False):
    """The call behind an error, as `ServiceCommunicationError` keeps it."""

    method: str
    url: str


def call_of(source: httpx.Request | httpx.Response | Exception) -> UpstreamCall:
    """`method` and `url` (fit to be shown, see `public_url`) of the call behind an httpx
    request, response or exception; empty when it has none."""
    try:
        if isinstance(source, httpx.Response | httpx.HTTPError):
            source = source.request
    except RuntimeError:  # a response or exception made without its request
        return UpstreamCall()
    if not isinstance(source, httpx.Request):
        return UpstreamCall()
    return UpstreamCall(method=source.method, url=public_url(source.url))


def _meaning(exc: Exception) -> tuple[ErrorCode, str]:
    for cls in type(exc).__mro__:
        found = HTTPX_ERRORS.get(cls)
        if found is not None:
            return found
    return _NOT_CALLED


def handle_service_communication_error(
    exc: HTTPXError,
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
        code, detail = _STATUS_ERRORS.get(response.status_code, HTTPX_ERRORS[type(exc)])
        retry_after = None
        if code is ErrorCode.SERVICE_UNAVAILABLE:
            retry_after = parse_retry_after(
                response.headers.get("Retry-After"), maximum=max_retry_after
            )
        return ServiceCommunicationError(
            detail.format(service=name),
            code=code,
            service=name,
            upstream_status=response.status_code,
            upstream_error=upstream_error_body(response),
            retry_after=retry_after,
            **call_of(exc),
        )
    code, detail = _meaning(exc)
    return ServiceCommunicationError(
        detail.format(service=name),
        code=code,
        service=name,
        metadata={"error": type(exc).__name__},
        **call_of(exc),
    )
