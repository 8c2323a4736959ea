"""The registry of `validate` rules: stable ids, default severities, and their checks."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ._findings import RuleInfo, Severity
from ._openapi import ServiceDocument
from ._rules_basic import (
    RawFinding,
    _check_contracts_version,
    _check_documented_errors,
    _check_operation_id,
    _check_security_declared,
)
from ._rules_shapes import (
    _check_component_compat,
    _check_error_envelope,
    _check_health_endpoint,
    _check_pagination,
    _check_validation_envelope,
)
from ._shared import SharedContracts

__all__ = ["Rule"]

Check = Callable[[ServiceDocument, SharedContracts], Iterable[RawFinding]]


@dataclass(frozen=True)
class Rule:
    """A `validate` rule: what it is (`info`) and how it checks a document (`check`)."""

    info: RuleInfo
    check: Check


def _rule(rule_id: str, severity: Severity, summary: str, check: Check) -> Rule:
    return Rule(RuleInfo(rule_id, severity, summary), check)


E, W = Severity.ERROR, Severity.WARNING

VALIDATE_RULES: tuple[Rule, ...] = (
    _rule(
        "component-compat",
        E,
        "A component that is a shared contract (same name, x-opsconductor-contract, a FastAPI generic such as Page_Target_, or a page by structure) is compatible with it in the contract's direction.",
        _check_component_compat,
    ),
    _rule(
        "error-envelope",
        E,
        "Every 4xx, 5xx and default response (422/400 aside) has a JSON body with the shared ErrorResponse envelope, as application/problem+json or application/json.",
        _check_error_envelope,
    ),
    _rule(
        "validation-envelope",
        E,
        "An operation with parameters or a body documents 422 (or 400), and it is the ErrorResponse envelope, not FastAPI's HTTPValidationError.",
        _check_validation_envelope,
    ),
    _rule(
        "pagination",
        E,
        "A GET returning a collection returns the shared page shape (items plus pagination, never a bare array) and accepts per_page with page or page_token.",
        _check_pagination,
    ),
    _rule(
        "health-endpoint",
        E,
        "The service exposes GET /health/live and GET /health/ready (or /health), each returning HealthResponse.",
        _check_health_endpoint,
    ),
    _rule(
        "security-declared",
        W,
        "Every operation declares a security requirement or is marked x-public: true; the schemes exist; secured operations document 401.",
        _check_security_declared,
    ),
    _rule(
        "documented-errors",
        W,
        "Operations with path parameters document 404; secured operations document 403.",
        _check_documented_errors,
    ),
    _rule(
        "operation-id",
        W,
        "Every operation has an operationId, unique and snake_case.",
        _check_operation_id,
    ),
    _rule(
        "contracts-version",
        W,
        "The document declares info.x-opsconductor-contracts; a different major version than the shared contracts is an error.",
        _check_contracts_version,
    ),
)
