"""The conformance rules about shapes: shared components, error envelope, pages, health.

Schemas are judged through `_judge`: a reference to a component taken for a shared contract
counts as the contract (that component is checked once, by `component-compat`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ._compat import compatibility_differences
from ._judge import CONTRACT_KEY, PAGE, SPLIT_SUFFIX, _judge
from ._normalize import SchemaDifference
from ._openapi import Operation, ServiceDocument
from ._rules_basic import RawFinding
from ._schemaset import escape_pointer_token
from ._shared import SharedContracts

__all__: list[str] = []

ERROR_RESPONSE = "ErrorResponse"
PAGE_PARAMS = "PaginationParams"
HEALTH = "HealthResponse"
VALIDATION_STATUSES = ("422", "400")
LIVE_SUFFIXES = ("/health/live", "/health/liveness", "/livez")
READY_SUFFIXES = ("/health/ready", "/health/readiness", "/readyz", "/health", "/healthz")
_SHOWN = 3


def _summary(differences: list[SchemaDifference]) -> str:
    shown = "; ".join(str(d) for d in differences[:_SHOWN])
    more = len(differences) - _SHOWN
    return shown + (f"; and {more} more" if more > 0 else "")


def _check_component_compat(doc: ServiceDocument, shared: SharedContracts) -> Iterator[RawFinding]:
    judge = _judge(doc, shared)
    for name, contract in judge.contracts.items():
        where = f"/components/schemas/{escape_pointer_token(name)}"
        if contract not in shared.names:
            yield (
                f"{where}/{CONTRACT_KEY}",
                f"names {contract!r}, which is not a shared contract",
                None,
            )
            continue
        direction = shared.direction(contract)
        suffix = SPLIT_SUFFIX.search(name)
        if suffix and direction == "both":
            direction = "response" if suffix.group(1) == "Output" else "request"
        for difference in judge.differences(contract, doc.components[name], direction):
            yield (
                f"{where}{difference.pointer}",
                f"{name} is the shared {contract} ({direction}) but {difference.message}; generate it from opsconductor_contracts.{contract}",
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
    # A response defined under components is reported once, whatever status it serves as.
    what = "this error response" if pointer.startswith("/components/") else f"the {status} response"
    bodies = doc.json_bodies(pointer, response)
    if not bodies:
        other = sorted(str(t) for t in (response.get("content") or {}))
        found = f"only as {', '.join(other)}" if other else "without a body"
        yield (
            pointer,
            f"{what} is documented {found}; document the ErrorResponse envelope as application/problem+json (or application/json)",
            None,
        )
        return
    with_schema = [(at, schema) for at, schema in bodies if schema is not None]
    if not with_schema:
        yield pointer, f"{what} documents no schema; use the ErrorResponse envelope", None
    judge = _judge(doc, shared)
    for at, schema in with_schema:
        if _looks_like_fastapi_validation(judge.normalized(schema)):
            yield (
                at,
                f"{what} is FastAPI's HTTPValidationError ({{detail: [{{loc, msg, type}}]}}), not the ErrorResponse envelope; use the runtime's exception handlers and document it with ErrorResponse",
                None,
            )
            continue
        differences = judge.differences(ERROR_RESPONSE, schema, "response")
        if differences:
            yield at, f"{what} is not the ErrorResponse envelope: {_summary(differences)}", None


def _is_error_status(status: str) -> bool:
    return status == "default" or status[:1] in ("4", "5")


def _route(op: Operation) -> str:
    return op.path.rstrip("/").lower() if op.method == "get" else ""


def _is_health_route(op: Operation) -> bool:
    return bool(_route(op)) and _route(op).endswith(LIVE_SUFFIXES + READY_SUFFIXES)


def _is_health_body(
    doc: ServiceDocument, shared: SharedContracts, pointer: str, response: Mapping[str, Any]
) -> bool:
    judge = _judge(doc, shared)
    bodies = [s for _, s in doc.json_bodies(pointer, response) if s is not None]
    return bool(bodies) and all(not judge.differences(HEALTH, s) for s in bodies)


def _check_error_envelope(doc: ServiceDocument, shared: SharedContracts) -> Iterator[RawFinding]:
    for op in doc.operations:
        for status, (pointer, response) in op.responses.items():
            if not _is_error_status(status) or status in VALIDATION_STATUSES:
                continue
            readiness_503 = status == "503" and _is_health_route(op)
            if readiness_503 and _is_health_body(doc, shared, pointer, response):
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


def _check_health_endpoint(doc: ServiceDocument, shared: SharedContracts) -> Iterator[RawFinding]:
    live = [op for op in doc.operations if _route(op).endswith(LIVE_SUFFIXES)]
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
    judge = _judge(doc, shared)
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
            differences = judge.differences(HEALTH, schema)
            if differences:
                yield (
                    at,
                    f"{op.label} does not return HealthResponse: {_summary(differences)}",
                    None,
                )


def _types(schema: Any) -> set[str]:
    kind = schema.get("type") if isinstance(schema, Mapping) else None
    if isinstance(kind, list):
        return set(kind)
    return {kind} if isinstance(kind, str) else set()


def _page_candidate(normalized: Any) -> bool:
    if not isinstance(normalized, Mapping):
        return False
    return "array" in _types((normalized.get("properties") or {}).get("items"))


def _check_pagination(doc: ServiceDocument, shared: SharedContracts) -> Iterator[RawFinding]:
    judge = _judge(doc, shared)
    # Shared shapes with an `items` array that are not pages (BulkOperationResult).
    others = sorted(n for n in shared.names if n != PAGE and _page_candidate(shared.expected(n)))
    for op in doc.operations:
        success = doc.success_response(op)
        if op.method != "get" or _is_health_route(op) or success is None:
            continue
        for at, schema in doc.json_bodies(*success):
            normalized = judge.normalized(schema) if schema is not None else None
            if "array" in _types(normalized):
                yield (
                    at,
                    f"{op.label} returns a bare array; return the shared page shape (PaginatedResponse[Item]: items plus pagination) and accept page, per_page and page_token",
                    None,
                )
                continue
            if not _page_candidate(normalized) or any(
                not judge.differences(other, schema) for other in others
            ):
                continue
            differences = judge.differences(PAGE, schema, "response")
            if differences:
                yield (
                    at,
                    f"{op.label} returns a collection that is not the shared page shape: {_summary(differences)}",
                    None,
                )
            yield from _pagination_parameters(doc, shared, op)


def _without_null(schema: Any) -> Any:
    if isinstance(schema, Mapping) and isinstance(schema.get("type"), list):
        return {**schema, "type": [t for t in schema["type"] if t != "null"]}
    return schema


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
    judge = _judge(doc, shared)
    for name, (pointer, param) in sorted(query.items()):
        if name not in expected or "schema" not in param:
            continue
        # A query string cannot carry null: compare the non-null part only.
        want = _without_null(expected[name])
        have = _without_null(judge.normalized(param["schema"]))
        for difference in compatibility_differences(want, have, direction="request"):
            yield (
                f"{pointer}/schema",
                f"query parameter {name!r} {difference.message} (PaginationParams.{name})",
                None,
            )
