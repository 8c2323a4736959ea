"""Migration findings: the shapes of the old `shared` package, each with its fix (issue 17).

A service written against the old package documents shapes the contracts replaced. Each
rule here finds one of them, says what it is, and how to move off it (most of them the
`opsconductor-migrate` codemod rewrites; the message says when it does not):

    legacy-error-envelope     {"error": {code, message, status_code}} error bodies
    legacy-detail-error       {"detail": "..."} error bodies (FastAPI's HTTPValidationError is
                              `validation-envelope`'s)
    legacy-page               {data, meta}, {data, count} and {<plural>, total} pages (the
                              list shapes of `pages`, which `pagination` shares)
    legacy-skip-limit         skip/limit query parameters
    legacy-success-envelope   {success, timestamp, data, message} success bodies
    legacy-create-status      POSTs that create (on a collection with an item route) answering
                              200 where the others answer 201
    legacy-compat-mode        the runtime's compatibility mode is on (x-opsconductor-legacy-errors)

They are warnings: the general rules (`error-envelope`, `pagination`, ...) already fail a
document for the drift itself; these name it as a step of the migration. Their ids share the
`legacy-` prefix (`is_migration_rule`), so reports and the fleet view count migration
findings apart.
A schema is judged once where it is defined: a finding on a referenced component points at
the component, so a shape shared by many operations is one finding.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .document import Operation, ServiceDocument, SharedContracts, contract_view
from .normalize import schema_types
from .pages import SHARED_PAGE_SHAPE, list_shape
from .report import Severity
from .rules import RULES, VALIDATE, Hit, rule
from .schemaset import escape_pointer_token

__all__ = ["LEGACY_ERRORS_EXTENSION", "MIGRATION_RULES", "is_migration_rule"]

LEGACY_ERRORS_EXTENSION = "x-opsconductor-legacy-errors"
"""The `info` member the runtime writes while its compatibility mode is on."""
W = Severity.WARNING
STANDARD = "StandardResponse"
_CODEMOD = "opsconductor-migrate rewrites this"
_PREFIX = "legacy-"


def is_migration_rule(rule_id: str) -> bool:
    """Whether a rule id is one of the migration rules of this module."""
    return rule_id.startswith(_PREFIX)


def _schemas(
    doc: ServiceDocument, pointer: str, response: Mapping[str, Any]
) -> Iterator[tuple[str, Any]]:
    """(pointer, normalised schema) of a response's JSON bodies; a body that refers to a
    component is given the component's pointer, so it is reported once."""
    for at, schema in doc.json_bodies(pointer, response):
        if schema is None:
            continue
        ref = schema.get("$ref") if isinstance(schema, Mapping) else None
        where = ref[1:] if isinstance(ref, str) and ref.startswith("#/") else at
        yield where, doc.normalized(schema)


def _properties(schema: Any) -> Mapping[str, Any]:
    props = schema.get("properties") if isinstance(schema, Mapping) else None
    return props if isinstance(props, Mapping) else {}


def _is(schema: Any, kind: str) -> bool:
    return kind in schema_types(schema)


def _is_error_status(status: str) -> bool:
    return status == "default" or status[:1] in ("4", "5")


def _success(doc: ServiceDocument, op: Operation) -> Iterator[tuple[str, Any]]:
    found = doc.success_response(op)
    if found is not None:
        yield from _schemas(doc, *found)


def _error_bodies(doc: ServiceDocument) -> Iterator[tuple[str, Any]]:
    for op in doc.operations:
        for status, (pointer, response) in op.responses.items():
            if _is_error_status(status):
                yield from _schemas(doc, pointer, response)


@rule(
    "legacy-error-envelope",
    VALIDATE,
    W,
    "Migration: an error body is the old {error: {code, message, status_code}} envelope; raise the library's exceptions, which answer the shared ErrorResponse.",
)
def _check_error_envelope(doc: ServiceDocument, _shared: SharedContracts) -> Iterator[Hit]:
    for at, schema in _error_bodies(doc):
        error = _properties(schema).get("error")
        if set(_properties(error)) & {"code", "message", "status_code"} >= {"message"}:
            yield (
                at,
                "the old error envelope {error: {code, message, status_code}}; fix: raise the library's exceptions (ConflictError(detail, code=...), ...), which answer application/problem+json with code and detail at the top level (body['error']['message'] becomes body['detail']; while callers are old, the compatibility mode adds the old member); "
                + _CODEMOD,
                None,
            )


@rule(
    "legacy-detail-error",
    VALIDATE,
    W,
    "Migration: an error body is the old {detail: ...} (FastAPI's HTTPException) instead of the shared ErrorResponse.",
)
def _check_detail_error(doc: ServiceDocument, _shared: SharedContracts) -> Iterator[Hit]:
    for at, schema in _error_bodies(doc):
        props = _properties(schema)
        # FastAPI's HTTPValidationError ({detail: [{loc, msg, type}]}) is validation-envelope's.
        if (
            "detail" in props
            and not _is(props["detail"], "array")
            and not {
                "code",
                "status",
                "type",
                "title",
            }
            & set(props)
        ):
            yield (
                at,
                "the old {detail: ...} error body; fix: build the app with create_service_app, whose handlers answer every error (404, 405, 422, HTTPException) as ErrorResponse with code and errors[]; {_CODEMOD} (HTTPException raises to the library's exceptions)",
                None,
            )


@rule(
    "legacy-page",
    VALIDATE,
    W,
    "Migration: a list answers a legacy page ({data, meta}, {data, count} or {<plural>, total}) instead of the shared PaginatedResponse[T].",
)
def _check_page(doc: ServiceDocument, _shared: SharedContracts) -> Iterator[Hit]:
    for op in doc.operations:
        if op.method != "get":
            continue
        for at, schema in _success(doc, op):
            shape = list_shape(schema, op.parameters_in("query"))
            if shape is None or shape.legacy is None:
                continue
            how = (
                "opsconductor-migrate rewrites a {<plural>, total} page whose response model names the item type"
                if shape.others == ("total",)
                else f"the codemod leaves the {shape.legacy} page to you"
            )
            yield (
                at,
                f"{op.label} answers the legacy {shape.legacy} page ({shape.origin}); fix: return the shared page shape {SHARED_PAGE_SHAPE}: response_model=PaginatedResponse[Item], return PaginatedResponse[Item].from_offset(items, page=..., per_page=..., total_items=...); {how}",
                None,
            )


@rule(
    "legacy-skip-limit",
    VALIDATE,
    W,
    "Migration: a list takes the old skip/limit query parameters instead of page and per_page.",
)
def _check_skip_limit(doc: ServiceDocument, _shared: SharedContracts) -> Iterator[Hit]:
    for op in doc.operations:
        query = op.parameters_in("query")
        if "skip" in query and "limit" in query:
            yield (
                query["skip"][0],
                f"{op.label} takes skip and limit; fix: page: PaginationQuery (page, per_page up to 1000, page_token) and skip, limit = (page.page - 1) * page.per_page, page.per_page; callers send page/per_page; {_CODEMOD} on lists it recognises",
                None,
            )


@rule(
    "legacy-success-envelope",
    VALIDATE,
    W,
    "Migration: a success body is the old {success, timestamp, data, message} envelope instead of the payload itself.",
)
def _check_success_envelope(doc: ServiceDocument, shared: SharedContracts) -> Iterator[Hit]:
    view = contract_view(doc, shared)
    for op in doc.operations:
        found = doc.success_response(op)
        if found is None:
            continue
        for at, raw in doc.json_bodies(*found):
            if raw is None:
                continue
            props = _properties(doc.normalized(raw))
            # The shared StandardResponse (success, message, request_id, timestamp, data) is
            # the old envelope's successor for acknowledgements, not a legacy shape.
            if STANDARD in shared.names and view.compatible(STANDARD, raw, "response"):
                continue
            if _is(props.get("success"), "boolean") and "data" in props:
                yield (
                    at,
                    f"{op.label} answers the old success envelope {{success, timestamp, data, message}}; fix: return the payload (response_model=Item), a deletion answers 204; {_CODEMOD} (create_success_response(data=x) becomes x)",
                    None,
                )


def _item_paths(doc: ServiceDocument) -> set[str]:
    """The collections that have an item route: `/targets` for `/targets/{target_id}`."""
    return {
        op.path.rstrip("/").rsplit("/", 1)[0]
        for op in doc.operations
        if op.path.rstrip("/").rsplit("/", 1)[-1].startswith("{")
    }


def _creates(doc: ServiceDocument) -> list[Operation]:
    """POSTs that create: on a collection with an item route (`POST /targets` next to
    `/targets/{target_id}`), not actions such as `POST /auth/login`."""
    collections = _item_paths(doc)
    return [
        op for op in doc.operations if op.method == "post" and op.path.rstrip("/") in collections
    ]


@rule(
    "legacy-create-status",
    VALIDATE,
    W,
    "Migration: POSTs that create answer 200 in a service whose other creating POSTs answer 201.",
)
def _check_create_status(doc: ServiceDocument, _shared: SharedContracts) -> Iterator[Hit]:
    creates = [(op, sorted(s for s in op.responses if s in ("200", "201"))) for op in _creates(doc)]
    if not any(codes == ["201"] for _, codes in creates):
        return
    for op, codes in creates:
        if codes == ["200"]:
            yield (
                f"{op.pointer}/responses/200",
                f"{op.label} answers 200 where the service's other creating POSTs answer 201; fix: status_code=201 on the route, once its callers accept 201 (a caller-visible change: the codemod lists it, it does not make it)",
                None,
            )


@rule(
    "legacy-compat-mode",
    VALIDATE,
    W,
    "Migration: the runtime's compatibility mode (the old error member in every error body) is on; turn it off once every caller reads the shared envelope.",
)
def _check_compat_mode(doc: ServiceDocument, _shared: SharedContracts) -> Iterator[Hit]:
    info = doc.document.get("info")
    if isinstance(info, Mapping) and info.get(LEGACY_ERRORS_EXTENSION) is True:
        yield (
            f"/info/{escape_pointer_token(LEGACY_ERRORS_EXTENSION)}",
            "the compatibility mode is on: every error body carries the old error member too; fix: once every caller reads code and detail, set <PREFIX>_LEGACY_ERROR_MEMBER=false (ServiceSettings.legacy_error_member)",
            None,
        )


MIGRATION_RULES: tuple[str, ...] = tuple(
    known.id for known in RULES.rules(VALIDATE) if is_migration_rule(known.id)
)
"""The ids of the migration rules, in the order they are listed."""
