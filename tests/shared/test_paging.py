"""Paging without hand-written glue: offset-only and cursor-only page dependencies, the sort
syntax in the OpenAPI document, `Keyset` and `paginate` (every item once, in order, whatever
the order and page size: hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from opsconductor_conformance import assert_conforms
from opsconductor_contracts import PaginationParams, SortDirection, SortKey, SortParams
from opsconductor_shared import (
    CursorPaginationQuery,
    Keyset,
    OffsetPaginationQuery,
    PaginatedResponse,
    ServiceSettings,
    ValidationError,
    create_service_app,
    paginate,
    sort_params,
)
from pydantic import BaseModel

PUBLIC = {"x-public": True}
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


class Item(BaseModel):
    id: int
    name: str
    created_at: datetime
    rank: int | None = None


def app_with_lists() -> FastAPI:
    app = create_service_app("list-service", "1", ServiceSettings(), configure_logging=False)

    @app.get("/entries", openapi_extra=PUBLIC)
    async def list_entries(page: OffsetPaginationQuery) -> dict[str, Any]:
        return page.model_dump()

    @app.get("/events", openapi_extra=PUBLIC)
    async def list_events(
        page: CursorPaginationQuery,
        order: Annotated[
            SortParams | None, Depends(sort_params("name", "created_at", default="-created_at"))
        ],
    ) -> dict[str, Any]:
        return page.model_dump()

    return app


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(app_with_lists())


def parameters(client: TestClient, path: str) -> dict[str, dict[str, Any]]:
    document = client.get("/openapi.json").json()
    return {p["name"]: p for p in document["paths"][path]["get"]["parameters"]}


def test_an_offset_only_list_offers_and_takes_no_page_token(client: TestClient) -> None:
    assert set(parameters(client, "/entries")) == {"page", "per_page"}
    assert client.get("/entries").json() == {"page": 1, "per_page": 50, "page_token": None}
    assert client.get("/entries", params={"page": 3, "per_page": 5}).json()["page"] == 3
    refused = client.get("/entries", params={"page_token": "abc"})
    assert refused.status_code == 422
    (problem,) = refused.json()["errors"]
    assert (problem["pointer"], problem["code"]) == ("/query/page_token", "unsupported")
    assert "abc" not in refused.text


def test_a_cursor_only_list_offers_and_takes_no_page(client: TestClient) -> None:
    assert set(parameters(client, "/events")) == {"per_page", "page_token", "sort"}
    assert client.get("/events", params={"page_token": "t"}).json()["page_token"] == "t"
    refused = client.get("/events", params={"page": 2})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["pointer"] == "/query/page"
    assert client.get("/events", params={"per_page": 0}).status_code == 422


def test_the_page_parameters_keep_the_shared_schema(client: TestClient) -> None:
    shared = PaginationParams.model_json_schema()["properties"]
    for path in ("/entries", "/events"):
        for name, parameter in parameters(client, path).items():
            if name in shared and name != "page_token":
                schema = parameter["schema"]
                for bound in ("minimum", "maximum", "default"):
                    assert schema.get(bound) == shared[name].get(bound), (path, name, bound)
                assert parameter["description"] == shared[name]["description"]


def test_the_sort_syntax_is_in_the_openapi_description(client: TestClient) -> None:
    description = parameters(client, "/events")["sort"]["description"]
    assert "sort=created_at,-name" in description
    assert "leading `-`" in description
    assert "Fields: created_at, name." in description
    assert "Default: `-created_at`." in description
    assert "sort=name,-created_at" in (sort_params.__doc__ or "")


def make_items(names: list[str], ranks: list[int | None]) -> list[Item]:
    return [
        Item(id=index + 1, name=name, created_at=EPOCH + timedelta(minutes=index % 3), rank=rank)
        for index, (name, rank) in enumerate(zip(names, ranks, strict=False))
    ]


def reference_order(items: list[Item], keys: list[tuple[str, bool]]) -> list[int]:
    ordered = list(items)
    for field, descending in reversed([*keys, ("id", False)]):
        # None after every value ascending, before them descending (as PostgreSQL sorts).
        ordered.sort(
            key=lambda item: (
                getattr(item, field) is None,
                getattr(item, field) if getattr(item, field) is not None else 0,
            ),
            reverse=descending,
        )
    return [item.id for item in ordered]


orders = st.lists(
    st.tuples(st.sampled_from(["name", "created_at", "rank"]), st.booleans()),
    max_size=3,
    unique_by=lambda key: key[0],
)


@settings(max_examples=60, deadline=None)
@given(
    names=st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=25),
    ranks=st.lists(st.none() | st.integers(0, 3), min_size=25, max_size=25),
    keys=orders,
    per_page=st.integers(1, 7),
)
def test_walking_by_cursor_gives_every_item_once_in_order(
    names: list[str], ranks: list[int | None], keys: list[tuple[str, bool]], per_page: int
) -> None:
    items = make_items(names, ranks)
    order = (
        SortParams(
            sort=[
                SortKey(field=f, direction=SortDirection.desc if d else SortDirection.asc)
                for f, d in keys
            ]
        )
        if keys
        else None
    )
    keyset = Keyset(order, model=Item, secret="s3cret")
    seen: list[int] = []
    page = paginate(items, PaginationParams(page=1, per_page=per_page), keyset=keyset)
    assert page.pagination.total_items == len(items)
    while True:
        seen.extend(item.id for item in page.items)
        token = page.pagination.next_page_token
        if token is None:
            break
        assert page.pagination.has_next
        page = paginate(items, PaginationParams(per_page=per_page, page_token=token), keyset=keyset)
        assert page.pagination.has_prev
    assert seen == reference_order(items, keys)


@given(
    names=st.lists(st.sampled_from(["a", "b"]), max_size=20),
    page_number=st.integers(1, 6),
    per_page=st.integers(1, 6),
)
def test_offset_pages_are_slices_with_totals(
    names: list[str], page_number: int, per_page: int
) -> None:
    items = make_items(names, [None] * len(names))
    page = paginate(items, PaginationParams(page=page_number, per_page=per_page))
    start = (page_number - 1) * per_page
    assert [i.id for i in page.items] == [i.id for i in items[start : start + per_page]]
    assert page.pagination.total_items == len(items)
    assert page.pagination.has_next is (start + per_page < len(items))
    assert page.pagination.next_page_token is None


def test_a_token_of_another_order_or_forged_is_a_422() -> None:
    items = make_items(["a", "b", "c"], [1, 2, 3])
    by_name = Keyset(SortParams(sort=[SortKey(field="name")]), model=Item, secret="k")
    first = paginate(items, PaginationParams(per_page=1), keyset=by_name)
    token = first.pagination.next_page_token
    assert token is not None
    by_rank = Keyset(None, model=Item, default="-rank", secret="k")
    for keyset in (by_rank, Keyset(by_name_order(), model=Item, secret="other")):
        with pytest.raises(ValidationError) as caught:
            paginate(items, PaginationParams(per_page=1, page_token=token), keyset=keyset)
        assert caught.value.errors[0].pointer == "/query/page_token"
    with pytest.raises(ValidationError, match="pages by page number"):
        paginate(items, PaginationParams(per_page=1, page_token=token))


def by_name_order() -> SortParams:
    return SortParams(sort=[SortKey(field="name")])


def test_a_keyset_position_comes_back_in_the_field_types() -> None:
    keyset = Keyset(None, model=Item, default="-created_at,name")
    assert keyset.signature == "-created_at,name,id"
    item = make_items(["x"], [None])[0]
    position = keyset.after(PaginationParams(page_token=keyset.token(item)))
    assert position == (item.created_at, "x", 1)
    assert isinstance(position[0], datetime)
    assert keyset.after(PaginationParams()) is None


def test_a_keyset_page_of_fetched_rows() -> None:
    keyset = Keyset(None, model=Item)
    rows = make_items(["a", "b", "c"], [None] * 3)
    params = PaginationParams(per_page=2, page_token=keyset.token(rows[0]))
    page = keyset.page(rows, params, total_items=9)
    assert [i.id for i in page.items] == [1, 2]
    assert page.pagination.next_page_token == keyset.token(rows[1])
    assert (page.pagination.has_prev, page.pagination.total_items) == (True, 9)
    last = keyset.page(rows[:2], params)
    assert (last.pagination.next_page_token, last.pagination.has_next) == (None, False)


def test_a_keyset_needs_fields_of_the_model() -> None:
    with pytest.raises(ValueError, match="has no field 'colour'"):
        Keyset(SortParams(sort=[SortKey(field="colour")]), model=Item)
    with pytest.raises(ValueError, match="has no field 'uuid'"):
        Keyset(None, model=Item, tiebreaker="uuid")


def test_offset_only_and_cursor_only_lists_validate_strict() -> None:
    app = create_service_app("list-service", "1", ServiceSettings(), configure_logging=False)
    items = make_items(["a", "b", "c"], [1, None, 2])

    @app.get("/entries", openapi_extra=PUBLIC)
    async def list_entries(page: OffsetPaginationQuery) -> PaginatedResponse[Item]:
        return paginate(items, page)

    @app.get("/events", openapi_extra=PUBLIC)
    async def list_events(
        page: CursorPaginationQuery,
        order: Annotated[SortParams | None, Depends(sort_params("name", "rank"))],
    ) -> PaginatedResponse[Item]:
        return paginate(items, page, keyset=Keyset(order, model=Item))

    report = assert_conforms(app, strict=True)
    assert list(report.findings) == []
    with TestClient(app) as http:
        first = http.get("/events", params={"per_page": 2, "sort": "-rank"}).json()
        assert [i["id"] for i in first["items"]] == [2, 3]
        token = first["pagination"]["next_page_token"]
        rest = http.get("/events", params={"per_page": 2, "sort": "-rank", "page_token": token})
        assert [i["id"] for i in rest.json()["items"]] == [1]
