"""Building pages: `Keyset` for cursor paging over a sort order, `paginate` for a sequence.

The glue every list endpoint used to write by hand, in one place:

    keyset = Keyset(order, model=Target, default="name", secret=settings.cursor_secret)

    # in memory: sorts, pages by offset or by cursor, builds the page
    return paginate(targets, page, keyset=keyset)

    # in SQL: the position after the cursor, the keyset condition, the page of rows
    after = keyset.after(page)                   # None on the first page
    where, params = keyset_condition(keyset, after)          # opsconductor_shared.database
    rows = ... ORDER BY keyset.keys ... LIMIT page.per_page + 1
    return keyset.page(rows, page, total_items=total)

A `Keyset` is a sort order (`sort=name,-created_at`, or the default) with a tiebreaker
(`id`) as its last key, so that every item has one place in it. Its `page_token`s carry the
values of the last item's keys and the order they belong to, signed when given a secret; a
token from another order (the client changed `sort=`) or one that was tampered with is a 422
on `page_token`, never a 500 and never a silently wrong page. Values go into the token as
JSON by the item model's field types and come back in those types (a `created_at` is a
`datetime` again), so comparisons in memory and parameters in SQL need no conversion.

`paginate(items, page)` pages a whole sequence: by offset (`page`, `per_page`, with totals),
or, with a keyset and a `page_token`, by cursor. An offset page of a list that has a keyset
carries a `next_page_token` too, so a client can go on by cursor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property
from typing import Any, TypeVar, cast

from opsconductor_contracts import PaginationParams, SortDirection, SortParams
from pydantic import BaseModel, TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from ._pagination import decode_cursor, encode_cursor, invalid_query, parse_sort
from .models import PaginatedResponse

__all__ = ["Keyset", "SortValue", "paginate"]

T = TypeVar("T")
SortValue = Callable[[str, Any], Any]
"""How a field's value sorts in memory, `(field, value) -> key` (such as lower-case text)."""

_STALE = "page_token belongs to another sort order; start again from the first page"


class _Descending:
    """A value that sorts in reverse (for a descending key)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Descending) -> bool:
        return bool(other.value < self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and self.value == other.value

    def __hash__(self) -> int:
        return hash(self.value)


def _same_value(_: str, value: Any) -> Any:
    return value


class Keyset:
    """Cursor paging over a sort order with a tiebreaker (see the module docstring).

    Args:
        order: the requested order (from `sort_params`), or None for the default.
        model: the item model; its field types encode and decode the token's values.
        default: the order when none is requested, as `sort=` text (`"-created_at"`) or
            `SortParams`; default: the tiebreaker alone.
        tiebreaker: a unique field, the last key of every order.
        secret: signs the tokens so that clients cannot forge positions.

    Raises:
        ValueError: a key or the tiebreaker is not a field of `model`.
    """

    def __init__(
        self,
        order: SortParams | None,
        *,
        model: type[BaseModel],
        default: SortParams | str | None = None,
        tiebreaker: str = "id",
        secret: str | None = None,
    ) -> None:
        if isinstance(default, str):
            default = parse_sort(default, frozenset(model.model_fields))
        chosen = order or default
        keys = [
            (key.field, key.direction is SortDirection.desc)
            for key in (chosen.sort if chosen else [])
            if key.field != tiebreaker
        ]
        self.keys: tuple[tuple[str, bool], ...] = (*keys, (tiebreaker, False))
        """(field, descending) of each key, most significant first, the tiebreaker last."""
        unknown = [field for field, _ in self.keys if field not in model.model_fields]
        if unknown:
            raise ValueError(f"{model.__name__} has no field {unknown[0]!r} to sort by")
        self.model = model
        self.secret = secret

    def __repr__(self) -> str:
        return f"Keyset({self.signature!r}, model={self.model.__name__})"

    @property
    def fields(self) -> tuple[str, ...]:
        """The key fields, most significant first, the tiebreaker last."""
        return tuple(field for field, _ in self.keys)

    @property
    def signature(self) -> str:
        """The order in `sort=` syntax, tiebreaker included: `name,-created_at,id`."""
        return ",".join(f"{'-' if desc else ''}{field}" for field, desc in self.keys)

    @cached_property
    def _adapters(self) -> tuple[TypeAdapter[Any], ...]:
        fields = self.model.model_fields
        return tuple(TypeAdapter(cast("Any", fields[field].annotation)) for field in self.fields)

    def values(self, item: Any) -> tuple[Any, ...]:
        """The values of `item`'s keys (a model, or a mapping such as a row)."""
        if isinstance(item, dict):
            return tuple(item[field] for field in self.fields)
        return tuple(getattr(item, field) for field in self.fields)

    def token(self, item: Any) -> str:
        """The `page_token` of the page after `item`."""
        after = [
            adapter.dump_python(value, mode="json")
            for adapter, value in zip(self._adapters, self.values(item), strict=True)
        ]
        return encode_cursor({"order": self.signature, "after": after}, secret=self.secret)

    def after(self, page: PaginationParams) -> tuple[Any, ...] | None:
        """The key values the page starts after, or None when it starts at the beginning.

        Raises:
            ValidationError: 422 on `page_token`: malformed, forged, or of another order.
        """
        if not page.page_token:
            return None
        position = decode_cursor(page.page_token, secret=self.secret)
        after = position.get("after")
        if (
            position.get("order") != self.signature
            or not isinstance(after, list)
            or len(after) != len(self.keys)
        ):
            raise invalid_query("page_token", _STALE)
        try:
            return tuple(
                adapter.validate_python(value)
                for adapter, value in zip(self._adapters, after, strict=True)
            )
        except PydanticValidationError as exc:
            raise invalid_query("page_token", _STALE) from exc

    def sort_key(
        self, values: Sequence[Any], sort_value: SortValue = _same_value
    ) -> tuple[Any, ...]:
        """An in-memory sort key for these key values: descending keys reversed, and None
        after every value in ascending order (before them in descending: PostgreSQL's)."""
        key = []
        for (field, descending), value in zip(self.keys, values, strict=True):
            part = (value is None, None if value is None else sort_value(field, value))
            key.append(_Descending(part) if descending else part)
        return tuple(key)

    def page(
        self,
        rows: Sequence[T],
        page: PaginationParams,
        *,
        total_items: int | None = None,
        has_prev: bool | None = None,
    ) -> PaginatedResponse[T]:
        """The cursor page of `rows`: the items after the cursor, in order, fetched with one
        more than `per_page` so that the extra one says whether a next page exists.

        Args:
            rows: up to `per_page + 1` items after `after(page)`.
            page: the request's page parameters.
            total_items: the size of the whole collection, if counted.
            has_prev: whether a page precedes this one; default: whether it has a cursor.
        """
        items = list(rows[: page.per_page])
        token = self.token(items[-1]) if len(rows) > page.per_page and items else None
        return cast(
            "PaginatedResponse[T]",
            PaginatedResponse.from_cursor(
                items,
                per_page=page.per_page,
                next_page_token=token,
                has_prev=bool(page.page_token) if has_prev is None else has_prev,
                total_items=total_items,
            ),
        )


def paginate(
    items: Sequence[T],
    page: PaginationParams,
    *,
    keyset: Keyset | None = None,
    sort_value: SortValue = _same_value,
) -> PaginatedResponse[T]:
    """One page of a whole sequence (see the module docstring).

    Args:
        items: every item of the (filtered) collection.
        page: the request's page parameters.
        keyset: the order to sort by and page by cursor in; without one the items keep
            their order and the list pages by offset only.
        sort_value: how a field's value sorts in memory (`(field, value) -> key`).

    Raises:
        ValidationError: 422 on `page_token`: the list has no keyset, or the token is bad.
    """
    if keyset is None:
        if page.page_token:
            raise invalid_query(
                "page_token", "this list pages by page number; send page and per_page"
            )
        start = (page.page - 1) * page.per_page
        return cast(
            "PaginatedResponse[T]",
            PaginatedResponse.from_offset(
                list(items[start : start + page.per_page]),
                page=page.page,
                per_page=page.per_page,
                total_items=len(items),
            ),
        )
    ordered = sorted(
        ((keyset.sort_key(keyset.values(item), sort_value), item) for item in items),
        key=lambda pair: pair[0],
    )
    after = keyset.after(page)
    if after is None:
        start = (page.page - 1) * page.per_page
        shown = [item for _, item in ordered[start : start + page.per_page]]
        return cast(
            "PaginatedResponse[T]",
            PaginatedResponse.from_offset(
                shown,
                page=page.page,
                per_page=page.per_page,
                total_items=len(ordered),
                next_page_token=keyset.token(shown[-1]) if shown else None,
            ),
        )
    bound = keyset.sort_key(after, sort_value)
    rest = [item for key, item in ordered if key > bound]
    return keyset.page(rest[: page.per_page + 1], page, total_items=len(ordered), has_prev=True)
