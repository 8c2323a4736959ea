"""`validate`'s migration rules (issue 17 §3): the compliant document with one old shape
each, the exact migration findings (rule, pointer), and a fix in every message."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from opsconductor_conformance import Severity, validate_document
from opsconductor_conformance.legacy import MIGRATION_RULES, is_migration_rule

from tests.conftest import ROOT

COMPLIANT = ROOT / "tests" / "fixtures" / "openapi" / "compliant.yaml"
TARGETS = "/paths/~1targets"
LIST = f"{TARGETS}/get/responses/200/content/application~1json/schema"
Patch = Callable[[dict[str, Any]], None]


def base() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPLIANT.read_text())
    return loaded


def _schema(doc: dict[str, Any], name: str, schema: dict[str, Any]) -> None:
    doc["components"]["schemas"][name] = schema


def old_error_envelope(doc: dict[str, Any]) -> None:
    _schema(
        doc,
        "OldError",
        {
            "type": "object",
            "properties": {
                "error": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "status_code": {"type": "integer"},
                    },
                }
            },
        },
    )
    doc["paths"]["/targets"]["post"]["responses"]["409"]["content"]["application/json"] = {
        "schema": {"$ref": "#/components/schemas/OldError"}
    }


def detail_error(doc: dict[str, Any]) -> None:
    doc["paths"]["/targets"]["post"]["responses"]["409"]["content"]["application/json"] = {
        "schema": {"type": "object", "properties": {"detail": {"type": "string"}}}
    }


def _list_answers(doc: dict[str, Any], schema: dict[str, Any]) -> None:
    doc["paths"]["/targets"]["get"]["responses"]["200"]["content"]["application/json"] = {
        "schema": schema
    }


TARGET = {"$ref": "#/components/schemas/Target"}


def data_meta_page(doc: dict[str, Any]) -> None:
    _list_answers(
        doc,
        {
            "type": "object",
            "properties": {
                "data": {"type": "array", "items": TARGET},
                "meta": {"type": "object", "properties": {"page": {"type": "integer"}}},
            },
        },
    )


def counted_page(doc: dict[str, Any]) -> None:
    _list_answers(
        doc,
        {
            "type": "object",
            "properties": {
                "targets": {"type": "array", "items": TARGET},
                "total": {"type": "integer"},
            },
        },
    )


def skip_limit(doc: dict[str, Any]) -> None:
    doc["paths"]["/targets"]["get"]["parameters"] = [
        {"name": "skip", "in": "query", "schema": {"type": "integer", "default": 0}},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "default": 100}},
    ]


def success_envelope(doc: dict[str, Any]) -> None:
    doc["paths"]["/targets/{target_id}"]["get"]["responses"]["200"]["content"][
        "application/json"
    ] = {
        "schema": {
            "type": "object",
            "properties": {
                "success": {"type": "boolean"},
                "timestamp": {"type": "string", "format": "date-time"},
                "data": TARGET,
                "message": {"type": "string"},
            },
        }
    }


def mixed_create_statuses(doc: dict[str, Any]) -> None:
    other = copy.deepcopy(doc["paths"]["/targets"]["post"])
    other["operationId"] = "create_group"
    other["responses"]["200"] = other["responses"].pop("201")
    doc["paths"]["/groups"] = {"post": other}
    item = copy.deepcopy(doc["paths"]["/targets/{target_id}"])
    item["get"]["operationId"] = "get_group"
    doc["paths"]["/groups/{target_id}"] = item
    # An action answering 200 is no create: no finding for it.
    action = copy.deepcopy(other)
    action["operationId"] = "login"
    doc["paths"]["/login"] = {"post": action}


def compat_mode(doc: dict[str, Any]) -> None:
    doc["info"]["x-opsconductor-legacy-errors"] = True


CASES: dict[str, tuple[Patch, list[tuple[str, str]]]] = {
    "old-error-envelope": (
        old_error_envelope,
        [("legacy-error-envelope", "/components/schemas/OldError")],
    ),
    "detail-error": (
        detail_error,
        [
            (
                "legacy-detail-error",
                f"{TARGETS}/post/responses/409/content/application~1json/schema",
            )
        ],
    ),
    "data-meta-page": (data_meta_page, [("legacy-page", LIST)]),
    "counted-page": (counted_page, [("legacy-page", LIST)]),
    "skip-limit": (skip_limit, [("legacy-skip-limit", f"{TARGETS}/get/parameters/0")]),
    "success-envelope": (
        success_envelope,
        [
            (
                "legacy-success-envelope",
                "/paths/~1targets~1{target_id}/get/responses/200/content/application~1json/schema",
            )
        ],
    ),
    "mixed-create-statuses": (
        mixed_create_statuses,
        [("legacy-create-status", "/paths/~1groups/post/responses/200")],
    ),
    "compat-mode": (compat_mode, [("legacy-compat-mode", "/info/x-opsconductor-legacy-errors")]),
}


def test_the_compliant_document_has_no_migration_finding() -> None:
    report = validate_document(base())
    assert [f for f in report.findings if is_migration_rule(f.rule)] == []


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_old_shape_is_one_migration_finding_with_its_fix(case: str) -> None:
    patch, expected = CASES[case]
    doc = base()
    patch(doc)
    report = validate_document(doc)
    found = [f for f in report.findings if is_migration_rule(f.rule)]
    assert [(f.rule, f.pointer) for f in found] == expected
    for finding in found:
        assert finding.severity is Severity.WARNING
        assert "fix: " in finding.message


def test_every_migration_rule_is_exercised() -> None:
    assert sorted({rule for _, found in CASES.values() for rule, _ in found}) == sorted(
        MIGRATION_RULES
    )


def test_the_shared_standard_response_is_no_success_envelope() -> None:
    doc = base()
    doc["components"]["schemas"]["StandardResponse"] = {
        "type": "object",
        "required": ["success", "message", "request_id", "timestamp"],
        "properties": {
            "success": {"type": "boolean"},
            "message": {"type": "string"},
            "request_id": {"type": "string"},
            "timestamp": {"type": "string", "format": "date-time"},
            "data": {"type": ["object", "null"]},
        },
    }
    doc["paths"]["/targets/{target_id}"]["get"]["responses"]["200"]["content"][
        "application/json"
    ] = {"schema": {"$ref": "#/components/schemas/StandardResponse"}}
    report = validate_document(doc)
    assert not [f for f in report.findings if f.rule == "legacy-success-envelope"]


def test_a_create_status_is_no_finding_when_every_create_agrees() -> None:
    doc = base()
    doc["paths"]["/targets"]["post"]["responses"]["200"] = doc["paths"]["/targets"]["post"][
        "responses"
    ].pop("201")
    report = validate_document(doc)
    assert not [f for f in report.findings if f.rule == "legacy-create-status"]
