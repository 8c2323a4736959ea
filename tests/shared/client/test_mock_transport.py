"""ServiceClient against httpx.MockTransport: typed calls, error mapping, retries by method,
propagation, and the breaker, without a network."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from opsconductor_contracts import ErrorResponse
from opsconductor_shared import ServiceCommunicationError, StandardHTTPException, TraceContext
from opsconductor_shared._context import bind_request_context
from opsconductor_shared.client import (
    CircuitBreaker,
    CircuitOpenError,
    RetryPolicy,
    ServiceClient,
    handle_service_communication_error,
)
from opsconductor_shared.client._propagation import bind_caller_token
from pydantic import BaseModel

pytestmark = pytest.mark.anyio

FAST = RetryPolicy(attempts=3, backoff_initial=0.001, deadline=2)


class Target(BaseModel):
    id: int
    name: str


def client_for(handler: Callable[[httpx.Request], httpx.Response], **options: Any) -> ServiceClient:
    options.setdefault("retry", FAST)
    return ServiceClient(
        "targets", "http://targets", transport=httpx.MockTransport(handler), **options
    )


def problem(status: int, code: str) -> httpx.Response:
    body = StandardHTTPException("nope", status=status, code=code).to_problem(
        request_id="upstream-req-1"
    )
    return httpx.Response(
        status, content=body.model_dump_json(), headers={"content-type": "application/problem+json"}
    )


async def test_typed_get() -> None:
    async with client_for(
        lambda request: httpx.Response(200, json={"id": 1, "name": "web-1"})
    ) as client:
        target = await client.get("/targets/1", response_model=Target)
        assert target == Target(id=1, name="web-1")
        with pytest.raises(ServiceCommunicationError, match=r"does not match list\[Target\]"):
            await client.get("/targets", response_model=list[Target])


async def test_typed_list() -> None:
    async with client_for(
        lambda request: httpx.Response(200, json=[{"id": 1, "name": "a"}])
    ) as client:
        assert await client.get("/targets", response_model=list[Target]) == [Target(id=1, name="a")]


async def test_upstream_error_envelope_rides_along() -> None:
    async with client_for(lambda request: problem(404, "NOT_FOUND")) as client:
        with pytest.raises(ServiceCommunicationError) as caught:
            await client.get("/targets/9", response_model=Target)
    error = caught.value
    assert error.status_code == 502
    assert error.upstream_status == 404
    assert error.upstream_code == "NOT_FOUND"
    assert error.upstream_request_id == "upstream-req-1"
    assert isinstance(error.upstream_error, ErrorResponse)


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (
            httpx.Response(200, text="<html>hi</html>", headers={"content-type": "text/html"}),
            "not JSON",
        ),
        (
            httpx.Response(200, content=b"{nope", headers={"content-type": "application/json"}),
            "not valid JSON",
        ),
        (httpx.Response(200, json={"id": "x"}), "does not match Target"),
        (httpx.Response(204), "not JSON"),
    ],
)
async def test_bodies_that_are_not_the_model_are_clear_errors(
    response: httpx.Response, message: str
) -> None:
    async with client_for(lambda request: response) as client:
        with pytest.raises(ServiceCommunicationError, match=message) as caught:
            await client.get("/targets/1", response_model=Target)
    assert caught.value.status_code == 502
    assert caught.value.code == "UPSTREAM_ERROR"


async def test_post_is_never_retried_without_an_idempotency_key() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.headers.get("idempotency-key", ""))
        return httpx.Response(503)

    async with client_for(handler) as client:
        with pytest.raises(ServiceCommunicationError):
            await client.post("/jobs", json={"run": 1})
        assert calls == [""]
        with pytest.raises(ServiceCommunicationError):
            await client.post("/jobs", json={"run": 1}, idempotency_key="job-1")
        assert calls == ["", "job-1", "job-1", "job-1"]
        with pytest.raises(ServiceCommunicationError):
            await client.patch("/jobs/1", json={})
        assert len(calls) == 5


async def test_connect_errors_are_retried_for_get_only() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        raise httpx.ConnectError("refused", request=request)

    async with client_for(handler, breaker=False) as client:
        with pytest.raises(ServiceCommunicationError) as caught:
            await client.get("/targets")
        assert caught.value.status_code == 503
        assert calls == 3
        with pytest.raises(ServiceCommunicationError):
            await client.post("/targets", json={})
        assert calls == 4


async def test_retryable_statuses_then_success() -> None:
    statuses = [502, 504, 200]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(statuses.pop(0), json={"id": 1, "name": "a"})

    async with client_for(handler) as client:
        assert (await client.get("/t", response_model=Target)).id == 1


async def test_exhausted_retries_pass_retry_after_to_the_caller() -> None:
    async with client_for(
        lambda request: httpx.Response(429, headers={"Retry-After": "600"})
    ) as client:
        with pytest.raises(ServiceCommunicationError) as caught:
            await client.get("/t")
    assert caught.value.status_code == 503
    assert caught.value.retry_after == 300  # the pass-through cap
    assert caught.value.headers["Retry-After"] == "300"


async def test_raise_for_status_false_returns_the_response() -> None:
    async with client_for(lambda request: httpx.Response(404)) as client:
        response = await client.get("/t", raise_for_status=False)
    assert response.status_code == 404


async def test_timeouts_are_504_and_the_deadline_is_enforced() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    async with client_for(handler, retry=RetryPolicy(attempts=1)) as client:
        with pytest.raises(ServiceCommunicationError) as caught:
            await client.get("/t")
    assert caught.value.status_code == 504
    assert caught.value.code == "UPSTREAM_TIMEOUT"


async def test_request_id_traceparent_and_token_are_propagated() -> None:
    seen: list[httpx.Headers] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers)
        return httpx.Response(200, json={})

    trace = TraceContext.start()
    bind_request_context("req-7", trace)
    bind_caller_token("caller-token")
    try:
        async with client_for(handler) as client:
            await client.get("/t")
            await client.get("/t", forward_authorization=True)
            await client.get("/t", headers={"X-Request-ID": "override"})
    finally:
        bind_caller_token(None)
    assert seen[0]["x-request-id"] == "req-7"
    assert seen[0]["traceparent"] == trace.traceparent()
    assert "authorization" not in seen[0]
    assert seen[1]["authorization"] == "Bearer caller-token"
    assert seen[2]["x-request-id"] == "override"
    assert seen[0]["user-agent"] == "opsconductor-service-client"


async def test_breaker_opens_after_failures_and_fails_fast() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(500)

    breaker = CircuitBreaker("targets", failure_threshold=2, reset_timeout=60)
    async with client_for(handler, breaker=breaker) as client:
        for _ in range(2):
            with pytest.raises(ServiceCommunicationError):
                await client.get("/t")
        with pytest.raises(CircuitOpenError) as caught:
            await client.get("/t")
    assert calls == 2
    assert caught.value.status_code == 503


def _httpx_error_classes() -> list[type[httpx.HTTPError]]:
    return sorted(
        (
            value
            for value in vars(httpx).values()
            if inspect.isclass(value) and issubclass(value, httpx.HTTPError)
        ),
        key=lambda cls: cls.__name__,
    )


def _instance(cls: type[httpx.HTTPError]) -> httpx.HTTPError:
    request = httpx.Request("GET", "http://targets/t")
    if issubclass(cls, httpx.HTTPStatusError):
        return cls("failed", request=request, response=httpx.Response(500, request=request))
    if issubclass(cls, httpx.RequestError):
        return cls("failed", request=request)
    error = cls("failed")
    error.request = request
    return error


EXPECTED_STATUS = {
    "ConnectError": 503,
    "ConnectTimeout": 503,
    "PoolTimeout": 503,
    "ReadTimeout": 504,
    "WriteTimeout": 504,
    "TimeoutException": 504,
}


def test_there_are_httpx_errors_to_map() -> None:
    names = {cls.__name__ for cls in _httpx_error_classes()}
    assert {
        "ConnectError",
        "ReadTimeout",
        "RemoteProtocolError",
        "HTTPStatusError",
        "DecodingError",
    } <= names


@pytest.mark.parametrize("error_class", _httpx_error_classes(), ids=lambda cls: cls.__name__)
async def test_every_httpx_error_is_mapped(error_class: type[httpx.HTTPError]) -> None:
    error = _instance(error_class)
    mapped = handle_service_communication_error(error, service="targets")
    assert isinstance(mapped, ServiceCommunicationError)
    assert mapped.status_code == EXPECTED_STATUS.get(error_class.__name__, 502)

    def handler(request: httpx.Request) -> httpx.Response:
        raise _instance(error_class)

    async with client_for(handler, retry=RetryPolicy(attempts=1), breaker=False) as client:
        with pytest.raises(ServiceCommunicationError) as caught:
            await client.get("/t")
    assert caught.value.status_code == mapped.status_code
    assert isinstance(caught.value.__cause__, httpx.HTTPError)
