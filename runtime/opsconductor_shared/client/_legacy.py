"""The shapes of unmigrated services, read as the shared ones (issue 17, the migration).

While the services move onto the library one at a time, a migrated service calls old ones.
Their answers are read here, and only here, so that `ServiceClient` gives typed results and
keeps the upstream's status and code whichever side of the migration the upstream is on:

    errors                                           read as an `ErrorResponse`
      {"error": {"code", "message", "status_code", "path", ...}}    code kept, message as detail
      {"detail": "text"}                             code from the status (NOT_FOUND, ...)
      {"detail": [{"loc", "msg", "type"}, ...]}      VALIDATION_ERROR with one `errors` entry each
    success bodies                                   read as what the caller asked for
      {"success": true, "timestamp", "data", "message"}             the payload, `data`
      {"data": [...], "meta": {page, per_page, total_items, ...}}   a `PaginatedResponse`
      {"<plural>": [...], "total": n}                a `PaginatedResponse`; page and per_page
                                                     from the call's own `skip`/`limit`

A body in the shared shape is always read as it is first: these readings are tried only when
that fails, so an upstream that has migrated is never second-guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
from opsconductor_contracts import ErrorCode, ErrorDetail, ErrorResponse, PaginationMeta
from pydantic import ValidationError as PydanticValidationError

from .._errors import code_for_status, status_line

__all__ = [
    "legacy_error_body",
    "legacy_readings",
]

_NON_CODE = re.compile(r"[^A-Z0-9_]+")
_NON_DETAIL_CODE = re.compile(r"[^a-z0-9_]+")
_LOCATIONS = ("body", "query", "path", "header", "cookie")
_DEFAULT_LIMIT = 100  # the old services' usual `limit` when the call did not send one
_MAX_PER_PAGE = 1000


def _code(value: Any, status: int) -> str:
    if isinstance(value, str):
        code = _NON_CODE.sub("_", value.upper()).strip("_").lstrip("0123456789_")
        if code:
            return code[:64]
    return code_for_status(status)


def _text(value: Any, status: int) -> str:
    if isinstance(value, str) and value.strip():
        return value[:4096]
    return status_line(status)


def _validation_problem(item: Any) -> ErrorDetail | None:
    if not isinstance(item, Mapping):
        return None
    loc = [str(part) for part in item.get("loc") or () if isinstance(part, str | int)]
    where = loc[1:] if loc and loc[0] in _LOCATIONS else loc
    pointer = "/" + "/".join(part.replace("~", "~0").replace("/", "~1") for part in loc)
    reason = _NON_DETAIL_CODE.sub("_", str(item.get("type") or "invalid").lower()).strip("_")
    try:
        return ErrorDetail(
            pointer=pointer[:1024],
            field=".".join(where)[:1024],
            code=(reason if reason[:1].isalpha() else "invalid")[:64],
            detail=str(item.get("msg") or "invalid")[:1024],
        )
    except PydanticValidationError:
        return None


def legacy_error_body(response: httpx.Response, body: Any) -> ErrorResponse | None:
    """The old error `body` of `response` as an `ErrorResponse` (see the module docstring);
    None when it is none of the old shapes."""
    if not isinstance(body, Mapping):
        return None
    status = response.status_code
    errors: list[ErrorDetail] = []
    error = body.get("error")
    if isinstance(error, Mapping) and isinstance(error.get("message"), str):
        code, detail, instance = error.get("code"), error["message"], error.get("path")
    elif "detail" in body:
        code, detail, instance = None, body["detail"], None
        if isinstance(detail, list):
            errors = [p for p in map(_validation_problem, detail[:1000]) if p is not None]
            code, detail = ErrorCode.VALIDATION_ERROR.value, "The request is not valid."
        elif isinstance(detail, Mapping):
            detail = detail.get("message")
    else:
        return None
    try:
        return ErrorResponse(
            type="about:blank",
            title=status_line(status).partition(" ")[2] or "Error",
            status=status,
            detail=_text(detail, status),
            instance=instance[:2048] if isinstance(instance, str) else None,
            code=_code(code, status),
            request_id=response.headers.get("x-request-id", "")[:128],
            timestamp=datetime.now(UTC),
            errors=errors,
        )
    except PydanticValidationError:  # a status outside 100..599: nothing to keep
        return None


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _counted_page(body: Mapping[str, Any], request: httpx.Request | None) -> dict[str, Any] | None:
    """`{"<plural>": [...], "total": n}` as a shared page, from the call's skip and limit."""
    total = body.get("total")
    lists = [value for key, value in body.items() if key != "total" and isinstance(value, list)]
    if not isinstance(total, int) or isinstance(total, bool) or total < 0 or len(lists) != 1:
        return None
    params = request.url.params if request is not None else httpx.QueryParams()
    skip = max(_int(params.get("skip"), 0), 0)
    limit = min(max(_int(params.get("limit"), _DEFAULT_LIMIT), 1), _MAX_PER_PAGE)
    page = skip // limit + 1
    total_pages = -(-total // limit)
    try:
        meta = PaginationMeta(
            page=page,
            per_page=limit,
            total_items=total,
            total_pages=total_pages,
            has_next=skip + len(lists[0]) < total,
            has_prev=skip > 0,
            next_page_token=None,
        )
    except PydanticValidationError:  # numbers out of the contract's bounds: not a page
        return None
    return {"items": lists[0], "pagination": meta.model_dump()}


def _pages(body: Any, request: httpx.Request | None) -> Iterator[Any]:
    if not isinstance(body, Mapping):
        return
    if isinstance(body.get("data"), list) and isinstance(body.get("meta"), Mapping):
        yield {"items": body["data"], "pagination": dict(body["meta"])}
    counted = _counted_page(body, request)
    if counted is not None:
        yield counted


def legacy_readings(body: Any, response: httpx.Response) -> Iterator[Any]:
    """The other readings of a success `body` an old service may have meant, most likely
    first: the payload of a success envelope, and the old pages as `{items, pagination}`."""
    try:
        request: httpx.Request | None = response.request
    except RuntimeError:  # a response made without its request
        request = None
    yield from _pages(body, request)
    if isinstance(body, Mapping) and isinstance(body.get("success"), bool) and "data" in body:
        payload = body["data"]
        yield payload
        yield from _pages(payload, request)
