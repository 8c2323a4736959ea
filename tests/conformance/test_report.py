"""Output formats: json, SARIF 2.1.0 (validated against the OASIS schema), JUnit, GitHub
workflow commands, Markdown, and text with colour only when asked for or on a terminal."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from jsonschema import Draft4Validator
from opsconductor_conformance import RULES, Finding, Report, Severity, render_report
from opsconductor_contracts import CONTRACTS_VERSION

from .conftest import CLI, FIXTURES, OPENAPI_FIXTURES

VALIDATE_RULES = RULES.rules("validate")
FAILING = OPENAPI_FIXTURES / "pagination-bare-array.yaml"
WARNING = OPENAPI_FIXTURES / "operation-id-missing.yaml"
CLEAN = OPENAPI_FIXTURES / "compliant.yaml"
SARIF_SCHEMA = json.loads((FIXTURES / "sarif-schema-2.1.0.json").read_text())


def _report(findings: list[Finding], *, strict: bool = False) -> Report:
    return Report.build(
        "validate",
        findings,
        services=[("svc", "openapi.json"), ("other", "http://svc/openapi.json")],
        rules=VALIDATE_RULES,
        contracts_version="1.0.0",
        strict=strict,
    )


TRICKY = Finding(
    "error-envelope",
    Severity.ERROR,
    "svc",
    "/paths/~1a|b/get",
    "bad: 100% wrong,\nreally | `quoted` <xml> & \x07",
    "openapi.json",
)
WARN = Finding(
    "operation-id", Severity.WARNING, "other", "/paths/~1x/get", "no id", "http://svc/openapi.json"
)
NOTE = Finding("contracts-version", Severity.INFO, "svc", "/info/x", "newer", "openapi.json")


def test_json_schema_of_the_output(cli: CLI) -> None:
    run = cli("validate", FAILING, WARNING, "--format", "json")
    data = run.json()
    assert set(data) == {"findings", "summary"}
    for finding in data["findings"]:
        assert set(finding) == {"rule", "severity", "service", "pointer", "message", "location"}
    summary = data["summary"]
    assert {
        k: summary[k] for k in ("command", "passed", "errors", "warnings", "infos", "ignored")
    } == {
        "command": "validate",
        "passed": False,
        "errors": 1,
        "warnings": 1,
        "infos": 0,
        "ignored": 0,
    }
    assert summary["contracts_version"] == CONTRACTS_VERSION
    assert [s["errors"] for s in summary["services"]] == [1, 0]


def _sarif_errors(log: object) -> list[str]:
    validator = Draft4Validator(SARIF_SCHEMA, format_checker=Draft4Validator.FORMAT_CHECKER)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(log)]


def test_sarif_is_valid_against_the_sarif_2_1_0_schema(cli: CLI) -> None:
    run = cli("validate", FAILING, WARNING, CLEAN, "--format", "sarif")
    log = json.loads(run.out)
    assert _sarif_errors(log) == []
    (sarif_run,) = log["runs"]
    rules = sarif_run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [rule.id for rule in VALIDATE_RULES]
    levels = sorted((r["ruleId"], r["level"]) for r in sarif_run["results"])
    assert levels == [("operation-id", "warning"), ("pagination", "error")]
    for result in sarif_run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert uri.startswith("file://")
        assert uri.endswith(".yaml")


def test_sarif_of_every_kind_of_finding_is_valid() -> None:
    log = json.loads(render_report(_report([TRICKY, WARN, NOTE]), "sarif"))
    assert _sarif_errors(log) == []
    levels = [r["level"] for r in log["runs"][0]["results"]]
    assert sorted(levels) == ["error", "note", "warning"]
    assert _sarif_errors(json.loads(render_report(_report([]), "sarif"))) == []


def test_sarif_of_breaking_is_valid(cli: CLI) -> None:
    run = cli(
        "breaking",
        "--against-dir",
        OPENAPI_FIXTURES.parent.parent.parent / "schemas",
        "--format",
        "sarif",
    )
    assert _sarif_errors(json.loads(run.out)) == []


def test_junit() -> None:
    root = ET.fromstring(render_report(_report([TRICKY, WARN, NOTE]), "junit"))
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures")) == (str(2 * len(VALIDATE_RULES)), "1")
    suites = {suite.get("name"): suite for suite in root.iter("testsuite")}
    assert set(suites) == {"svc", "other"}
    case = suites["svc"].find("testcase[@name='error-envelope']")
    assert case is not None
    failure = case.find("failure")
    assert failure is not None
    assert "100% wrong" in (failure.text or "")
    assert "\x07" not in (failure.text or "")
    warned = suites["other"].find("testcase[@name='operation-id']")
    assert warned is not None
    assert warned.find("failure") is None
    assert "no id" in (warned.findtext("system-out") or "")


def test_junit_strict_fails_warnings() -> None:
    root = ET.fromstring(render_report(_report([WARN], strict=True), "junit"))
    assert root.get("failures") == "1"


def test_github_annotations() -> None:
    lines = render_report(_report([TRICKY, WARN, NOTE]), "github").splitlines()
    assert lines == [
        "::warning title=operation-id (other)::/paths/~1x/get: no id",
        "::error file=openapi.json,title=error-envelope (svc)::/paths/~1a|b/get: bad: 100%25 wrong,%0Areally | `quoted` <xml> & \x07",
        "::notice file=openapi.json,title=contracts-version (svc)::/info/x: newer",
    ]


def test_markdown() -> None:
    text = render_report(_report([TRICKY, WARN]), "markdown")
    assert text.startswith("## ❌ opsconductor-contracts validate")
    assert "| svc | `openapi.json` | 1 | 0 | 0 | 0 |" in text
    assert (
        "bad: 100% wrong, really \\| 'quoted' <xml> &" not in text
    )  # code spans only for pointers
    assert "really \\| `quoted`" in text
    assert "`/paths/~1a|b/get`" not in text or "\\|" in text


def test_markdown_lists_every_finding_folding_the_rest_past_the_first_rows() -> None:
    many = [
        Finding("operation-id", Severity.WARNING, "svc", f"/p{i}", "m", "openapi.json")
        for i in range(250)
    ]
    text = render_report(_report(many), "markdown")
    assert all(f"| `/p{i}` |" in text for i in range(250))  # issue 14: every format, every finding
    shown, folded = text.split("<details>")
    assert shown.count("| `/p") == 200
    assert "<summary>50 more findings</summary>" in folded
    assert folded.count("| `/p") == 50


def test_text_has_no_colour_when_piped(cli: CLI) -> None:
    run = cli("validate", FAILING)
    assert "\033[" not in run.out
    assert "pagination" in run.out
    assert "validate failed: 1 error, 0 warnings, 0 infos in 1 service" in run.out


def test_text_colour_on_request(cli: CLI) -> None:
    assert "\033[31m" in cli("validate", FAILING, "--color", "always").out


def test_colour_on_a_terminal_unless_no_color(cli: CLI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdout.isatty", lambda: True, raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert "\033[" in cli("validate", FAILING).out
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\033[" not in cli("validate", FAILING).out


def test_output_file(cli: CLI, tmp_path: Path) -> None:
    target = tmp_path / "report.sarif"
    run = cli("validate", FAILING, "--format", "sarif", "--output", target)
    assert run.code == 1
    assert run.out == ""
    assert json.loads(target.read_text())["version"] == "2.1.0"


def test_unknown_format_in_the_api() -> None:
    with pytest.raises(ValueError, match="unknown format 'pdf'"):
        render_report(_report([]), "pdf")
