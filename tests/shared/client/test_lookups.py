"""Checking that an upstream record exists in a line or two (`get_or_none`, `get_or_raise`), and
errors that say which URL answered what (without credentials or secret query values)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from opsconductor_shared import (
    REDACTED,
    NotFoundError,
    ServiceCommunicationError,
    ValidationError,
)
from opsconductor_shared.client import RetryPolicy, ServiceClient
from pydantic import BaseModel

pytestmark = pytest.mark.anyio


class Target(BaseModel):
    id: int
    name: str


def client_for(
    handler: Callable[[httpx.Request], httpx.Response], base: str = "http://targets:8000/api"
) -> ServiceClient:
    return ServiceClient(
        "targets",
        base,
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(attempts=2, backoff_initial=0.001, deadline=2),
    )


def targets(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/api/targets/1":
        return httpx.Response(200, json={"id": 1, "name": "web-1"})
    if request.url.path == "/api/targets/500":
        return httpx.Response(500, json={"detail": "boom"})
    return httpx.Response(404, json={"detail": "no such target"})


async def test_get_or_none_is_the_record_or_none() -> None:
    async with client_for(targets) as client:
        assert await client.get_or_none("/targets/1", response_model=Target) == Target(
            id=1, name="web-1"
        )
        assert await client.get_or_none("/targets/2", response_model=Target) is None
        response = await client.get_or_none("targets/1")
        assert isinstance(response, httpx.Response)
        assert response.status_code == 200
        assert await client.get_or_none("targets/2") is None


async def test_get_or_none_still_raises_for_other_failures() -> None:
    async with client_for(targets) as client:
        with pytest.raises(ServiceCommunicationError) as caught:
            await client.get_or_none("/targets/500", response_model=Target)
    assert caught.value.status_code == 502
    assert caught.value.upstream_status == 500


async def test_get_or_raise_turns_an_upstream_404_into_my_error() -> None:
    async with client_for(targets) as client:
        found = await client.get_or_raise(
            "/targets/1", NotFoundError("Target", 1), response_model=Target
        )
        assert found.name == "web-1"
        mine = ValidationError("target_id names no target")
        with pytest.raises(ValidationError) as caught:
            await client.get_or_raise("/targets/7", mine, response_model=Target)
        assert caught.value is mine
        assert isinstance(caught.value.__cause__, ServiceCommunicationError)
        assert caught.value.__cause__.upstream_status == 404
        # A factory is called only when the record is missing.
        with pytest.raises(NotFoundError, match="Target 8 was not found"):
            await client.get_or_raise("/targets/8", lambda: NotFoundError("Target", 8))
        with pytest.raises(ServiceCommunicationError):
            await client.get_or_raise("/targets/500", NotFoundError("Target", 500))


async def test_a_status_error_names_the_method_url_and_status() -> None:
    base = "http://svc:hunter2@targets:8000/api"
    async with client_for(targets, base) as client:
        with pytest.raises(ServiceCommunicationError) as caught:
            await client.get("/targets/9", params={"token": "s3cret", "page": "2"})
    error = caught.value
    message = str(error)
    assert "GET http://targets:8000/api/targets/9?token=" in message
    assert "page=2" in message
    assert "404 Not Found" in message
    assert (error.method, error.url) == (
        "GET",
        f"http://targets:8000/api/targets/9?token={REDACTED}&page=2",
    )
    for secret in ("hunter2", "s3cret"):
        assert secret not in message
        assert secret not in repr(error)
        assert secret not in str(error.metadata)
    assert error.metadata["upstream_url"] == error.url
    # What our own client is told stays generic: no host, no path.
    assert error.detail == "The targets service failed."
    problem = error.to_problem(request_id="r").model_dump_json()
    assert "targets:8000" not in problem
    assert "/api/targets/9" not in problem


async def test_a_transport_error_and_a_bad_body_name_the_url() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with client_for(refuse) as client:
        with pytest.raises(ServiceCommunicationError) as caught:
            await client.get("/targets/1")
    assert "GET http://targets:8000/api/targets/1" in str(caught.value)
    assert "ConnectError" in str(caught.value)
    assert caught.value.status_code == 503

    async with client_for(lambda request: httpx.Response(200, text="<html>")) as client:
        with pytest.raises(ServiceCommunicationError) as caught:
            await client.get("/targets/1", response_model=Target)
    assert "GET http://targets:8000/api/targets/1 answered 200 OK" in str(caught.value)
    assert "not JSON" in str(caught.value)
