"""List shapes: how a response lists its resources, and which of those shapes are legacy pages.

One definition for every rule that judges lists: `pagination` (a list that is not the shared
page) and the migration rule `legacy-page` (a list in one of the old shapes) both ask
`list_shape`, so they agree on what a list is and name its shape alike.

A list is a response object whose one array property holds the resources, with offset
(`skip`/`limit`, `offset`, `page`/`per_page`) or cursor query parameters, or page metadata
(totals, cursors, links) beside it, or nothing else at all. Three lists are legacy pages,
recognised by their members and their types:

    {data, meta}        the old shared module's page (`meta` an object)
    {data, count}       the FastAPI full-stack template's page (`count` an integer)
    {<plural>, total}   the old services' own pages (`total` an integer; any array but `items`)

Every finding on a list names the shape found (`str(ListShape)`) and the shape to use instead,
`SHARED_PAGE_SHAPE`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .normalize import schema_types

__all__ = ["SHARED_PAGE_SHAPE", "ListShape", "list_shape"]

SHARED_PAGE_SHAPE = (
    "{items: [...], pagination: {page, per_page, total_items, total_pages, has_next, has_prev, "
    "next_page_token}} (PaginatedResponse[Item])"
)
"""The shared page, as findings name it."""

_TOTALS = frozenset(
    {"count", "total", "total_count", "totalCount", "total_entries", "total_items", "totalItems"}
    | {"total_results", "totalResults", "total_size", "totalSize", "total_pages", "num_pages"}
)
_PAGE_META = _TOTALS | frozenset(
    {"meta", "metadata", "pagination", "paging", "links", "_links", "has_more", "hasMore"}
    | {"has_next", "next", "previous", "prev", "next_page", "next_page_token", "nextPageToken"}
    | {"next_cursor", "nextCursor", "cursor", "next_page_uri", "next_page_url", "continue"}
    | {"page", "per_page", "page_size", "pageSize", "offset", "limit"}
)
_OFFSET_PARAMS = frozenset({"skip", "limit", "offset", "page", "per_page", "page_size", "pagesize"})
_CURSOR_PARAMS = frozenset(
    {"cursor", "page_token", "pagetoken", "starting_after", "ending_before", "after", "before"}
    | {"continue", "next_token", "marker", "since"}
)
# (array, the one other member, its type) -> where the legacy page comes from; None: any array.
_LEGACY_PAGES: dict[tuple[str | None, str, str], str] = {
    ("data", "meta", "object"): "the old shared module's",
    ("data", "count", "integer"): "the FastAPI full-stack template's",
    (None, "total", "integer"): "the old services'",
}
_SHOWN_MEMBERS = 4


@dataclass(frozen=True)
class ListShape:
    """How a response lists its resources: the array property, the other members, the paging."""

    array: str
    others: tuple[str, ...]
    paging: tuple[str, ...]
    """The offset and cursor query parameters the operation takes."""
    legacy: str | None = None
    """The legacy page it is (`{data, count}`), or None."""
    origin: str = ""
    """Whose legacy page it is (`the FastAPI full-stack template's`)."""

    @property
    def is_legacy(self) -> bool:
        """One of the legacy pages: {data, meta}, {data, count}, {<plural>, total}."""
        return self.legacy is not None

    def __str__(self) -> str:
        members = [f"{self.array}: [...]", *self.others[:_SHOWN_MEMBERS]]
        if len(self.others) > _SHOWN_MEMBERS:
            members.append("...")
        text = "{" + ", ".join(members) + "}"
        if self.legacy:
            text = f"the legacy {self.legacy} shape ({self.origin}), {text}"
        if self.paging:
            text += f" with the query parameters {', '.join(self.paging)}"
        return text


def _legacy(array: str, properties: Mapping[str, Any]) -> tuple[str, str] | None:
    if len(properties) != 2:
        return None
    (other,) = (name for name in properties if name != array)
    for (want_array, member, kind), origin in _LEGACY_PAGES.items():
        if (
            want_array in (None, array)
            and other == member
            and kind in schema_types(properties[other])
        ):
            if want_array is None and array == "items":
                return None  # {items, total}: the shared page's members, misshapen
            return "{" + f"{array}, {member}" + "}", origin
    return None


def list_shape(normalized: Any, query: Iterable[str]) -> ListShape | None:
    """The list shape of a normalised response schema, when it is a list; None otherwise.

    Args:
        normalized: the response body's schema, normalised (references resolved).
        query: the names of the operation's query parameters.
    """
    if not isinstance(normalized, Mapping):
        return None
    properties = normalized.get("properties")
    if not isinstance(properties, Mapping):
        return None
    arrays = [name for name, sub in properties.items() if "array" in schema_types(sub)]
    if len(arrays) != 1:
        return None
    array, others = arrays[0], tuple(name for name in properties if name != arrays[0])
    paging = tuple(
        name for name in query if name.lower() in _OFFSET_PARAMS or name.lower() in _CURSOR_PARAMS
    )
    legacy = _legacy(array, properties)
    if not (not others or paging or legacy or any(name in _PAGE_META for name in others)):
        return None
    if legacy is None:
        return ListShape(array, others, paging)
    return ListShape(array, others, paging, legacy=legacy[0], origin=legacy[1])
