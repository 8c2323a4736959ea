"""`add_error_handlers`: every error a FastAPI app returns becomes the shared envelope.

Each handler turns what it catches into one of the library's exceptions and answers with
`problem_response`, so every envelope is built by `StandardHTTPException.to_problem`:

- the library's own exceptions, as they are;
- FastAPI's request validation, as a `ValidationError` whose `errors[]` never echo the input;
- Starlette's `HTTPException` (unknown routes 404, wrong methods 405 whose `Allow` lists the
  methods of every route at the path, anything
  raised by code or other libraries), with the status's own code (`code_for_status`) and, for
  a 5xx, a generic detail;
- a response that fails its own model, and any other exception, as an `InternalError` (a
  generic detail; the exception goes to the log only).

An unhandled exception is answered by Starlette's `ServerErrorMiddleware` with the handler
registered here and then re-raised; the runtime's standard layer, around the whole app, logs
it with its stack (and answers itself for exceptions raised in the middleware outside
FastAPI; see `middleware.standard`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any, cast

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError, ResponseValidationError
from opsconductor_contracts import ErrorDetail
from pydantic_core import PydanticKnownError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

from ._errors import (
    InternalError,
    StandardHTTPException,
    ValidationError,
    code_for_status,
)
from ._logging import get_logger
from ._problem import problem_instance, problem_response

__all__ = [
    "add_error_handlers",
    "allowed_methods",
    "as_standard_error",
    "log_failure",
    "validation_error_details",
]

_DEFAULT_DETAILS = {
    404: "No resource exists at this path.",
    405: "This path does not accept this method; the Allow header lists the ones it does.",
}
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")
_FREE_FORM_ERRORS = frozenset({"value_error", "assertion_error"})
_GENERIC_DETAIL = "The value is not valid here; see the parameter's schema for what is allowed."
_NON_CODE = re.compile(r"[^a-z0-9_]+")
_log = get_logger("opsconductor.errors")


def _pointer_token(part: Any) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


def _json_invalid(error: Mapping[str, Any], body: object) -> ErrorDetail | None:
    """FastAPI's error for a body that is not JSON (`loc` is `("body", <offset>)`, which
    reads as a field named by a number): at `/body`, with where parsing stopped."""
    loc = tuple(error.get("loc") or ())
    if error.get("type") != "json_invalid" or len(loc) != 2 or not isinstance(loc[1], int):
        return None
    offset = loc[1]
    where = f"character {offset}"
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if isinstance(body, str) and offset <= len(body):
        line = body.count("\n", 0, offset) + 1
        column = offset - (body.rfind("\n", 0, offset) + 1) + 1
        where = f"line {line}, column {column} ({where})"
    # The json module's reasons are fixed phrases ("Expecting value"); never the input.
    reason = (error.get("ctx") or {}).get("error")
    reason = f"{reason} " if isinstance(reason, str) and reason.isprintable() else ""
    return ErrorDetail(
        pointer="/body",
        field="body",
        code="json_invalid",
        detail=f"The request body is not valid JSON: {reason}at {where}."[:1024],
    )


def _safe_message(error: Mapping[str, Any]) -> str:
    """The error's message, unless it may hold what the client sent.

    Pydantic's messages are its templates filled from `ctx`: the schema's constraints
    (`pattern`, `expected`, limits), which are safe, or an `error` text from a parser or a
    validator, which may quote the input (`found 'x' at 3`, `'x' does not appear to be an
    IPv4 address`). Then only the template's fixed start is kept (`Input should be a valid
    UUID.`); a validator's own message (`value_error`) is kept when the input is not in it.
    """
    message = str(error.get("msg", "Invalid value."))
    ctx = error.get("ctx") or {}
    if "error" not in ctx:
        return message
    kind = str(error.get("type", ""))
    if kind in _FREE_FORM_ERRORS:
        return _GENERIC_DETAIL if _holds_input(message, error.get("input")) else message
    try:
        template = PydanticKnownError(kind, dict(ctx)).message_template  # type: ignore[arg-type]
    except (KeyError, TypeError, ValueError):
        return _GENERIC_DETAIL
    fixed = template.split("{error}", 1)[0].rstrip(" ,:;")
    return f"{fixed}." if fixed and "{" not in fixed else _GENERIC_DETAIL


def _holds_input(message: str, value: object) -> bool:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        texts = {str(value), repr(value)}
    else:
        texts = {repr(value)}
    return any(text and text in message for text in texts)


def validation_error_details(
    errors: Iterable[Mapping[str, Any]], *, body: object = None
) -> list[ErrorDetail]:
    """Pydantic/FastAPI validation errors as envelope items, without the input values.

    `loc` becomes a JSON pointer rooted at the location (`/body/address/port`) and a dotted
    field (`address.port`); `type` becomes the code; `msg` the detail, unless it may quote
    the input (see `_safe_message`). `input` and `ctx`, which can hold what the client sent
    (a password, say), are never sent. A body that is
    not JSON at all is one item at `/body`, code `json_invalid`, whose detail says where
    parsing stopped (line, column and character, counted in `body` when given).
    """
    details = []
    for error in errors:
        unparsable = _json_invalid(error, body)
        if unparsable is not None:
            details.append(unparsable)
            continue
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
                detail=_safe_message(error)[:1024],
            )
        )
    return details


def as_standard_error(exc: HTTPException) -> StandardHTTPException:
    """A Starlette `HTTPException` (or the library's own) as one of the library's exceptions."""
    if isinstance(exc, StandardHTTPException):
        return exc
    status = exc.status_code
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
    metadata = {}
    if status >= 500:
        detail = None  # the generic detail: a 5xx tells the client nothing of what happened
        metadata["original_detail"] = exc.detail
    elif isinstance(exc.detail, str) and exc.detail and exc.detail != phrase:
        detail = exc.detail
    else:
        detail = _DEFAULT_DETAILS.get(status, phrase or "The request failed.")
    return StandardHTTPException(
        detail, status=status, code=code_for_status(status), headers=exc.headers, metadata=metadata
    )


def log_failure(exc: StandardHTTPException) -> None:
    """Log an error response: INFO for a 4xx, ERROR for a 5xx, with the error's metadata."""
    level = _log.error if exc.status_code >= 500 else _log.info
    level(
        "request_failed",
        status=exc.status_code,
        code=exc.code,
        detail=exc.detail,
        exc_type=type(exc).__name__,
        **exc.metadata,
    )


def allowed_methods(routes: Iterable[BaseRoute], scope: Scope) -> list[str]:
    """Every method the routes serve at the scope's path.

    Starlette's own 405 names the methods of the first route that matched the path only,
    though a path's methods are often several routes (and included routers nest them). Each
    method is asked of the routes themselves (`matches`), so whatever routes they are, the
    answer is the router's.
    """
    routes = list(routes)
    allowed = []
    for method in _METHODS:
        probe = {**scope, "method": method}
        if any(route.matches(probe)[0] is Match.FULL for route in routes):
            allowed.append(method)
    return allowed


async def _http_exception(request: Request, exc: Exception) -> Response:
    http_exc = cast("HTTPException", exc)
    if http_exc.status_code == 405 and not isinstance(exc, StandardHTTPException):
        methods = allowed_methods(request.app.router.routes, request.scope)
        if methods:
            http_exc = HTTPException(
                405,
                http_exc.detail,
                headers={**(http_exc.headers or {}), "Allow": ", ".join(methods)},
            )
    error = as_standard_error(http_exc)
    if error is exc or error.status_code >= 500:  # Starlette's own 404s and 405s are not news
        log_failure(error)
    return problem_response(error, instance=problem_instance(request.scope))


async def _validation_exception(request: Request, exc: Exception) -> Response:
    invalid = cast("RequestValidationError", exc)
    errors = validation_error_details(invalid.errors(), body=invalid.body)
    noun = "problem" if len(errors) == 1 else "problems"
    error = ValidationError(
        f"The request failed validation: {len(errors)} {noun}, listed in errors.", errors=errors
    )
    _log.info(
        "request_invalid", status=error.status, problems=[(e.pointer, e.code) for e in errors]
    )
    return problem_response(error, instance=problem_instance(request.scope))


async def _response_invalid(request: Request, exc: Exception) -> Response:
    _log.error("unhandled_exception", exc_info=exc, exc_type=type(exc).__name__)
    return problem_response(InternalError(), instance=problem_instance(request.scope))


async def _unhandled_exception(request: Request, _: Exception) -> Response:
    # Starlette's ServerErrorMiddleware sends this and re-raises the exception, which the
    # standard layer around the whole app then logs, once, with its stack.
    return problem_response(InternalError(), instance=problem_instance(request.scope))


def add_error_handlers(app: FastAPI) -> None:
    """Register the envelope handlers on `app` (see the module docstring)."""
    app.add_exception_handler(HTTPException, _http_exception)
    app.add_exception_handler(RequestValidationError, _validation_exception)
    app.add_exception_handler(ResponseValidationError, _response_invalid)
    app.add_exception_handler(Exception, _unhandled_exception)
