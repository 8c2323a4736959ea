"""Query parameters of list endpoints, as FastAPI dependencies, and opaque cursors.

    async def list_targets(page: PaginationQuery, filters: FilterQuery,
                           order: Annotated[SortParams | None, Depends(sort_params("name", "created_at"))]):

`PaginationQuery` and `FilterQuery` are the shared `PaginationParams` and `FilterParams` read
from the query string (so the OpenAPI document lists the shared parameters). `sort_params`
parses `?sort=name,-created_at` (a leading `-` means descending) against the fields an endpoint
allows. `encode_cursor`/`decode_cursor` make `next_page_token` values: base64url JSON, signed
with HMAC-SHA256 when given a secret so that clients cannot forge positions; a token that is
malformed or tampered with is a 422 on `page_token`, never a 500.
"""

# No `from __future__ import annotations`: FastAPI reads the annotations of the dependency
# `sort_params` builds at runtime, and they refer to its local variables.
import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Mapping
from typing import Annotated, Any

import orjson
from fastapi import Query
from opsconductor_contracts import (
    ErrorDetail,
    FilterParams,
    PaginationParams,
    SortDirection,
    SortKey,
    SortParams,
)

from ._errors import ValidationError

__all__ = [
    "FilterQuery",
    "PaginationQuery",
    "decode_cursor",
    "encode_cursor",
    "sort_params",
]

PaginationQuery = Annotated[PaginationParams, Query()]
FilterQuery = Annotated[FilterParams, Query()]
_SIGNATURE_BYTES = 16


def _invalid(pointer: str, field: str, detail: str) -> ValidationError:
    problem = ErrorDetail(pointer=pointer, field=field, code="invalid", detail=detail)
    return ValidationError(detail, errors=[problem])


def sort_params(*allowed: str, default: str | None = None) -> Callable[..., SortParams | None]:
    """A dependency that parses `?sort=` into `SortParams`, accepting only `allowed` fields.

    Raises:
        ValueError: no field is allowed, or the default names a field that is not.
    """
    if not allowed:
        raise ValueError("sort_params needs at least one sortable field")
    fields = frozenset(allowed)
    description = f"Sort order: comma-separated fields, `-` for descending. Fields: {', '.join(sorted(fields))}."

    def parse(raw: str | None) -> SortParams | None:
        if raw is None:
            return None
        keys = []
        for part in (piece.strip() for piece in raw.split(",")):
            name = part.removeprefix("-").removeprefix("+")
            if name not in fields:
                raise _invalid(
                    "/query/sort",
                    "sort",
                    f"cannot sort by {name!r}; sortable fields: {', '.join(sorted(fields))}",
                )
            keys.append(
                SortKey(
                    field=name,
                    direction=SortDirection.desc if part.startswith("-") else SortDirection.asc,
                )
            )
        if not keys or len(keys) > 8:
            raise _invalid("/query/sort", "sort", "give one to eight sort fields")
        return SortParams(sort=keys)

    if default is not None:
        parse(default)

    def dependency(
        sort: Annotated[str | None, Query(max_length=256, description=description)] = default,
    ) -> SortParams | None:
        return parse(sort)

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
        raise _invalid(
            "/query/page_token",
            "page_token",
            "page_token is not a token this endpoint issued; start again from the first page",
        )
    return position
