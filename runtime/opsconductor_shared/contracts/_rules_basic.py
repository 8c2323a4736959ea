"""The conformance rules about operations themselves: ids, security, documented errors, version."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from ._findings import Severity
from ._openapi import ServiceDocument, requires_credentials
from ._shared import SharedContracts

__all__: list[str] = []

RawFinding = tuple[str, str, Severity | None]
"""(pointer, message, severity or None for the rule's default) as a rule yields it."""

_SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?$")
VERSION_KEY = "x-opsconductor-contracts"


def _check_operation_id(doc: ServiceDocument, _shared: SharedContracts) -> Iterator[RawFinding]:
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


def _check_security_declared(
    doc: ServiceDocument, _shared: SharedContracts
) -> Iterator[RawFinding]:
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


def _check_documented_errors(
    doc: ServiceDocument, _shared: SharedContracts
) -> Iterator[RawFinding]:
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


def _check_contracts_version(doc: ServiceDocument, shared: SharedContracts) -> Iterator[RawFinding]:
    info = doc.document.get("info") or {}
    if VERSION_KEY in info:
        where, value = f"/info/{VERSION_KEY}", info[VERSION_KEY]
    elif VERSION_KEY in doc.document:
        where, value = f"/{VERSION_KEY}", doc.document[VERSION_KEY]
    else:
        yield (
            "/info",
            f"the document does not say which contracts version it was built against; add info.{VERSION_KEY}: {shared.version!r}",
            None,
        )
        return
    match = _SEMVER.match(value) if isinstance(value, str) else None
    if match is None:
        yield where, f"{value!r} is not a semantic version such as {shared.version!r}", None
        return
    major, minor = int(match.group(1)), int(match.group(2))
    shared_minor = int(shared.version.split(".")[1])
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
