"""Generic models the generator cannot emit: `PaginatedResponse[T]`.

datamodel-code-generator cannot write `Generic[T]` (an `allOf` specialisation of the page
template silently loses the item type), so the page model is written here, on the generated
`PaginationMeta`, and a test checks that `PaginatedResponse[X].model_json_schema()` matches the
`PaginatedResponse` template schema with `items` bound to `X`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Generic, Self, TypeVar

from opsconductor_contracts import ContractModel, PaginationMeta
from opsconductor_contracts._gen.pagination import PaginatedResponse as _PageTemplate
from pydantic import Field

__all__ = ["PaginatedResponse"]

ItemT = TypeVar("ItemT")

# The schema's page template, which `opsconductor_contracts` does not export (no item type).
_TEMPLATE_FIELDS = _PageTemplate.model_fields


class PaginatedResponse(ContractModel, Generic[ItemT]):
    """One page of a collection: `items` plus `pagination` metadata (offset or cursor paging).

    Use it as a response model: `response_model=PaginatedResponse[Target]`.
    """

    items: list[ItemT] = Field(description=_TEMPLATE_FIELDS["items"].description)
    pagination: PaginationMeta = Field(description=_TEMPLATE_FIELDS["pagination"].description)

    @classmethod
    def from_offset(
        cls,
        items: Sequence[ItemT],
        *,
        page: int,
        per_page: int,
        total_items: int,
        next_page_token: str | None = None,
    ) -> Self:
        """A page of offset paging, with totals and `has_next`/`has_prev` worked out.

        `next_page_token`, when given for a page that has a next one, lets the client go on
        with cursor paging from here.
        """
        total_pages = math.ceil(total_items / per_page) if per_page else 0
        meta = PaginationMeta(
            page=page,
            per_page=per_page,
            total_items=total_items,
            total_pages=total_pages,
            has_next=page < total_pages,
            has_prev=page > 1,
            next_page_token=next_page_token if page < total_pages else None,
        )
        return cls(items=list(items), pagination=meta)

    @classmethod
    def from_cursor(
        cls,
        items: Sequence[ItemT],
        *,
        per_page: int,
        next_page_token: str | None,
        has_prev: bool,
        total_items: int | None = None,
    ) -> Self:
        """A page of cursor paging: `next_page_token` is None on the last page."""
        meta = PaginationMeta(
            page=None,
            per_page=per_page,
            total_items=total_items,
            total_pages=None if total_items is None else math.ceil(total_items / per_page),
            has_next=next_page_token is not None,
            has_prev=has_prev,
            next_page_token=next_page_token,
        )
        return cls(items=list(items), pagination=meta)
