"""httpx failures map onto ServiceCommunicationError, through one table that holds every
exception class httpx defines."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from opsconductor_shared import ServiceCommunicationError
from opsconductor_shared.client import handle_service_communication_error
from opsconductor_shared.client._upstream import (
    HTTPX_ERRORS,
    HTTPX_EXCEPTIONS,
    parse_retry_after,
)

REQUEST = httpx.Request("GET", "http://targets.internal/targets/1")


def _status_error(
    status: int, *, headers: dict[str, str] | None = None, body: bytes = b""
) -> httpx.HTTPStatusError:
    response = httpx.Response(status, headers=headers, content=body, request=REQUEST)
    return httpx.HTTPStatusError("upstream error", request=REQUEST, response=response)


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (httpx.ConnectError("refused", request=REQUEST), 503, "SERVICE_UNAVAILABLE"),
        (httpx.ConnectTimeout("slow connect", request=REQUEST), 503, "SERVICE_UNAVAILABLE"),
        (httpx.PoolTimeout("pool", request=REQUEST), 503, "SERVICE_UNAVAILABLE"),
        (httpx.ReadTimeout("slow", request=REQUEST), 504, "UPSTREAM_TIMEOUT"),
        (httpx.WriteTimeout("slow", request=REQUEST), 504, "UPSTREAM_TIMEOUT"),
        (httpx.RemoteProtocolError("bad", request=REQUEST), 502, "UPSTREAM_ERROR"),
        (httpx.DecodingError("bad gzip", request=REQUEST), 502, "UPSTREAM_ERROR"),
        (_status_error(500), 502, "UPSTREAM_ERROR"),
        (_status_error(404), 502, "UPSTREAM_ERROR"),
        (_status_error(429, headers={"Retry-After": "7"}), 503, "SERVICE_UNAVAILABLE"),
        (_status_error(503), 503, "SERVICE_UNAVAILABLE"),
        (_status_error(504), 504, "UPSTREAM_TIMEOUT"),
    ],
)
def test_mapping(exc: httpx.HTTPError, status: int, code: str) -> None:
    error = handle_service_communication_error(exc, service="targets")
    assert isinstance(error, ServiceCommunicationError)
    assert (error.status, error.code, error.service) == (status, code, "targets")
    assert "targets.internal" not in error.detail


def test_retry_after_is_passed_through_and_bounded() -> None:
    assert (
        handle_service_communication_error(
            _status_error(429, headers={"Retry-After": "7"})
        ).headers["Retry-After"]
        == "7"
    )
    capped = handle_service_communication_error(
        _status_error(503, headers={"Retry-After": "86400"}), max_retry_after=60
    )
    assert capped.headers["Retry-After"] == "60"
    assert "Retry-After" not in handle_service_communication_error(_status_error(503)).headers


def test_upstream_envelope_is_kept_as_the_cause() -> None:
    body = b'{"type":"about:blank","title":"Conflict","status":409,"detail":"dup","code":"CONFLICT","request_id":"up-1","timestamp":"2026-01-01T00:00:00Z","errors":[]}'
    error = handle_service_communication_error(_status_error(409, body=body), service="targets")
    assert (error.upstream_status, error.upstream_code, error.upstream_request_id) == (
        409,
        "CONFLICT",
        "up-1",
    )
    assert error.metadata["upstream_request_id"] == "up-1"
    garbage = handle_service_communication_error(_status_error(500, body=b"<html>oops</html>"))
    assert garbage.upstream_error is None


def test_service_defaults_to_the_host() -> None:
    assert (
        handle_service_communication_error(httpx.ConnectError("x", request=REQUEST)).service
        == "targets.internal"
    )


HTTPX_EXCEPTION_CLASSES = sorted(
    (cls for _, cls in inspect.getmembers(httpx, inspect.isclass) if issubclass(cls, Exception)),
    key=lambda cls: cls.__name__,
)


def _instance(cls: type[Exception]) -> Exception:
    if cls is httpx.HTTPStatusError:
        return _status_error(500)
    if issubclass(cls, httpx.RequestError):
        return cls("x", request=REQUEST)
    if cls is httpx.HTTPError:
        return cls("x")
    return (
        cls() if issubclass(cls, httpx.StreamError) and cls is not httpx.StreamError else cls("x")
    )  # type: ignore[call-arg]


def test_httpx_defines_the_exceptions_the_table_expects() -> None:
    # If httpx adds or drops an exception class, this and the next test say which.
    assert len(HTTPX_EXCEPTION_CLASSES) >= 28
    assert set(HTTPX_ERRORS) == set(HTTPX_EXCEPTION_CLASSES)


@pytest.mark.parametrize("cls", HTTPX_EXCEPTION_CLASSES, ids=lambda cls: cls.__name__)
def test_every_httpx_exception_class_is_in_the_table(cls: type[Exception]) -> None:
    assert cls in HTTPX_ERRORS, f"httpx.{cls.__name__} has no entry in HTTPX_ERRORS"
    assert issubclass(cls, HTTPX_EXCEPTIONS), f"the client would not catch httpx.{cls.__name__}"
    code, _ = HTTPX_ERRORS[cls]
    error = handle_service_communication_error(_instance(cls), service="targets")  # type: ignore[arg-type]
    assert (error.code, error.status) == (
        str(code),
        {"UPSTREAM_ERROR": 502, "SERVICE_UNAVAILABLE": 503, "UPSTREAM_TIMEOUT": 504}[code],
    )
    assert "targets service" in error.detail
    assert "targets.internal" not in error.detail


def test_the_most_specific_class_decides() -> None:
    class MyReadTimeout(httpx.ReadTimeout):
        pass

    error = handle_service_communication_error(MyReadTimeout("x", request=REQUEST))
    assert error.code == "UPSTREAM_TIMEOUT"


def test_parse_retry_after() -> None:
    assert parse_retry_after("12") == 12
    assert parse_retry_after("-3") == 0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("1e9", maximum=30) == 30
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    assert 15 <= (parse_retry_after(later) or 0) <= 21
