"""List-endpoint query parameters and opaque cursors."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from fastapi import Depends
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from opsconductor_contracts import SortParams
from opsconductor_shared import (
    FilterQuery,
    PaginationQuery,
    ServiceSettings,
    ValidationError,
    create_service_app,
    decode_cursor,
    encode_cursor,
    sort_params,
)


@pytest.fixture
def client() -> TestClient:
    app = create_service_app("list-service", "1", ServiceSettings(), configure_logging=False)

    @app.get("/things", operation_id="list_things")
    async def list_things(
        page: PaginationQuery,
        filters: FilterQuery,
        order: Annotated[SortParams | None, Depends(sort_params("name", "created_at"))],
    ) -> dict[str, Any]:
        return {
            "page": page.model_dump(),
            "search": filters.search,
            "sort": [(k.field, k.direction.value) for k in order.sort] if order else None,
        }

    return TestClient(app)


def test_defaults(client: TestClient) -> None:
    assert client.get("/things").json() == {
        "page": {"page": 1, "per_page": 50, "page_token": None},
        "search": None,
        "sort": None,
    }


def test_values_are_parsed(client: TestClient) -> None:
    body = client.get(
        "/things", params={"page": 3, "per_page": 10, "search": "web", "sort": "name,-created_at"}
    ).json()
    assert body["page"] == {"page": 3, "per_page": 10, "page_token": None}
    assert body["search"] == "web"
    assert body["sort"] == [["name", "asc"], ["created_at", "desc"]]


@pytest.mark.parametrize(
    ("params", "pointer"),
    [
        ({"per_page": 0}, "/query/per_page"),
        ({"per_page": 1001}, "/query/per_page"),
        ({"page": 0}, "/query/page"),
        ({"sort": "password"}, "/query/sort"),
        ({"sort": ""}, "/query/sort"),
        ({"created_after": "2020-01-01T00:00:00"}, "/query/created_after"),
    ],
)
def test_bad_values_are_422_envelopes(
    client: TestClient, params: dict[str, Any], pointer: str
) -> None:
    response = client.get("/things", params=params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["pointer"] for e in response.json()["errors"]] == [pointer]


def test_shared_parameters_are_documented(client: TestClient) -> None:
    names = [
        p["name"]
        for p in client.get("/openapi.json").json()["paths"]["/things"]["get"]["parameters"]
    ]
    assert {"page", "per_page", "page_token", "search", "created_after", "sort"} <= set(names)


def test_sort_params_configuration_errors() -> None:
    with pytest.raises(ValueError, match="at least one"):
        sort_params()
    with pytest.raises(ValidationError):
        sort_params("name", default="age")


@given(
    position=st.dictionaries(
        st.text(max_size=10),
        st.integers(-(2**63), 2**63 - 1) | st.text(max_size=20) | st.none(),
        max_size=4,
    )
)
def test_cursor_round_trip(position: dict[str, Any]) -> None:
    assert decode_cursor(encode_cursor(position)) == position
    assert decode_cursor(encode_cursor(position, secret="k"), secret="k") == position


@pytest.mark.parametrize("token", ["", "!!!", "bm90IGpzb24", "WzEsMl0", "a" * 50])
def test_malformed_cursors_are_422(token: str) -> None:
    with pytest.raises(ValidationError) as raised:
        decode_cursor(token)
    assert raised.value.errors[0].pointer == "/query/page_token"


def test_forged_cursors_are_rejected() -> None:
    token = encode_cursor({"id": 50}, secret="right")
    with pytest.raises(ValidationError):
        decode_cursor(token, secret="wrong")
    with pytest.raises(ValidationError):
        decode_cursor(encode_cursor({"id": 10**6}), secret="right")
