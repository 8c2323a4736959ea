"""OpenAPI that tells the truth: errors are documented as the shared envelope.

`error_responses(404, 409)` declares a route's error responses in one line. `install_openapi`
post-processes the app's document once, when it is first built: every error response that
refers to `ErrorResponse` is served as `application/problem+json`; FastAPI's 422
`HTTPValidationError`, which the error handlers never send, is replaced by the envelope (and
its schemas dropped); operations with a body document the 400 FastAPI sends for a body it
cannot read; secured operations document 401 and 403; `ErrorResponse` and
`ErrorDetail` are components; `info.x-opsconductor-contracts` names the contracts version.
The runtime's own routes (health and readiness, answered before the service's routes; see
`_routes`) are documented in the same document, after the service's.

Before that, every route of the app documents the errors it can give, derived from what it
has (its dependencies, its path parameters, the runtime's policies: see `_operations`), and
the operation ids are checked to be unique.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from opsconductor_contracts import CONTRACTS_VERSION, ErrorResponse
from pydantic.json_schema import models_json_schema
from starlette.routing import BaseRoute

from ._operations import (
    RouteErrors,
    check_error_status,
    check_operation_ids,
    route_errors,
    schema_routes,
)
from ._problem import PROBLEM_JSON

__all__ = ["CONTRACTS_EXTENSION", "error_responses", "install_openapi", "rewrite_openapi"]

CONTRACTS_EXTENSION = "x-opsconductor-contracts"
_ERROR_REF = "#/components/schemas/ErrorResponse"
_FASTAPI_VALIDATION = ("HTTPValidationError", "ValidationError")
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _description(status: int | str) -> str:
    try:
        return HTTPStatus(int(status)).phrase
    except ValueError:
        return "Error"


def error_responses(*statuses: int | str) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries documenting these error statuses with the shared `ErrorResponse`.

    Raises:
        ValueError: a status is not 4xx, 5xx or `default`.
    """
    documented: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        check_error_status(status)
        documented[status] = {
            "model": ErrorResponse,
            "description": _description(status) if status != "default" else "Error",
        }
    return documented


def _envelope(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": {"$ref": _ERROR_REF}}}}


def _is_error_status(status: str) -> bool:
    return status == "default" or (status.isdigit() and 400 <= int(status) <= 599)


def _refers_to_envelope(response: dict[str, Any]) -> bool:
    return any(
        isinstance(media, dict) and media.get("schema", {}).get("$ref") == _ERROR_REF
        for media in (response.get("content") or {}).values()
    )


def _rewrite_operation(operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    for status, response in list(responses.items()):
        if not _is_error_status(str(status)) or not isinstance(response, dict):
            continue
        schema_ref = next(
            (
                media.get("schema", {}).get("$ref", "")
                for media in (response.get("content") or {}).values()
                if isinstance(media, dict)
            ),
            "",
        )
        if str(status) == "422" and schema_ref.endswith("/HTTPValidationError"):
            responses[status] = _envelope("Validation Error")
        elif _refers_to_envelope(response):
            responses[status] = _envelope(response.get("description") or _description(status))
    if "requestBody" in operation:
        # FastAPI answers 400 for a body it cannot read at all (not UTF-8, cut short).
        responses.setdefault("400", _envelope(_description(400)))
    if operation.get("security"):
        for status in ("401", "403"):
            responses.setdefault(status, _envelope(_description(status)))


def _references(document: Any, ref: str) -> bool:
    if isinstance(document, dict):
        return document.get("$ref") == ref or any(
            _references(value, ref) for value in document.values()
        )
    if isinstance(document, list):
        return any(_references(item, ref) for item in document)
    return False


def _add_envelope_components(schemas: dict[str, Any]) -> None:
    _, definitions = models_json_schema(
        [(ErrorResponse, "serialization")], ref_template="#/components/schemas/{model}"
    )
    for name, schema in definitions.get("$defs", {}).items():
        schemas.setdefault(name, schema)


def rewrite_openapi(
    document: dict[str, Any], *, contracts_version: str = CONTRACTS_VERSION
) -> dict[str, Any]:
    """A copy of `document` rewritten as described in the module docstring."""
    document = copy.deepcopy(document)
    document.setdefault("info", {})[CONTRACTS_EXTENSION] = contracts_version
    for path_item in (document.get("paths") or {}).values():
        for method in _METHODS:
            operation = path_item.get(method)
            if isinstance(operation, dict):
                _rewrite_operation(operation)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    _add_envelope_components(schemas)
    # HTTPValidationError (and the ValidationError it uses) go once nothing refers to them;
    # a service's own model of either name that something uses stays.
    for name in _FASTAPI_VALIDATION:
        if name in schemas:
            rest = {key: value for key, value in document.items() if key != "components"}
            others = {key: value for key, value in schemas.items() if key != name}
            if not _references([rest, others], f"#/components/schemas/{name}"):
                del schemas[name]
    return document


def _add_operations(document: dict[str, Any], app: FastAPI, routes: Sequence[BaseRoute]) -> None:
    extra = get_openapi(
        title=app.title, version=app.version, openapi_version=app.openapi_version, routes=routes
    )
    paths = document.setdefault("paths", {})
    for path, item in extra.get("paths", {}).items():
        paths[path] = item  # the runtime answers these paths, whatever the service declared
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in extra.get("components", {}).get("schemas", {}).items():
        schemas.setdefault(name, schema)


def _add_route_errors(
    document: dict[str, Any], routes: Iterable[BaseRoute], policies: Sequence[RouteErrors]
) -> None:
    paths = document.get("paths") or {}
    for route in schema_routes(routes):
        statuses = sorted(route_errors(route, policies))
        for method in route.methods or ():
            operation = paths.get(route.path_format, {}).get(method.lower())
            if not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            for status in statuses:
                responses.setdefault(str(status), _envelope(_description(status)))


def install_openapi(
    app: FastAPI,
    *,
    routes: Sequence[BaseRoute] = (),
    route_policies: Sequence[RouteErrors] = (),
    contracts_version: str = CONTRACTS_VERSION,
    info_extensions: Mapping[str, Any] | None = None,
) -> None:
    """Make `app.openapi()` return the rewritten document (built once, then cached).

    Args:
        app: the app.
        routes: routes outside the app's router to document too (the runtime's own).
        route_policies: what the runtime's policies add to each route's errors; read when
            the document is built, so policies installed after this call count.
        contracts_version: the contracts version the document declares.
        info_extensions: `x-` members to add to the document's `info` (the runtime's
            compatibility mode, `_problem.LEGACY_ERRORS_EXTENSION`).

    `app.openapi()` raises `ValueError` when two operations have one operation id.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            check_operation_ids(app.routes, routes)
            document = copy.deepcopy(build())
            _add_route_errors(document, app.routes, route_policies)
            if routes:
                _add_operations(document, app, routes)
            app.openapi_schema = rewrite_openapi(document, contracts_version=contracts_version)
            app.openapi_schema.setdefault("info", {}).update(info_extensions or {})
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
