"""The rules: one registry, the `validate` rules over services' documents, and the schema lint.

Every rule is registered where its check is defined, by a decorator that gives its stable
kebab-case id, the command that runs it (`kind`), its default severity and a one-line summary::

    @rule("operation-id", VALIDATE, Severity.WARNING, "Every operation has an operationId ...")
    def _check_operation_id(doc: ServiceDocument, shared: SharedContracts) -> Iterator[Hit]: ...

so adding a rule is one edit. A check may carry several rules when one walk finds them all
(stacked decorators, listed top to bottom); a `stage` rule is found by a stage of its command
itself (loading, comparing, the version verdict) rather than by a check the command runs per
item. `RULES` lists them for `opsconductor-contracts rules`, the SARIF and JUnit outputs and the
configuration; the `breaking` rules register in `breaking`.

`validate` checks take a `ServiceDocument` and the `SharedContracts` and yield hits (pointer,
message, severity or None for the rule's default). Schemas are judged through the document's
`ContractView`: a reference to a component taken for a shared contract counts as the contract
(that component is checked once, by `component-compat`), and the view alone decides which
differences are tolerated (an optional property added after the contracts version the document
declares): every rule reports those as infos and every other difference at its severity.

`lint` checks take one component of a contract schema directory and yield `LintFinding`s: every
component and property described, examples present and valid, enums as components, optional
properties with a default or null, `x-opsconductor-since` a release of this major version.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from .document import (
    CONTRACT_KEY,
    PAGE,
    SINCE_KEY,
    SPLIT_SUFFIX,
    VERSION_KEY,
    ContractView,
    Operation,
    ServiceDocument,
    SharedContracts,
    contract_view,
    requires_credentials,
)
from .normalize import SchemaDifference, compatibility_differences, schema_types
from .pages import SHARED_PAGE_SHAPE, list_shape
from .report import Severity
from .schemaset import (
    SchemaDocument,
    SchemaSet,
    SchemaSetError,
    escape_pointer_token,
    join_pointer,
    load_schema_dir,
    parse_semver,
)

__all__ = [
    "BREAKING",
    "Hit",
    "LINT",
    "LintFinding",
    "RULES",
    "Rule",
    "RuleKind",
    "RuleRegistry",
    "VALIDATE",
    "lint_schema_dir",
    "rule",
]

RuleKind = Literal["validate", "breaking", "lint"]
"""The command that runs a rule, which also says what its check is given."""
VALIDATE: RuleKind = "validate"
BREAKING: RuleKind = "breaking"
LINT: RuleKind = "lint"
_RULE_ID = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Rule:
    """A rule: stable kebab-case id, the command that runs it, default severity, and its check."""

    id: str
    kind: RuleKind
    severity: Severity
    summary: str
    check: Callable[..., Any] = field(repr=False, compare=False)
    stage: bool = False


class RuleRegistry:
    """Every rule, in the order they are listed (see the module docstring)."""

    def __init__(self) -> None:
        self._rules: list[Rule] = []

    def rule(
        self, rule_id: str, kind: RuleKind, severity: Severity, summary: str, *, stage: bool = False
    ) -> Callable[[F], F]:
        """Register the decorated function as the check of rule `rule_id`.

        Raises:
            ValueError: the id is not kebab-case, or is registered already.
        """

        def register(check: F) -> F:
            if not _RULE_ID.match(rule_id):
                raise ValueError(f"rule id {rule_id!r} is not kebab-case")
            if any(known.id == rule_id for known in self._rules):
                raise ValueError(f"rule {rule_id!r} is registered twice")
            # Stacked decorators run bottom-up: a rule written above another on the same check
            # goes before it, so rules are listed as they are written.
            index = next(
                (i for i, known in enumerate(self._rules) if known.check is check),
                len(self._rules),
            )
            self._rules.insert(index, Rule(rule_id, kind, severity, summary, check, stage))
            return check

        return register

    def rules(self, *kinds: RuleKind) -> tuple[Rule, ...]:
        """The rules of these kinds (default: every rule), in the order they are listed."""
        return tuple(known for known in self._rules if not kinds or known.kind in kinds)

    def checks(self, kind: RuleKind) -> tuple[Callable[..., Any], ...]:
        """The checks a command runs per item (stage rules aside), each once, in order."""
        checks = (known.check for known in self._rules if known.kind == kind and not known.stage)
        return tuple(dict.fromkeys(checks))

    def __getitem__(self, rule_id: str) -> Rule:
        for known in self._rules:
            if known.id == rule_id:
                return known
        raise KeyError(rule_id)


RULES = RuleRegistry()
"""The registry of every rule of every command."""
rule = RULES.rule

Hit = tuple[str, str, Severity | None]
"""(pointer, message, severity or None for the rule's default) as a `validate` check yields it."""
E, W = Severity.ERROR, Severity.WARNING
ERROR_RESPONSE = "ErrorResponse"
PAGE_PARAMS = "PaginationParams"
HEALTH = "HealthResponse"
VALIDATION_STATUSES = ("422", "400")
LIVE_SUFFIXES = ("/health/live", "/health/liveness", "/livez")
READY_SUFFIXES = ("/health/ready", "/health/readiness", "/readyz", "/health", "/healthz")
_SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
_SHOWN = 3


def _summary(differences: list[SchemaDifference]) -> str:
    shown = "; ".join(str(d) for d in differences[:_SHOWN])
    more = len(differences) - _SHOWN
    return shown + (f"; and {more} more" if more > 0 else "")


def _added_since(view: ContractView, differences: list[SchemaDifference]) -> str:
    """Why tolerated differences are compatible: the releases that added them, and the declared one."""
    releases = ", ".join(sorted({str(d.added_in) for d in differences}))
    declared = view.doc.declared_contracts
    return (
        f"added in contracts {releases}; this document declares {declared[1] if declared else '?'}"
    )


def _judged_hits(
    view: ContractView,
    at: str,
    differences: list[SchemaDifference],
    *,
    mismatch: str,
    older: str,
    severity: Severity | None = None,
) -> Iterator[Hit]:
    """One hit for the differences that are incompatible, at the rule's severity (or
    `severity`), and one info for those the view tolerates; nothing when there are none.

    Args:
        mismatch: what the incompatible differences mean (`the 500 response is not the
            ErrorResponse envelope`).
        older: what the tolerated ones mean (`the 500 response is the ErrorResponse envelope
            of an earlier minor release`).
    """
    incompatible = [d for d in differences if not d.tolerated]
    if incompatible:
        yield at, f"{mismatch}: {_summary(incompatible)}", severity
    tolerated = [d for d in differences if d.tolerated]
    if tolerated:
        yield (
            at,
            f"{older}: {_summary(tolerated)} ({_added_since(view, tolerated)}): compatible",
            Severity.INFO,
        )


@rule(
    "component-compat",
    VALIDATE,
    E,
    "A component that is a shared contract (same name and structure, x-opsconductor-contract, a FastAPI generic such as Page_Target_, or a page by structure) is compatible with it in the contract's direction; the finding says how it was matched. An optional contract property it does not list is an info when a release later than the one the document declares added it (x-opsconductor-since), an error otherwise.",
)
def _check_component_compat(doc: ServiceDocument, shared: SharedContracts) -> Iterator[Hit]:
    view = contract_view(doc, shared)
    for name, (contract, how) in view.matches.items():
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
        for difference in view.differences(contract, doc.components[name], direction):
            if difference.tolerated:
                yield (
                    f"{where}{difference.pointer}",
                    f"{name} is taken for the shared {contract} ({how}; {direction}) and {difference.message}, {_added_since(view, [difference])}: compatible, as a minor release promises; regenerate it from opsconductor_contracts.{contract} to document it",
                    Severity.INFO,
                )
                continue
            yield (
                f"{where}{difference.pointer}",
                f"{name} is taken for the shared {contract} ({how}; {direction}) but {difference.message}; generate it from opsconductor_contracts.{contract}",
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
) -> Iterator[Hit]:
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
    view = contract_view(doc, shared)
    for at, schema in with_schema:
        if _looks_like_fastapi_validation(view.normalized(schema)):
            yield (
                at,
                f"{what} is FastAPI's HTTPValidationError ({{detail: [{{loc, msg, type}}]}}), not the ErrorResponse envelope; use the runtime's exception handlers and document it with ErrorResponse",
                None,
            )
            continue
        yield from _judged_hits(
            view,
            at,
            view.differences(ERROR_RESPONSE, schema, "response"),
            mismatch=f"{what} is not the ErrorResponse envelope",
            older=f"{what} is the ErrorResponse envelope of an earlier minor release",
        )


def _is_error_status(status: str) -> bool:
    return status == "default" or status[:1] in ("4", "5")


def _route(op: Operation) -> str:
    return op.path.rstrip("/").lower() if op.method == "get" else ""


def _is_health_route(op: Operation) -> bool:
    return bool(_route(op)) and _route(op).endswith(LIVE_SUFFIXES + READY_SUFFIXES)


def _is_health_body(
    doc: ServiceDocument, shared: SharedContracts, pointer: str, response: Mapping[str, Any]
) -> bool:
    view = contract_view(doc, shared)
    bodies = [s for _, s in doc.json_bodies(pointer, response) if s is not None]
    return bool(bodies) and all(view.compatible(HEALTH, s) for s in bodies)


@rule(
    "error-envelope",
    VALIDATE,
    E,
    "Every 4xx, 5xx and default response (422/400 aside) has a JSON body with the shared ErrorResponse envelope, as application/problem+json or application/json.",
)
def _check_error_envelope(doc: ServiceDocument, shared: SharedContracts) -> Iterator[Hit]:
    for op in doc.operations:
        for status, (pointer, response) in op.responses.items():
            if not _is_error_status(status) or status in VALIDATION_STATUSES:
                continue
            readiness_503 = status == "503" and _is_health_route(op)
            if readiness_503 and _is_health_body(doc, shared, pointer, response):
                continue
            yield from _envelope_problems(doc, shared, status, pointer, response)


@rule(
    "validation-envelope",
    VALIDATE,
    E,
    "An operation with parameters or a body documents 422 (or 400), and it is the ErrorResponse envelope, not FastAPI's HTTPValidationError.",
)
def _check_validation_envelope(doc: ServiceDocument, shared: SharedContracts) -> Iterator[Hit]:
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


@rule(
    "pagination",
    VALIDATE,
    E,
    "A GET returning a collection (a bare array, or an object whose one array property holds the resources, with paging parameters or metadata beside it) returns the shared page shape and accepts per_page with page or page_token.",
)
def _check_pagination(doc: ServiceDocument, shared: SharedContracts) -> Iterator[Hit]:
    view = contract_view(doc, shared)
    # Shared shapes with one array that are not pages (BulkOperationResult).
    others = sorted(n for n in shared.names if n != PAGE and _has_one_array(shared.expected(n)))
    for op in doc.operations:
        success = doc.success_response(op)
        if op.method != "get" or _is_health_route(op) or success is None:
            continue
        for at, schema in doc.json_bodies(*success):
            normalized = view.normalized(schema) if schema is not None else None
            if "array" in schema_types(normalized):
                yield (
                    at,
                    f"{op.label} returns a bare array; return the shared page shape {SHARED_PAGE_SHAPE} and accept page, per_page and page_token",
                    None,
                )
                continue
            shape = list_shape(normalized, op.parameters_in("query"))
            if shape is None or any(view.compatible(other, schema) for other in others):
                continue
            # The old shared module's pages are migration findings (legacy-page says how to
            # move): a warning here, so a service mid-migration is not failed twice.
            yield from _judged_hits(
                view,
                at,
                view.differences(PAGE, schema, "response"),
                mismatch=f"{op.label} returns a list as {shape}, not the shared page shape {SHARED_PAGE_SHAPE}",
                older=f"{op.label} returns the shared page shape of an earlier minor release",
                severity=Severity.WARNING if shape.is_legacy else None,
            )
            if not shape.is_legacy:  # its skip/limit are legacy-skip-limit's
                yield from _pagination_parameters(doc, shared, op)


def _has_one_array(normalized: Any) -> bool:
    properties = normalized.get("properties") if isinstance(normalized, Mapping) else None
    if not isinstance(properties, Mapping):
        return False
    return sum("array" in schema_types(sub) for sub in properties.values()) == 1


def _without_null(schema: Any) -> Any:
    if isinstance(schema, Mapping) and isinstance(schema.get("type"), list):
        return {**schema, "type": [t for t in schema["type"] if t != "null"]}
    return schema


def _pagination_parameters(
    doc: ServiceDocument, shared: SharedContracts, op: Operation
) -> Iterator[Hit]:
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
    view = contract_view(doc, shared)
    for name, (pointer, param) in sorted(query.items()):
        if name not in expected or "schema" not in param:
            continue
        # A query string cannot carry null: compare the non-null part only.
        want = _without_null(expected[name])
        have = _without_null(view.normalized(param["schema"]))
        found = compatibility_differences(want, have, direction="request")
        for difference in view.judge(
            PAGE_PARAMS, found, at=f"/properties/{escape_pointer_token(name)}"
        ):
            yield (
                f"{pointer}/schema",
                f"query parameter {name!r} {difference.message} (PaginationParams.{name})",
                Severity.INFO if difference.tolerated else None,
            )


@rule(
    "health-endpoint",
    VALIDATE,
    E,
    "The service exposes GET /health/live and GET /health/ready (or /health), each returning HealthResponse.",
)
def _check_health_endpoint(doc: ServiceDocument, shared: SharedContracts) -> Iterator[Hit]:
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
    view = contract_view(doc, shared)
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
            yield from _judged_hits(
                view,
                at,
                view.differences(HEALTH, schema),
                mismatch=f"{op.label} does not return HealthResponse",
                older=f"{op.label} returns the HealthResponse of an earlier minor release",
            )


@rule(
    "security-declared",
    VALIDATE,
    W,
    "Every operation declares a security requirement or is marked x-public: true; the schemes exist; secured operations document 401.",
)
def _check_security_declared(doc: ServiceDocument, _shared: SharedContracts) -> Iterator[Hit]:
    for op in doc.operations:
        public = op.raw.get("x-public") is True
        where, requirements = doc.security_of(op)
        secured = requires_credentials(requirements)
        if public and secured:
            inherited = "security" not in op.raw
            fix = "add `security: []` to the operation" if inherited else "drop one of the two"
            what = "inherits the global security requirement" if inherited else "declares security"
            yield (
                f"{op.pointer}/x-public",
                f"{op.label} is marked x-public: true but {what}; {fix}",
                None,
            )
        elif not public and not secured:
            yield (
                op.pointer,
                f"{op.label} declares no security requirement; declare one (security: [{{scheme: []}}]) or mark it public with x-public: true",
                None,
            )
        for index, requirement in enumerate(requirements if isinstance(requirements, list) else []):
            for scheme in requirement if isinstance(requirement, Mapping) else ():
                if scheme not in doc.security_schemes:
                    yield (
                        f"{where}/{index}",
                        f"security scheme {scheme!r} is not defined in components.securitySchemes",
                        None,
                    )
        if secured and not public and not op.documents("401"):
            yield (
                f"{op.pointer}/responses",
                f"{op.label} requires credentials but does not document 401; add it with the ErrorResponse envelope",
                None,
            )


@rule(
    "documented-errors",
    VALIDATE,
    W,
    "Operations with path parameters document 404; secured operations document 403.",
)
def _check_documented_errors(doc: ServiceDocument, _shared: SharedContracts) -> Iterator[Hit]:
    for op in doc.operations:
        if op.parameters_in("path") and not op.documents("404"):
            yield (
                f"{op.pointer}/responses",
                f"{op.label} has path parameters but does not document 404; add it with the ErrorResponse envelope",
                None,
            )
        if doc.is_secured(op) and not op.documents("403"):
            yield (
                f"{op.pointer}/responses",
                f"{op.label} requires credentials but does not document 403; add it with the ErrorResponse envelope",
                None,
            )


@rule("operation-id", VALIDATE, W, "Every operation has an operationId, unique and snake_case.")
def _check_operation_id(doc: ServiceDocument, _shared: SharedContracts) -> Iterator[Hit]:
    seen: dict[str, str] = {}
    for op in doc.operations:
        operation_id = op.raw.get("operationId")
        if not isinstance(operation_id, str) or not operation_id:
            yield (
                op.pointer,
                f"{op.label} has no operationId; give it a unique snake_case one (FastAPI: operation_id=... or generate_unique_id_function=lambda route: route.name)",
                None,
            )
            continue
        if not _SNAKE_CASE.match(operation_id):
            hint = (
                " (this is FastAPI's generated id: set operation_id=... or generate_unique_id_function=lambda route: route.name)"
                if "__" in operation_id
                else ""
            )
            yield (
                f"{op.pointer}/operationId",
                f"operationId {operation_id!r} is not snake_case (lower-case words joined by single underscores){hint}",
                None,
            )
        if operation_id in seen:
            yield (
                f"{op.pointer}/operationId",
                f"operationId {operation_id!r} is also used by {seen[operation_id]}; operation ids must be unique",
                None,
            )
        else:
            seen[operation_id] = op.label


@rule(
    "contracts-version",
    VALIDATE,
    W,
    "The document declares info.x-opsconductor-contracts; a different major version than the shared contracts is an error.",
)
def _check_contracts_version(doc: ServiceDocument, shared: SharedContracts) -> Iterator[Hit]:
    found = doc.declared_contracts
    if found is None:
        yield (
            "/info",
            f"the document does not say which contracts version it was built against; add info.{VERSION_KEY}: {shared.version!r}",
            None,
        )
        return
    where, value = found
    declared = parse_semver(value)
    if declared is None:
        yield where, f"{value!r} is not a semantic version such as {shared.version!r}", None
        return
    major, minor, _ = declared
    shared_minor = (parse_semver(shared.version) or (0, 0, 0))[1]
    if major != shared.major:
        yield (
            where,
            f"built against contracts {value}, but these are {shared.version}: a different major version is incompatible; upgrade opsconductor-shared and rebuild",
            Severity.ERROR,
        )
    elif minor > shared_minor:
        yield (
            where,
            f"built against contracts {value}, newer than the {shared.version} this tool checks against; upgrade opsconductor-shared",
            Severity.INFO,
        )


@dataclass(frozen=True, order=True)
class LintFinding:
    """One lint finding: which rule, in which file, at which JSON pointer, and what to do."""

    file: Path
    pointer: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}#{self.pointer}: [{self.rule}] {self.message}"


_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SUBSCHEMA_VALUES = ("items", "additionalProperties", "not", "contains")


def _admits_null(schema: Mapping[str, Any]) -> bool:
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    return any(
        isinstance(member, Mapping) and _admits_null(member)
        for key in ("anyOf", "oneOf")
        for member in schema.get(key, [])
    )


def _component_pointer(name: str) -> str:
    return f"/components/schemas/{escape_pointer_token(name)}"


def _subschemas(
    schema: Mapping[str, Any], pointer: str
) -> Iterator[tuple[str, Mapping[str, Any], bool]]:
    """Nested schemas as (pointer, schema, is_property) without following `$ref`s."""
    for name, sub in (schema.get("properties") or {}).items():
        if isinstance(sub, Mapping):
            yield f"{pointer}/properties/{escape_pointer_token(name)}", sub, True
    for key in _SUBSCHEMA_VALUES:
        sub = schema.get(key)
        if isinstance(sub, Mapping):
            yield f"{pointer}/{key}", sub, False
    for key in _SUBSCHEMA_LISTS:
        for index, sub in enumerate(schema.get(key) or []):
            if isinstance(sub, Mapping):
                yield f"{pointer}/{key}/{index}", sub, False


@rule("missing-description", LINT, E, "every component and property has a description")
@rule("inline-enum", LINT, E, "enums of several values are components of their own")
@rule("optional-without-default", LINT, E, "an optional property has a default or admits null")
def _lint_schema(
    _schemaset: SchemaSet, name: str, document: SchemaDocument, schema: Mapping[str, Any]
) -> Iterator[LintFinding]:
    file = document.path
    pointer = _component_pointer(name)
    stack: list[tuple[str, Mapping[str, Any], bool, bool]] = [(pointer, schema, True, False)]
    while stack:
        where, node, component, is_property = stack.pop()
        described = isinstance(node.get("description"), str) and node["description"].strip()
        if (component or is_property) and not described:
            what = "component" if component else "property"
            yield LintFinding(
                file,
                where,
                "missing-description",
                f"this {what} has no description; add one that says what it means",
            )
        enum = node.get("enum")
        if not component and isinstance(enum, list) and len(enum) > 1:
            yield LintFinding(
                file,
                where,
                "inline-enum",
                "this enum is inline; make it a component of its own and $ref it, so its generated name is stable",
            )
        required = set(node.get("required") or [])
        for prop_name, prop in (node.get("properties") or {}).items():
            if (
                isinstance(prop, Mapping)
                and prop_name not in required
                and "default" not in prop
                and "$ref" not in prop
                and not _admits_null(prop)
            ):
                yield LintFinding(
                    file,
                    f"{where}/properties/{escape_pointer_token(prop_name)}",
                    "optional-without-default",
                    f"optional property {prop_name!r} has no default and does not admit null; a model would serialise it as null, which the schema rejects",
                )
        stack.extend(
            (sub_pointer, sub, False, prop) for sub_pointer, sub, prop in _subschemas(node, where)
        )


@rule(
    "since-version",
    LINT,
    E,
    "x-opsconductor-since marks a property only, with the release of this major version (no later than the file's) that added it",
)
def _lint_since(
    _schemaset: SchemaSet, name: str, document: SchemaDocument, schema: Mapping[str, Any]
) -> Iterator[LintFinding]:
    file, version = document.path, parse_semver(document.version)
    stack: list[tuple[str, Mapping[str, Any], bool]] = [(_component_pointer(name), schema, False)]
    while stack:
        where, node, is_property = stack.pop()
        if SINCE_KEY in node:
            value, since = node[SINCE_KEY], parse_semver(node[SINCE_KEY])
            if not is_property:
                problem = "it marks a property (the release that added the property), not a component or another schema; remove it here"
            elif since is None:
                problem = f"{value!r} is not a semantic version; name the release that added this property, such as {document.version!r}"
            elif version is not None and (since[0] != version[0] or since > version):
                problem = f"{value!r} is not a release of these contracts up to {document.version}; name the release that added this property"
            else:
                problem = ""
            if problem:
                yield LintFinding(file, f"{where}/{SINCE_KEY}", "since-version", problem)
        stack.extend(
            (sub_pointer, sub, prop) for sub_pointer, sub, prop in _subschemas(node, where)
        )


@rule("missing-example", LINT, E, "every component has at least one example")
@rule("invalid-example", LINT, E, "every example validates against its component")
def _lint_examples(
    schemaset: SchemaSet, name: str, document: SchemaDocument, schema: Mapping[str, Any]
) -> Iterator[LintFinding]:
    file, pointer = document.path, _component_pointer(name)
    examples = schema.get("examples")
    if not isinstance(examples, list) or not examples:
        yield LintFinding(
            file,
            pointer,
            "missing-example",
            "this component has no examples; add at least one under `examples`",
        )
        return
    validator = schemaset.validator(name)
    for index, example in enumerate(examples):
        for error in validator.iter_errors(example):
            yield LintFinding(
                file,
                f"{pointer}/examples/{index}{join_pointer(error.absolute_path)}",
                "invalid-example",
                f"example does not validate: {error.message}",
            )


@rule(
    "schema-invalid",
    LINT,
    E,
    "the directory loads: valid YAML, OpenAPI 3.1, JSON Schema, $refs, one version",
    stage=True,
)
def lint_schema_dir(directory: Path | str) -> list[LintFinding]:
    """Lint every schema file of a directory; an empty list means clean.

    A directory that does not load (see `load_schema_dir`) gives `schema-invalid` findings.
    """
    try:
        schemaset = load_schema_dir(directory)
    except SchemaSetError as exc:
        return sorted(
            LintFinding(problem.file, problem.pointer, "schema-invalid", problem.message)
            for problem in exc.problems
        )
    checks = RULES.checks(LINT)
    findings: list[LintFinding] = []
    for name, (document, schema) in schemaset.components().items():
        for check in checks:
            findings.extend(check(schemaset, name, document, schema))
    return sorted(findings)
