"""Invalid instances are rejected by the source schema (jsonschema) and the model (Pydantic) alike."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from opsconductor_conformance import SchemaSet
from pydantic import ValidationError

from tests.contracts.conftest import SCHEMASET, adapter


def _example(name: str) -> dict[str, Any]:
    return copy.deepcopy(SCHEMASET.components()[name][1]["examples"][0])


def _without(name: str, key: str) -> dict[str, Any]:
    instance = _example(name)
    del instance[key]
    return instance


def _with(name: str, **changes: Any) -> dict[str, Any]:
    return {**_example(name), **changes}


INVALID = [
    pytest.param("ErrorResponse", _without("ErrorResponse", "code"), id="error-missing-code"),
    pytest.param(
        "ErrorResponse", _without("ErrorResponse", "request_id"), id="error-missing-request-id"
    ),
    pytest.param(
        "ErrorResponse", _with("ErrorResponse", status="teapot"), id="error-status-wrong-type"
    ),
    pytest.param(
        "ErrorResponse", _with("ErrorResponse", status=600), id="error-status-out-of-range"
    ),
    pytest.param(
        "ErrorResponse", _with("ErrorResponse", code="not-upper"), id="error-code-pattern"
    ),
    pytest.param(
        "ErrorResponse", _with("ErrorResponse", timestamp="yesterday"), id="error-bad-timestamp"
    ),
    pytest.param("PaginationParams", {"per_page": 0}, id="per-page-zero"),
    pytest.param("PaginationParams", {"per_page": 1001}, id="per-page-over-1000"),
    pytest.param("PaginationParams", {"page": 0}, id="page-zero"),
    pytest.param(
        "PaginationMeta", _with("PaginationMeta", has_next="maybe"), id="meta-has-next-wrong-type"
    ),
    pytest.param(
        "PaginationMeta", _without("PaginationMeta", "per_page"), id="meta-missing-per-page"
    ),
    pytest.param("Identity", _with("Identity", role="superuser"), id="identity-unknown-role"),
    pytest.param("TokenClaims", _with("TokenClaims", role="root"), id="claims-unknown-role"),
    pytest.param("TokenClaims", _with("TokenClaims", type="id"), id="claims-unknown-token-type"),
    pytest.param("TokenClaims", _without("TokenClaims", "exp"), id="claims-missing-exp"),
    pytest.param(
        "HealthResponse", _with("HealthResponse", status="fine"), id="health-unknown-status"
    ),
    pytest.param("SortParams", {"sort": []}, id="sort-no-keys"),
    pytest.param("SortKey", {"field": "name", "direction": "up"}, id="sort-unknown-direction"),
    pytest.param(
        "BulkOperationResult", _with("BulkOperationResult", total=-1), id="bulk-negative-total"
    ),
    pytest.param("AuditLog", _with("AuditLog", action="Target Create"), id="audit-action-pattern"),
    pytest.param(
        "TokenResponse", _with("TokenResponse", token_type="mac"), id="token-type-not-bearer"
    ),
    pytest.param("JsonWebKey", _with("JsonWebKey", alg="HS256"), id="jwk-symmetric-alg"),
    pytest.param("Role", "superuser", id="role-unknown"),
]


@pytest.mark.parametrize(("name", "instance"), INVALID)
def test_rejected_by_both(schemaset: SchemaSet, name: str, instance: Any) -> None:
    assert list(schemaset.validator(name).iter_errors(instance)), "jsonschema accepted it"
    with pytest.raises(ValidationError):
        adapter(name).validate_json(json.dumps(instance))
