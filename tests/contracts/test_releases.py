"""The contracts against their previous release: 1.3.0 adds `DependencyCheck.details` (the
counts a readiness check reports) and nothing else, so `breaking` finds no breaking change
from 1.2.0 (kept under tests/fixtures/contracts/1.2.0) and the minor bump is the right one;
and a service built against 1.2.0 still validates against 1.3.0, as a minor release promises
(`x-opsconductor-since` on a property says which release added it), while drift from the
release a document declares does not."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from opsconductor_conformance import (
    Severity,
    compare_schema_sets,
    load_schema_dir,
    validate_document,
)
from opsconductor_contracts import CONTRACTS_VERSION, DependencyCheck
from opsconductor_shared import ServiceSettings, create_service_app

from tests.conftest import ROOT, SCHEMAS

RELEASE_1_2_0 = ROOT / "tests" / "fixtures" / "contracts" / "1.2.0"
DETAILS = "/components/schemas/DependencyCheck/properties/details"
SINCE_KEY = "x-opsconductor-since"


def test_every_schema_file_carries_1_3_0() -> None:
    assert CONTRACTS_VERSION == "1.3.0"
    versions = {
        path.name: yaml.safe_load(path.read_text())["info"]["version"]
        for path in sorted(SCHEMAS.glob("*.yaml"))
    }
    assert set(versions.values()) == {"1.3.0"}, versions
    assert load_schema_dir(RELEASE_1_2_0).version == "1.2.0"


def test_no_breaking_change_since_1_2_0() -> None:
    findings = compare_schema_sets(load_schema_dir(RELEASE_1_2_0), load_schema_dir(SCHEMAS))
    assert [f for f in findings if f.severity.value != "info"] == []
    changes = [(f.rule, f.pointer) for f in findings if f.rule != "version-bump"]
    assert ("property-added", DETAILS) in changes
    assert [f.message for f in findings if f.rule == "version-bump"] == []


def test_the_cli_passes_against_the_1_2_0_release(tmp_path: Path) -> None:
    report = tmp_path / "breaking.txt"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "opsconductor_conformance",
            "breaking",
            "--no-config",
            "--schemas",
            str(SCHEMAS),
            "--against-dir",
            str(RELEASE_1_2_0),
            "--output",
            str(report),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 errors, 0 warnings" in report.read_text()


def test_details_is_optional_for_readers_of_1_2_0_reports() -> None:
    old = {"name": "database", "status": "healthy", "duration_ms": 1.8}
    assert DependencyCheck.model_validate(old).details is None


def _service_document() -> dict[str, Any]:
    app = create_service_app("probe-service", "1.0.0", ServiceSettings(), configure_logging=False)
    return copy.deepcopy(app.openapi())


def _without_details(document: dict[str, Any]) -> None:
    del document["components"]["schemas"]["DependencyCheck"]["properties"]["details"]


def _with_the_1_2_0_components(document: dict[str, Any]) -> None:
    old = yaml.safe_load((RELEASE_1_2_0 / "health.yaml").read_text())["components"]["schemas"]
    for name in ("HealthStatus", "DependencyCheck", "HealthResponse"):
        document["components"]["schemas"][name] = old[name]


@pytest.mark.parametrize("built", [_without_details, _with_the_1_2_0_components])
def test_a_service_built_against_1_2_0_still_validates(built: Any) -> None:
    document = _service_document()
    built(document)
    document["info"]["x-opsconductor-contracts"] = "1.2.0"
    report = validate_document(document, strict=True)
    assert report.exit_code == 0, [(f.rule, f.pointer, f.message) for f in report.findings]
    (finding,) = report.findings
    assert (finding.rule, finding.severity, finding.pointer) == (
        "component-compat",
        Severity.INFO,
        "/components/schemas/DependencyCheck/properties/details",
    )
    assert "optional" in finding.message
    assert "contracts 1.3.0" in finding.message
    assert "1.2.0" in finding.message


def _without_critical(document: dict[str, Any]) -> None:
    del document["components"]["schemas"]["DependencyCheck"]["properties"]["critical"]


@pytest.mark.parametrize(
    ("built", "declared", "dropped"),
    [
        # Built against the contracts that added details, yet without it.
        pytest.param(_without_details, CONTRACTS_VERSION, DETAILS, id="details-current"),
        pytest.param(_without_details, None, DETAILS, id="details-undeclared"),
        # critical is in every release: no older minor release excuses its absence.
        pytest.param(
            _without_critical,
            "1.2.0",
            "/components/schemas/DependencyCheck/properties/critical",
            id="critical-1.2.0",
        ),
    ],
)
def test_drift_from_the_declared_release_fails(
    built: Any, declared: str | None, dropped: str
) -> None:
    document = _service_document()
    built(document)
    if declared is None:
        del document["info"]["x-opsconductor-contracts"]
    else:
        document["info"]["x-opsconductor-contracts"] = declared
    report = validate_document(document)
    assert report.exit_code == 1
    found = [
        (f.rule, f.severity, f.pointer) for f in report.findings if f.rule != "contracts-version"
    ]
    assert found == [("component-compat", Severity.ERROR, dropped)]


def _properties(directory: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """(component, property) -> the property's schema, for every schema file of a release."""
    found = {}
    for path in sorted(directory.glob("*.yaml")):
        for component, schema in yaml.safe_load(path.read_text())["components"]["schemas"].items():
            for name, prop in (schema.get("properties") or {}).items():
                found[component, name] = prop
    return found


def test_each_property_a_minor_release_added_says_which_release() -> None:
    """`x-opsconductor-since` (what validate reads to tolerate a property a service built against
    an older release does not list) agrees with the release history: every property 1.3.0 added
    to a component of 1.2.0 is marked 1.3.0, and a property marked with an earlier release was in
    1.2.0 already."""
    old, new = _properties(RELEASE_1_2_0), _properties(SCHEMAS)
    marked = {key: prop[SINCE_KEY] for key, prop in new.items() if SINCE_KEY in prop}
    old_components = {component for component, _ in old}
    added = {key for key in new if key not in old and key[0] in old_components}
    assert added == {key for key, since in marked.items() if since == CONTRACTS_VERSION}
    assert all(key in old for key, since in marked.items() if since != CONTRACTS_VERSION)
    assert not any(SINCE_KEY in prop for prop in old.values())  # the release as it shipped
    assert marked == {
        ("DependencyCheck", "details"): "1.3.0",
        ("Identity", "principal_type"): "1.2.0",
        ("Identity", "scopes"): "1.2.0",
        ("TokenClaims", "principal_type"): "1.2.0",
        ("TokenClaims", "scope"): "1.2.0",
        ("TokenResponse", "scope"): "1.2.0",
    }
