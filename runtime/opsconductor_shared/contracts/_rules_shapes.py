"""The conformance rules about shapes: shared components, error envelope, pages, health."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from ._compat import Direction, compatibility_differences
from ._normalize import SchemaDifference
from ._openapi import Operation, ServiceDocument
from ._rules_basic import RawFinding
from ._shared import SharedContracts

__all__: list[str] = []

ERROR_RESPONSE = "ErrorResponse"
PAGE = "PaginatedResponse"
PAGE_PARAMS = "PaginationParams"
HEALTH = "HealthResponse"
CONTRACT_KEY = "x-opsconductor-contract"
VALIDATION_STATUSES = ("422", "400")
LIVE_SUFFIXES = ("/health/live", "/health/liveness", "/livez")
READY_SUFFIXES = ("/health/ready", "/health/readiness", "/readyz", "/health", "/healthz")
_GENERIC_NAME = re.compile(r"^([A-Za-z][A-Za-z0-9]*)_.+_$")
_GENERIC_TITLE = re.compile(r"^([A-Za-z][A-Za-z0-9]*)\[.+\]$")
_SPLIT_SUFFIX = re.compile(r"-(Input|Output)$")
_SHOWN = 3


def _summary(differences: list[SchemaDifference]) -> str:
    shown = "; ".join(str(d) for d in differences[:_SHOWN])
    more = len(differences) - _SHOWN
    return shown + (f"; and {more} more" if more > 0 else "")


def _differences(
    doc: ServiceDocument,
    shared: SharedContracts,
    name: str,
    schema: Any,
    direction: Direction | None = None,
) -> list[SchemaDifference]:
    return list(
        compatibility_differences(
            shared.expected(name),
            doc.normalized(schema),
            direction=direction or shared.direction(name),
        )
    )


def _shared_name(name: str, schema: Mapping[str, Any], shared: SharedContracts) -> str | None:
    marker = schema.get(CONTRACT_KEY)
    if isinstance(marker, str):
        return marker
    base = _SPLIT_SUFFIX.sub("", name)
    if base in shared.names:
        return base
    for pattern, text in ((_GENERIC_NAME, base), (_GENERIC_TITLE, str(schema.get("title", "")))):
        match = pattern.match(text)
        if match and match.group(1) in shared.names:
            return match.group(1)
    properties = schema.get("properties")
    is_page = isinstance(properties, Mapping) and {"items", "pagination"} <= set(properties)
    return PAGE if is_page and PAGE in shared.names else None


def _check_component_compat(doc: ServiceDocument, shared: SharedContracts) -> Iterator[RawFinding]:
    for name, schema in doc.components.items():
        if not isinstance(schema, Mapping):
            continue
        contract = _shared_name(name, schema, shared)
        if contract is None:
            continue
        where = f"/components/schemas/{name.replace('~', '~0').replace('/', '~1')}"
        if contract not in shared.names:
            yield (
                f"{where}/{CONTRACT_KEY}",
                f"names {contract!r}, which is not a shared contract",
                None,
            )
            continue
        direction = shared.direction(contract)
        suffix = _SPLIT_SUFFIX.search(name)
        if suffix and direction == "both":
            direction = "response" if suffix.group(1) == "Output" else "request"
        differences = _differences(doc, shared, contract, schema, direction)
        for difference in differences:
            yield (
                f"{where}{difference.pointer}",
                f"{name} is the shared {contract} ({direction}) but {difference.message}; regenerate it from opsconductor_contracts.{contract}",
                None,
            )


def _looks_like_fastapi_validation(schema: Any) -> bool:
    detail = schema.get("properties", {}).get("detail", {}) if isinstance(schema, Mapping) else {}
    items = detail.get("items", {}) if isinstance(detail, Mapping) else {}
    props = items.get("properties", {}) if isinstance(items, Mapping) else {}
    return isinstance(props, Mapping) and {"loc", "msg", "type"} <= set(props)


def _envelope_problems(
    doc: ServiceDocument,
    shared: SharedContracts,
    status: str,
    pointer: str,
    response: Mapping[str, Any],
) -> Iterator[RawFinding]:
    bodies = doc.json_bodies(pointer, response)
    if not bodies:
        other = sorted(str(t) for t in (response.get("content") or {}))
        found = f"only as {', '.join(other)}" if other else "without a body"
        yield (
            pointer,
            f"the {status} response is documented {found}; document the ErrorResponse envelope as application/problem+json (or application/json)",
            None,
        )
        return
    with_schema = [(at, schema) for at, schema in bodies if schema is not None]
    if not with_schema:
        yield (
            pointer,
            f"the {status} response documents no schema; use the ErrorResponse envelope",
            None,
        )
    for at, schema in with_schema:
        normalized = doc.normalized(schema)
        if _looks_like_fastapi_validation(normalized):
            yield (
                at,
                f"the {status} response is FastAPI's HTTPValidationError ({{detail: [{{loc, msg, type}}]}}), not the ErrorResponse envelope; use the runtime's exception handlers and document {status} with ErrorResponse",
                None,
            )
            continue
        differences = _differences(doc, shared, ERROR_RESPONSE, schema, "response")
        if differences:
            yield (
                at,
                f"the {status} response is not the ErrorResponse envelope: {_summary(differences)}",
                None,
            )


def _is_error_status(status: str) -> bool:
    return status == "default" or status[:1] in ("4", "5")


def _is_health_route(op: Operation) -> bool:
    path = op.path.rstrip("/").lower()
    return op.method == "get" and path.endswith(LIVE_SUFFIXES + READY_SUFFIXES)


def _check_error_envelope(doc: ServiceDocument, shared: SharedContracts) -> Iterator[RawFinding]:
    for op in doc.operations:
        for status, (pointer, response) in op.responses.items():
            if not _is_error_status(status) or status in VALIDATION_STATUSES:
                continue
            if (
                status == "503"
                and _is_health_route(op)
                and _is_health_body(doc, shared, pointer, response)
            ):
                continue
            yield from _envelope_problems(doc, shared, status, pointer, response)


def _check_validation_envelope(
    doc: ServiceDocument, shared: SharedContracts
) -> Iterator[RawFinding]:
    for op in doc.operations:
        present = [s for s in VALIDATION_STATUSES if s in op.responses]
        takes_input = bool(op.parameters) or "requestBody" in op.raw
        if takes_input and not present:
            yield (
                f"{op.pointer}/responses",
                f"{op.label} takes parameters or a body but documents no 422 validation response; document 422 with the ErrorResponse envelope",
                None,
            )
        for status in present:
            pointer, response = op.responses[status]
            yield from _envelope_problems(doc, shared, status, pointer, response)


def _is_health_body(
    doc: ServiceDocument, shared: SharedContracts, pointer: str, response: Mapping[str, Any]
) -> bool:
    bodies = [s for _, s in doc.json_bodies(pointer, response) if s is not None]
    return bool(bodies) and all(not _differences(doc, shared, HEALTH, s) for s in bodies)


def _check_health_endpoint(doc: ServiceDocument, shared: SharedContracts) -> Iterator[RawFinding]:
    live = [
        op
        for op in doc.operations
        if _is_health_route(op) and op.path.rstrip("/").lower().endswith(LIVE_SUFFIXES)
    ]
    ready = [op for op in doc.operations if _is_health_route(op) and op not in live]
    if not live:
        yield (
            "/paths",
            "the service exposes no liveness route (GET /health/live) returning HealthResponse",
            None,
        )
    if not ready:
        yield (
            "/paths",
            "the service exposes no readiness route (GET /health/ready or GET /health) returning HealthResponse",
            None,
        )
    for op in live + ready:
        success = op.responses.get("200")
        if success is None:
            yield (
                f"{op.pointer}/responses",
                f"{op.label} documents no 200 response with HealthResponse",
                None,
            )
            continue
        bodies = [(at, s) for at, s in doc.json_bodies(*success) if s is not None]
        if not bodies:
            yield success[0], f"{op.label} documents no JSON HealthResponse body for 200", None
        for at, schema in bodies:
            differences = _differences(doc, shared, HEALTH, schema)
            if differences:
                yield (
                    at,
                    f"{op.label} does not return HealthResponse: {_summary(differences)}",
                    None,
                )


def _types(schema: Any) -> set[str]:
    kind = schema.get("type") if isinstance(schema, Mapping) else None
    return set(kind) if isinstance(kind, list) else {kind} if isinstance(kind, str) else set()


def _page_candidate(normalized: Any) -> bool:
    items = (
        (normalized.get("properties") or {}).get("items")
        if isinstance(normalized, Mapping)
        else None
    )
    return "array" in _types(items)


def _other_item_contracts(shared: SharedContracts) -> list[str]:
    return sorted(
        name for name in shared.names if name != PAGE and _page_candidate(shared.expected(name))
    )


def _check_pagination(doc: ServiceDocument, shared: SharedContracts) -> Iterator[RawFinding]:
    others = _other_item_contracts(shared)
    for op in doc.operations:
        success = doc.success_response(op)
        if op.method != "get" or _is_health_route(op) or success is None:
            continue
        for at, schema in doc.json_bodies(*success):
            if schema is None:
                continue
            normalized = doc.normalized(schema)
            if "array" in _types(normalized):
                yield (
                    at,
                    f"{op.label} returns a bare array; return the shared page shape (PaginatedResponse[Item]: items plus pagination) and accept page, per_page and page_token",
                    None,
                )
                continue
            if not _page_candidate(normalized) or any(
                not _differences(doc, shared, other, schema) for other in others
            ):
                continue
            differences = _differences(doc, shared, PAGE, schema, "response")
            if differences:
                yield (
                    at,
                    f"{op.label} returns a collection that is not the shared page shape: {_summary(differences)}",
                    None,
                )
            yield from _pagination_parameters(doc, shared, op)


def _pagination_parameters(
    doc: ServiceDocument, shared: SharedContracts, op: Operation
) -> Iterator[RawFinding]:
    query = op.parameters_in("query")
    missing = [name for name in ("per_page",) if name not in query]
    if "page" not in query and "page_token" not in query:
        missing.append("page or page_token")
    if missing:
        where = f"{op.pointer}/parameters" if "parameters" in op.raw else op.pointer
        yield (
            where,
            f"{op.label} returns a page but does not accept the shared pagination query parameters (missing {', '.join(missing)})",
            None,
        )
    expected = shared.expected(PAGE_PARAMS).get("properties", {})
    for name, (pointer, param) in sorted(query.items()):
        if name not in expected or "schema" not in param:
            continue
        want = dict(expected[name])
        # A query string cannot carry null: compare the non-null part only.
        if isinstance(want.get("type"), list):
            want["type"] = [t for t in want["type"] if t != "null"]
        have = dict(doc.normalized(param["schema"]))
        if isinstance(have.get("type"), list):
            have["type"] = [t for t in have["type"] if t != "null"]
        for difference in compatibility_differences(want, have, direction="request"):
            yield (
                f"{pointer}/schema",
                f"query parameter {name!r} {difference.message} (PaginationParams.{name})",
                None,
            )
