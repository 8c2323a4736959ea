"""Query parameters of list endpoints, as FastAPI dependencies, and opaque cursors.

    async def list_targets(page: PaginationQuery, filters: FilterQuery,
                           order: Annotated[SortParams | None, Depends(sort_params("name", "created_at"))]):

Three page dependencies, all giving the shared `PaginationParams`, for the three kinds of list:

    PaginationQuery          page, per_page and page_token: offset or cursor paging
    OffsetPaginationQuery    page and per_page; a page_token is refused (422): the list has
                             no cursor, and a client that sends one must not get page 1
    CursorPaginationQuery    per_page and page_token; a page is refused (422): the list pages
                             by keyset only (no totals, no page numbers)

The OpenAPI document lists exactly the parameters each one accepts. `FilterQuery` is the
shared `FilterParams` read from the query string; its date-time parameters (every field the
schema says is `format: date-time`) take RFC 3339 text only (`2026-01-15T10:30:00Z`, an offset
required): pydantic's lax mode would read `0.5` as a Unix timestamp, and `2026-01-15` or a space
for the `T` as a date-time, none of which the schema allows (422, the value not repeated).

`sort_params(*fields)` parses the sort syntax, `?sort=name,-created_at`: comma-separated
fields, most significant first, a leading `-` for descending (`+` or nothing: ascending), one
to eight of them, each among the fields the endpoint allows; its OpenAPI description says so,
with the fields and an example, and its `pattern` allows exactly those values. `encode_cursor`/`decode_cursor` make `next_page_token`
values: base64url JSON, signed with HMAC-SHA256 when given a secret so that clients cannot
forge positions; a token that is malformed or tampered with is a 422 on `page_token`, never a
500. `Keyset` and `paginate` (`_paging`) build the pages from them.
"""

# No `from __future__ import annotations`: FastAPI reads the annotations of the dependency
# `sort_params` builds at runtime, and they refer to its local variables.
import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from typing import Annotated, Any

import orjson
from fastapi import Depends, Query, Request
from opsconductor_contracts import (
    ErrorDetail,
    FilterParams,
    PaginationParams,
    SortDirection,
    SortKey,
    SortParams,
)
from pydantic import BaseModel, field_validator
from pydantic_core import PydanticCustomError

from ._errors import ValidationError

__all__ = [
    "CursorPaginationQuery",
    "FilterQuery",
    "OffsetPaginationQuery",
    "PaginationQuery",
    "cursor_pagination",
    "decode_cursor",
    "encode_cursor",
    "invalid_query",
    "offset_pagination",
    "parse_sort",
    "sort_description",
    "sort_params",
]

_SIGNATURE_BYTES = 16
_MAX_SORT_KEYS = 8


# RFC 3339 section 5.6 `date-time` (case-insensitive `T` and `Z`); what a date and a time
# may be (month 13, second 61) is pydantic's to refuse after.
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})", re.ASCII
)
_RFC3339_DETAIL = "must be an RFC 3339 date-time with an offset, such as 2026-05-20T08:30:00Z"


def _date_time_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """The fields of `model` whose schema is `format: date-time` (alone or in an `anyOf`)."""
    properties = model.model_json_schema()["properties"]
    return tuple(
        name
        for name, schema in properties.items()
        if any(s.get("format") == "date-time" for s in schema.get("anyOf", [schema]))
    )


class _FilterQueryParams(FilterParams):
    __doc__ = FilterParams.__doc__

    @field_validator(*_date_time_fields(FilterParams), mode="before")
    @classmethod
    def _require_rfc3339(cls, value: Any) -> Any:
        # Text must be RFC 3339 and a number is never a date-time; a `datetime` (Python code
        # building the model) passes.
        if isinstance(value, int | float | str) and (
            not isinstance(value, str) or _RFC3339.fullmatch(value) is None
        ):
            raise PydanticCustomError("date_time_format", _RFC3339_DETAIL)
        return value


FilterQuery = Annotated[_FilterQueryParams, Query()]
"""The shared `FilterParams` from the query string, date-times as RFC 3339 text only."""


def invalid_query(parameter: str, detail: str, *, code: str = "invalid") -> ValidationError:
    """A 422 whose one problem points at query parameter `parameter`."""
    problem = ErrorDetail(pointer=f"/query/{parameter}", field=parameter, code=code, detail=detail)
    return ValidationError(detail, errors=[problem])


def _query(name: str) -> Any:
    """`Query(...)` for a field of `PaginationParams`: its bounds and description, written
    once, in the schema (its default is `_default(name)`)."""
    field = PaginationParams.model_fields[name]
    bounds = {
        attribute: getattr(constraint, attribute)
        for constraint in field.metadata
        for attribute in ("ge", "le", "min_length", "max_length")
        if hasattr(constraint, attribute)
    }
    return Query(description=field.description, **bounds)


def _default(name: str) -> Any:
    return PaginationParams.model_fields[name].default


def _refuse(request: Request, parameter: str, detail: str) -> None:
    if parameter in request.query_params:
        raise invalid_query(parameter, detail, code="unsupported")


def offset_pagination(
    request: Request,
    page: Annotated[int, _query("page")] = _default("page"),
    per_page: Annotated[int, _query("per_page")] = _default("per_page"),
) -> PaginationParams:
    """The page of an offset-only list: `page` and `per_page`; a `page_token` is a 422."""
    _refuse(request, "page_token", "this list pages by page number; send page and per_page")
    return PaginationParams(page=page, per_page=per_page, page_token=None)


def cursor_pagination(
    request: Request,
    per_page: Annotated[int, _query("per_page")] = _default("per_page"),
    page_token: Annotated[str | None, _query("page_token")] = _default("page_token"),
) -> PaginationParams:
    """The page of a cursor-only list: `per_page` and `page_token`; a `page` is a 422."""
    _refuse(request, "page", "this list pages by cursor; send the page_token of the last page")
    return PaginationParams(page=1, per_page=per_page, page_token=page_token)


PaginationQuery = Annotated[PaginationParams, Query()]
"""`page`, `per_page` and `page_token`: a list paged by offset or by cursor."""
OffsetPaginationQuery = Annotated[PaginationParams, Depends(offset_pagination)]
"""`page` and `per_page`: a list paged by offset only (a `page_token` is a 422)."""
CursorPaginationQuery = Annotated[PaginationParams, Depends(cursor_pagination)]
"""`per_page` and `page_token`: a list paged by cursor only (a `page` is a 422)."""


def parse_sort(raw: str, fields: frozenset[str]) -> SortParams:
    """`name,-created_at` as `SortParams`: comma-separated fields among `fields`, most
    significant first, a leading `-` for descending (`+` or nothing for ascending).

    Raises:
        ValidationError: 422 on `sort`: an unknown field, none, or more than eight.
    """
    keys = []
    for position, part in enumerate((piece.strip() for piece in raw.split(",")), start=1):
        name = part.removeprefix("-").removeprefix("+")
        if name not in fields:
            # The field is named by its position, never echoed: no envelope quotes the client.
            raise invalid_query(
                "sort",
                f"sort field {position} is not a sortable field; sortable fields: "
                f"{', '.join(sorted(fields))}",
            )
        direction = SortDirection.desc if part.startswith("-") else SortDirection.asc
        keys.append(SortKey(field=name, direction=direction))
    if not keys or len(keys) > _MAX_SORT_KEYS:
        raise invalid_query("sort", f"give one to {_MAX_SORT_KEYS} sort fields")
    return SortParams(sort=keys)


def sort_pattern(fields: frozenset[str]) -> str:
    """The regular expression of every `sort` value `parse_sort` accepts over `fields`, for
    the OpenAPI document: the schema allows exactly what the endpoint takes."""
    key = f"[-+]?({'|'.join(re.escape(name) for name in sorted(fields))})"
    return f"^{key}(,{key}){{0,{_MAX_SORT_KEYS - 1}}}$"


def sort_description(fields: frozenset[str], default: str | None = None) -> str:
    """The OpenAPI description of a `sort` parameter over `fields`."""
    names = sorted(fields)
    example = f"{names[0]},-{names[1]}" if len(names) > 1 else f"-{names[0]}"
    text = (
        "Sort order: comma-separated fields, most significant first; a leading `-` sorts "
        f"that field descending, such as `sort={example}`. Fields: {', '.join(names)}."
    )
    return f"{text} Default: `{default}`." if default else text


def sort_params(*allowed: str, default: str | None = None) -> Callable[..., SortParams | None]:
    """A dependency that parses `?sort=` into `SortParams`, accepting only `allowed` fields.

        order: Annotated[SortParams | None, Depends(sort_params("name", "created_at"))]

    `?sort=name,-created_at` sorts by name, then by creation time, newest first (see
    `parse_sort`); no `sort` gives `default` (itself in that syntax), else None. The
    parameter's OpenAPI description gives the syntax, the fields and an example.

    Raises:
        ValueError: no field is allowed.
        ValidationError: the default names a field that is not allowed.
    """
    if not allowed:
        raise ValueError("sort_params needs at least one sortable field")
    fields = frozenset(allowed)
    description = sort_description(fields, default)
    if default is not None:
        parse_sort(default, fields)

    pattern = sort_pattern(fields)

    def dependency(
        sort: Annotated[
            str | None, Query(max_length=256, pattern=pattern, description=description)
        ] = default,
    ) -> SortParams | None:
        return None if sort is None else parse_sort(sort, fields)

    return dependency


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def _signature(payload: bytes, secret: str) -> bytes:
    return hmac.new(secret.encode(), payload, hashlib.sha256).digest()[:_SIGNATURE_BYTES]


def encode_cursor(position: Mapping[str, Any], *, secret: str | None = None) -> str:
    """An opaque page token for `position` (JSON-serialisable), signed when `secret` is given."""
    payload = orjson.dumps(dict(position), option=orjson.OPT_SORT_KEYS)
    signature = _signature(payload, secret) if secret else b""
    return _b64encode(signature + payload)


def decode_cursor(token: str, *, secret: str | None = None) -> dict[str, Any]:
    """The position inside a token made by `encode_cursor`.

    Raises:
        ValidationError: the token is malformed or (with `secret`) not signed by it (422).
    """
    try:
        raw = _b64decode(token)
    except (ValueError, binascii.Error):
        raw = b""
    if secret:
        signature, raw = raw[:_SIGNATURE_BYTES], raw[_SIGNATURE_BYTES:]
        if not hmac.compare_digest(signature, _signature(raw, secret)):
            raw = b""
    try:
        position = orjson.loads(raw)
    except orjson.JSONDecodeError:
        position = None
    if not isinstance(position, dict):
        raise invalid_query(
            "page_token",
            "page_token is not a token this endpoint issued; start again from the first page",
        )
    return position
