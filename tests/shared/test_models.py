"""`PaginatedResponse[T]` matches the `PaginatedResponse` template schema with `items` bound to T."""

from __future__ import annotations

from typing import Any

import pytest
from opsconductor_conformance import load_schema_dir
from opsconductor_conformance.normalize import normalize_schema, schema_differences
from opsconductor_contracts import PaginationMeta
from opsconductor_shared import PaginatedResponse
from pydantic import BaseModel, Field, ValidationError

from tests.conftest import SCHEMAS


class Target(BaseModel):
    id: int = Field(ge=1)
    name: str


def _resolver(schema: dict[str, Any]) -> Any:
    definitions = schema.get("$defs", {})

    def resolve(ref: str) -> tuple[Any, Any]:
        return definitions[ref.rsplit("/", 1)[-1]], resolve

    return resolve


def test_schema_matches_template_with_items_bound() -> None:
    schemaset = load_schema_dir(SCHEMAS)
    document, template = schemaset.components()["PaginatedResponse"]
    expected = normalize_schema(template, schemaset.resolver(document))
    target_schema = Target.model_json_schema()
    expected["properties"]["items"]["items"] = normalize_schema(target_schema)

    generated = PaginatedResponse[Target].model_json_schema()
    actual = normalize_schema(generated, _resolver(generated))

    assert [str(d) for d in schema_differences(expected, actual)] == []
    assert actual["required"] == expected["required"] == ["items", "pagination"]
    assert actual["properties"]["items"]["items"]["required"] == ["id", "name"]
    assert generated["title"] == "PaginatedResponse[Target]"


def test_item_type_is_enforced() -> None:
    meta = PaginationMeta(per_page=10, has_next=False, has_prev=False)
    with pytest.raises(ValidationError):
        PaginatedResponse[Target].model_validate(
            {"items": [{"id": 0, "name": "x"}], "pagination": meta}
        )


def test_from_offset_works_out_the_metadata() -> None:
    page = PaginatedResponse[Target].from_offset(
        [Target(id=3, name="c")], page=2, per_page=2, total_items=5
    )
    assert page.pagination.model_dump() == {
        "page": 2,
        "per_page": 2,
        "total_items": 5,
        "total_pages": 3,
        "has_next": True,
        "has_prev": True,
        "next_page_token": None,
    }
    last = PaginatedResponse[Target].from_offset([], page=3, per_page=2, total_items=5)
    assert (last.pagination.has_next, last.pagination.has_prev) == (False, True)
    empty = PaginatedResponse[Target].from_offset([], page=1, per_page=50, total_items=0)
    assert (empty.pagination.total_pages, empty.pagination.has_next) == (0, False)


def test_from_cursor() -> None:
    page = PaginatedResponse[Target].from_cursor(
        [Target(id=1, name="a")], per_page=1, next_page_token="abc", has_prev=False
    )
    assert page.pagination.page is None
    assert page.pagination.has_next is True
    assert page.pagination.next_page_token == "abc"
    last = PaginatedResponse[Target].from_cursor(
        [], per_page=1, next_page_token=None, has_prev=True
    )
    assert last.pagination.has_next is False
