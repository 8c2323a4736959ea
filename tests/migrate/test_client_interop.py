"""ServiceClient reading an unmigrated service's shapes (issue 17 §1), through
httpx.MockTransport: old errors keep the upstream's status and code, old pages and success
envelopes are typed results; the shared shapes are still read first."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opsconductor_shared import PaginatedResponse, ServiceCommunicationError
from opsconductor_shared.client import RetryPolicy, ServiceClient
from opsconductor_shared.client._responses import parse_response, raise_for_upstream_status
from pydantic import BaseModel

pytestmark = pytest.mark.anyio


class Target(BaseModel):
    id: int
    name: str


def client_answering(
    status: int, body: Any, headers: dict[str, str] | None = None
) -> ServiceClient:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body, headers=headers)

    return ServiceClient(
        "targets",
        "http://targets",
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy.disabled(),
        breaker=False,
    )


async def failure(
    status: int, body: Any, headers: dict[str, str] | None = None
) -> ServiceCommunicationError:
    async with client_answering(status, body, headers) as client:
        with pytest.raises(ServiceCommunicationError) as caught:
            await client.get("/targets/9", response_model=Target)
    return caught.value


async def test_the_old_error_envelope_keeps_its_status_and_code() -> None:
    error = await failure(
        409,
        {
            "error": {
                "code": "TARGET_EXISTS",
                "message": "A target named web-1 already exists",
                "status_code": 409,
                "path": "/targets",
                "method": "POST",
                "context": {"name": "web-1"},
            }
        },
        headers={"X-Request-ID": "old-req-1"},
    )
    assert error.upstream_status == 409
    assert error.upstream_code == "TARGET_EXISTS"
    assert error.upstream_request_id == "old-req-1"
    assert error.upstream_error is not None
    assert error.upstream_error.detail == "A target named web-1 already exists"
    assert error.upstream_error.instance == "/targets"
    assert error.upstream_error.status == 409


@pytest.mark.parametrize(
    ("status", "code"),
    [(404, "NOT_FOUND"), (401, "UNAUTHORIZED"), (403, "FORBIDDEN"), (405, "METHOD_NOT_ALLOWED")],
)
async def test_a_detail_error_gets_the_code_of_its_status(status: int, code: str) -> None:
    error = await failure(status, {"detail": "Not Found"})
    assert (error.upstream_status, error.upstream_code) == (status, code)
    assert error.upstream_error is not None
    assert error.upstream_error.detail == "Not Found"


async def test_fastapis_old_422_becomes_a_validation_error_with_its_problems() -> None:
    error = await failure(
        422,
        {
            "detail": [
                {"loc": ["body", "command"], "msg": "Field required", "type": "missing"},
                {"loc": ["query", "limit"], "msg": "not an int", "type": "int_parsing"},
                "junk",
            ]
        },
    )
    assert error.upstream_code == "VALIDATION_ERROR"
    assert error.upstream_error is not None
    problems = [(p.pointer, p.field, p.code) for p in error.upstream_error.errors]
    assert problems == [
        ("/body/command", "command", "missing"),
        ("/query/limit", "limit", "int_parsing"),
    ]


@pytest.mark.parametrize(
    "body",
    [{"error": "text"}, {"message": "x"}, ["a"], {"error": {"code": 1}}],
)
async def test_a_body_of_no_known_shape_keeps_no_code(body: Any) -> None:
    error = await failure(500, body)
    assert error.upstream_status == 500
    assert error.upstream_error is None


async def test_an_odd_old_code_is_made_upper_snake() -> None:
    error = await failure(400, {"error": {"code": "bad-port value", "message": "port"}})
    assert error.upstream_code == "BAD_PORT_VALUE"


@pytest.mark.parametrize(
    ("params", "page", "has_next", "has_prev"),
    [({"skip": 0, "limit": 2}, 1, True, False), ({"skip": 2, "limit": 2}, 2, False, True)],
)
async def test_the_counted_page_is_a_paginated_response(
    params: dict[str, int], page: int, has_next: bool, has_prev: bool
) -> None:
    body = {"targets": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}], "total": 4}
    async with client_answering(200, body) as client:
        result = await client.get(
            "/targets", params=params, response_model=PaginatedResponse[Target]
        )
    assert [t.name for t in result.items] == ["a", "b"]
    meta = result.pagination
    assert (meta.page, meta.per_page, meta.total_items, meta.total_pages) == (page, 2, 4, 2)
    assert (meta.has_next, meta.has_prev) == (has_next, has_prev)


async def test_the_data_meta_page_is_a_paginated_response() -> None:
    meta = {
        "page": 1,
        "per_page": 50,
        "total_items": 1,
        "total_pages": 1,
        "has_next": False,
        "has_prev": False,
    }
    async with client_answering(200, {"data": [{"id": 3, "name": "c"}], "meta": meta}) as client:
        result = await client.get("/jobs", response_model=PaginatedResponse[Target])
    assert result.items == [Target(id=3, name="c")]
    assert result.pagination.total_items == 1


async def test_the_success_envelope_is_its_payload() -> None:
    body = {
        "success": True,
        "timestamp": "2026-01-01T00:00:00Z",
        "data": {"id": 1, "name": "web-1"},
        "message": "Target created",
    }
    async with client_answering(200, body) as client:
        assert await client.post("/targets", json={}, response_model=Target) == Target(
            id=1, name="web-1"
        )


async def test_a_shared_body_is_read_as_it_is_first() -> None:
    class Envelope(BaseModel):
        success: bool
        data: Target

    body = {"success": True, "data": {"id": 1, "name": "x"}}
    async with client_answering(200, body) as client:
        assert await client.get("/x", response_model=Envelope) == Envelope(
            success=True, data=Target(id=1, name="x")
        )


async def test_a_body_no_reading_matches_is_still_a_502() -> None:
    async with client_answering(200, {"success": True, "data": {"id": "x"}}) as client:
        with pytest.raises(ServiceCommunicationError, match="does not match Target") as caught:
            await client.get("/x", response_model=Target)
    assert caught.value.status_code == 502


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "error",
                    "detail",
                    "data",
                    "meta",
                    "success",
                    "total",
                    "code",
                    "message",
                    "items",
                    "x",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=25,
)


def read(status: int, content: bytes, url: str) -> object:
    response = httpx.Response(
        status,
        content=content,
        headers={"content-type": "application/json"},
        request=httpx.Request("GET", url),
    )
    raise_for_upstream_status(response, service="targets")
    return parse_response(response, PaginatedResponse[Target], service="targets")


@settings(max_examples=300, deadline=None)
@given(
    status=st.sampled_from([200, 400, 404, 409, 422, 500, 503]),
    body=JSON,
    skip=st.integers(min_value=-5, max_value=10**20),
    limit=st.integers(min_value=-5, max_value=10**20),
)
def test_any_body_is_a_value_or_a_service_communication_error(
    status: int, body: object, skip: int, limit: int
) -> None:
    content = json.dumps(body).encode()
    with contextlib.suppress(ServiceCommunicationError):
        read(status, content, f"http://targets/targets?skip={skip}&limit={limit}")


@pytest.mark.parametrize(
    "content", [b'{"total": NaN, "targets": []}', b'{"total": 1e999}', b"[" * 2000]
)
def test_json_only_pydantic_reads_is_no_traceback(content: bytes) -> None:
    with pytest.raises(ServiceCommunicationError):
        read(200, content, "http://targets/targets")
