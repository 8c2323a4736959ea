"""The contracts against their previous release: 1.3.0 adds `DependencyCheck.details` (the
counts a readiness check reports) and nothing else, so `breaking` finds no breaking change
from 1.2.0 (kept under tests/fixtures/contracts/1.2.0) and the minor bump is the right one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml
from opsconductor_conformance import compare_schema_sets, load_schema_dir
from opsconductor_contracts import CONTRACTS_VERSION, DependencyCheck

from tests.conftest import ROOT, SCHEMAS

RELEASE_1_2_0 = ROOT / "tests" / "fixtures" / "contracts" / "1.2.0"
DETAILS = "/components/schemas/DependencyCheck/properties/details"


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
