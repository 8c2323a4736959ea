"""Which missing optional contract properties `validate` tolerates, in every rule that compares
a schema with a contract: only one that the contracts version the document declares did not
have yet (the property's `x-opsconductor-since` is later). Anything else stays an error."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from opsconductor_conformance import SharedContracts, validate_document
from opsconductor_contracts import CONTRACTS_VERSION

from tests.conftest import SCHEMAS

from .conftest import OPENAPI_FIXTURES

E, INFO = "error", "info"
VERSION_KEY = "x-opsconductor-contracts"
SINCE_KEY = "x-opsconductor-since"
DEPENDENCY_CHECK = "/components/schemas/DependencyCheck"
TARGET = "/paths/~1targets~1{target_id}"
TARGETS = "/paths/~1targets"
JSON_SCHEMA = "content/application~1json/schema"
PROBLEM_SCHEMA = "content/application~1problem+json/schema"


def _document(fixture: str, declared: str | None) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((OPENAPI_FIXTURES / fixture).read_text())
    if declared is None:
        del document["info"][VERSION_KEY]
    else:
        document["info"][VERSION_KEY] = declared
    return document


def _findings(
    document: dict[str, Any], rule: str, contracts: SharedContracts | None = None
) -> list[tuple[str, str]]:
    report = validate_document(document, contracts=contracts)
    return sorted((f.severity.value, f.pointer) for f in report.findings if f.rule == rule)


@pytest.mark.parametrize(
    ("declared", "dropped", "severity"),
    [
        # DependencyCheck.details came with 1.3.0: a document built against 1.0.0 to 1.2.x
        # need not list it.
        pytest.param("1.2.0", "details", INFO, id="details-1.2.0"),
        pytest.param("1.2.7", "details", INFO, id="details-1.2.7"),
        pytest.param("1.0.0", "details", INFO, id="details-1.0.0"),
        # Built against the contracts that have it, or not saying which: drift.
        pytest.param(CONTRACTS_VERSION, "details", E, id="details-current"),
        pytest.param("1.3.1", "details", E, id="details-later-patch"),
        pytest.param("1.4.0", "details", E, id="details-newer-minor"),
        pytest.param(None, "details", E, id="details-undeclared"),
        pytest.param("latest", "details", E, id="details-not-a-version"),
        pytest.param("0.9.0", "details", E, id="details-older-major"),
        # DependencyCheck.critical has been there since 1.0.0.
        pytest.param("1.0.0", "critical", E, id="critical-1.0.0"),
        pytest.param("1.2.0", "critical", E, id="critical-1.2.0"),
        pytest.param(CONTRACTS_VERSION, "critical", E, id="critical-current"),
    ],
)
def test_component_compat_tolerates_only_what_the_declared_version_did_not_have(
    declared: str | None, dropped: str, severity: str
) -> None:
    document = _document("compliant.yaml", declared)
    del document["components"]["schemas"]["DependencyCheck"]["properties"][dropped]
    found = _findings(document, "component-compat")
    assert found == [(severity, f"{DEPENDENCY_CHECK}/properties/{dropped}")]


def _token_response(declared: str) -> dict[str, Any]:
    document = _document("compliant.yaml", declared)
    contract = yaml.safe_load((SCHEMAS / "auth.yaml").read_text())["components"]["schemas"]
    token_response = contract["TokenResponse"]
    del token_response["properties"]["scope"]
    document["components"]["schemas"]["TokenResponse"] = token_response
    return document


@pytest.mark.parametrize(
    ("declared", "severity"), [("1.1.0", INFO), ("1.0.0", INFO), ("1.2.0", E), ("1.3.0", E)]
)
def test_a_property_of_1_2_0_is_tolerated_before_1_2_0_only(declared: str, severity: str) -> None:
    found = _findings(_token_response(declared), "component-compat")
    assert found == [(severity, "/components/schemas/TokenResponse/properties/scope")]


def test_the_info_names_the_release_that_added_the_property_and_the_declared_one() -> None:
    document = _document("compliant.yaml", "1.1.0")
    del document["components"]["schemas"]["DependencyCheck"]["properties"]["details"]
    (finding,) = validate_document(document).findings
    assert "does not list the contract's optional property 'details'" in finding.message
    assert "added in contracts 1.3.0" in finding.message
    assert "this document declares 1.1.0" in finding.message


# fixture, rule, pointer of the finding, the contract's file, component and the optional
# properties the fixture's schema does not list (all there since 1.0.0).
RULE_CASES = [
    pytest.param(
        "error-envelope-missing-optional.yaml",
        "error-envelope",
        f"{TARGET}/get/responses/500/{PROBLEM_SCHEMA}",
        "errors.yaml",
        "ErrorResponse",
        ["errors", "instance"],
        id="error-envelope",
    ),
    pytest.param(
        "validation-envelope-no-errors.yaml",
        "validation-envelope",
        f"{TARGETS}/post/responses/422/{PROBLEM_SCHEMA}",
        "errors.yaml",
        "ErrorResponse",
        ["errors"],
        id="validation-envelope",
    ),
    pytest.param(
        "pagination-meta-missing-fields.yaml",
        "pagination",
        f"{TARGETS}/get/responses/200/{JSON_SCHEMA}",
        "pagination.yaml",
        "PaginationMeta",
        ["next_page_token", "page", "total_items", "total_pages"],
        id="pagination",
    ),
    pytest.param(
        "health-endpoint-missing-optional.yaml",
        "health-endpoint",
        f"/paths/~1health~1live/get/responses/200/{JSON_SCHEMA}",
        "health.yaml",
        "DependencyCheck",
        ["critical"],
        id="health-endpoint",
    ),
]


def _contracts_marking(
    tmp_path: Path, file: str, component: str, properties: list[str], since: str
) -> SharedContracts:
    """The shipped contracts, but with these properties marked as added in `since`."""
    directory = tmp_path / "schemas"
    shutil.copytree(SCHEMAS, directory)
    path = directory / file
    document = yaml.safe_load(path.read_text())
    for name in properties:
        document["components"]["schemas"][component]["properties"][name][SINCE_KEY] = since
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return SharedContracts.load(directory)


@pytest.mark.parametrize(("fixture", "rule", "pointer", "file", "component", "missing"), RULE_CASES)
@pytest.mark.parametrize("declared", ["1.0.0", "1.2.0", CONTRACTS_VERSION, None])
def test_every_rule_reports_a_missing_optional_property_as_an_error(
    fixture: str,
    rule: str,
    pointer: str,
    file: str,
    component: str,
    missing: list[str],
    declared: str | None,
) -> None:
    document = _document(fixture, declared)
    assert _findings(document, rule) == [(E, pointer)]
    (finding,) = [f for f in validate_document(document).findings if f.rule == rule]
    for name in missing[:3]:  # a finding names three differences, then counts the rest
        assert f"optional property {name!r}" in finding.message


@pytest.mark.parametrize(("fixture", "rule", "pointer", "file", "component", "missing"), RULE_CASES)
def test_every_rule_tolerates_a_property_added_after_the_declared_version(
    tmp_path: Path,
    fixture: str,
    rule: str,
    pointer: str,
    file: str,
    component: str,
    missing: list[str],
) -> None:
    contracts = _contracts_marking(tmp_path, file, component, missing, CONTRACTS_VERSION)
    older = _document(fixture, "1.2.0")
    assert _findings(older, rule, contracts) == [(INFO, pointer)]
    (finding,) = [
        f for f in validate_document(older, contracts=contracts).findings if f.rule == rule
    ]
    assert f"added in contracts {CONTRACTS_VERSION}" in finding.message
    assert "this document declares 1.2.0" in finding.message
    current = _document(fixture, CONTRACTS_VERSION)
    assert _findings(current, rule, contracts) == [(E, pointer)]


def test_one_tolerated_property_does_not_hide_another_that_is_not(tmp_path: Path) -> None:
    contracts = _contracts_marking(tmp_path, "errors.yaml", "ErrorResponse", ["instance"], "1.3.0")
    document = _document("error-envelope-missing-optional.yaml", "1.2.0")
    pointer = f"{TARGET}/get/responses/500/{PROBLEM_SCHEMA}"
    assert _findings(document, "error-envelope", contracts) == [(E, pointer), (INFO, pointer)]
    findings = validate_document(document, contracts=contracts).findings
    (error,) = [f for f in findings if f.rule == "error-envelope" and f.severity.value == E]
    assert "'errors'" in error.message
    assert "'instance'" not in error.message
