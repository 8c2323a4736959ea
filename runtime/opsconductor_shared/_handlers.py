"""`add_error_handlers`: every error a FastAPI app returns becomes the shared envelope.

Handled here: the library's own exceptions, FastAPI's request validation (422, with
`errors[]` that never echo the input), Starlette's `HTTPException` (unknown routes 404, wrong
methods 405 with `Allow`, anything raised by code or other libraries), and, as a last resort,
unhandled exceptions (500 with a generic detail; the exception and its stack go to the log
only). `UnhandledErrorMiddleware` catches unhandled exceptions inside the middleware stack so
their 500 still carries the request id and security headers; the handler registered here
covers apps without it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any, cast

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError, ResponseValidationError
from opsconductor_contracts import ErrorDetail
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ._context import get_request_id, new_request_id
from ._errors import StandardHTTPException
from ._logging import get_logger
from ._problem import ProblemResponse, build_problem, code_for_status

__all__ = [
    "GENERIC_SERVER_ERROR_DETAIL",
    "add_error_handlers",
    "validation_error_details",
]

GENERIC_SERVER_ERROR_DETAIL = (
    "An unexpected error occurred. The request id identifies it in the service log."
)
_DEFAULT_DETAILS = {
    404: "No resource exists at this path.",
    405: "This path does not accept this method; the Allow header lists the ones it does.",
}
_NON_CODE = re.compile(r"[^a-z0-9_]+")
_log = get_logger("opsconductor.errors")


def _request_id(request: Request) -> str:
    return get_request_id() or request.scope.get("state", {}).get("request_id") or new_request_id()


def _pointer_token(part: Any) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


def validation_error_details(errors: Iterable[Mapping[str, Any]]) -> list[ErrorDetail]:
    """Pydantic/FastAPI validation errors as envelope items, without the input values.

    `loc` becomes a JSON pointer rooted at the location (`/body/address/port`) and a dotted
    field (`address.port`); `type` becomes the code; `msg` the detail. `input` and `ctx`,
    which can hold what the client sent (a password, say), are never used.
    """
    details = []
    for error in errors:
        loc = tuple(error.get("loc") or ())
        pointer = "".join(f"/{_pointer_token(part)}" for part in loc) or "/"
        field = ".".join(str(part) for part in (loc[1:] or loc))
        code = _NON_CODE.sub("_", str(error.get("type", "invalid")).lower()).strip("_") or "invalid"
        if not code[0].isalpha():
            code = f"invalid_{code}"
        details.append(
            ErrorDetail(
                pointer=pointer[:1024],
                field=field[:1024],
                code=code[:64],
                detail=str(error.get("msg", "Invalid value."))[:1024],
            )
        )
    return details


async def _standard_exception(request: Request, exc: Exception) -> Response:
    exc = cast("StandardHTTPException", exc)
    request_id = _request_id(request)
    level = _log.error if exc.status_code >= 500 else _log.info
    level(
        "request_failed",
        status=exc.status_code,
        code=exc.code,
        detail=exc.detail,
        exc_type=type(exc).__name__,
        **exc.metadata,
    )
    problem = exc.to_problem(request_id=request_id, instance=request.url.path)
    return ProblemResponse(problem, headers=exc.headers)


async def _validation_exception(request: Request, exc: Exception) -> Response:
    exc = cast("RequestValidationError", exc)
    errors = validation_error_details(exc.errors())
    _log.info("request_invalid", status=422, problems=[(e.pointer, e.code) for e in errors])
    noun = "problem" if len(errors) == 1 else "problems"
    problem = build_problem(
        422,
        code="VALIDATION_ERROR",
        detail=f"The request failed validation: {len(errors)} {noun}, listed in errors.",
        request_id=_request_id(request),
        instance=request.url.path,
        errors=errors,
    )
    return ProblemResponse(problem)


async def _http_exception(request: Request, exc: Exception) -> Response:
    exc = cast("HTTPException", exc)
    status = exc.status_code
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
    if status >= 500:
        _log.error("request_failed", status=status, detail=exc.detail)
        detail = GENERIC_SERVER_ERROR_DETAIL
    elif isinstance(exc.detail, str) and exc.detail and exc.detail != phrase:
        detail = exc.detail
    else:
        detail = _DEFAULT_DETAILS.get(status, phrase or "The request failed.")
    problem = build_problem(
        status,
        code=code_for_status(status),
        detail=detail,
        request_id=_request_id(request),
        instance=request.url.path,
    )
    return ProblemResponse(problem, headers=exc.headers)


async def _unhandled_exception(request: Request, exc: Exception) -> Response:
    _log.error("unhandled_exception", exc_info=exc, exc_type=type(exc).__name__)
    problem = build_problem(
        500,
        code="INTERNAL_ERROR",
        detail=GENERIC_SERVER_ERROR_DETAIL,
        request_id=_request_id(request),
        instance=request.url.path,
    )
    return ProblemResponse(problem)


def add_error_handlers(app: FastAPI) -> None:
    """Register the envelope handlers on `app` (see the module docstring)."""
    app.add_exception_handler(StandardHTTPException, _standard_exception)
    app.add_exception_handler(RequestValidationError, _validation_exception)
    app.add_exception_handler(HTTPException, _http_exception)
    app.add_exception_handler(ResponseValidationError, _unhandled_exception)
    app.add_exception_handler(Exception, _unhandled_exception)
