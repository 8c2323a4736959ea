"""The schema lint: the shipped schemas are clean, and each rule catches its failure mode."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from opsconductor_conformance import lint_schema_dir
from opsconductor_conformance.cli import main

from tests.conftest import SCHEMAS

Edit = Callable[[dict[str, Any]], None]


def _schemas(tmp_path: Path, file: str, edit: Edit) -> Path:
    directory = tmp_path / "schemas"
    shutil.copytree(SCHEMAS, directory)
    path = directory / file
    document = yaml.safe_load(path.read_text())
    edit(document["components"]["schemas"])
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return directory


def _drop_description(schemas: dict[str, Any]) -> None:
    del schemas["HealthResponse"]["properties"]["uptime_seconds"]["description"]


def _drop_component_description(schemas: dict[str, Any]) -> None:
    del schemas["DependencyCheck"]["description"]


def _drop_examples(schemas: dict[str, Any]) -> None:
    del schemas["HealthResponse"]["examples"]


def _break_example(schemas: dict[str, Any]) -> None:
    schemas["HealthResponse"]["examples"][0]["status"] = "fine"


def _break_example_format(schemas: dict[str, Any]) -> None:
    schemas["HealthResponse"]["examples"][0]["timestamp"] = "last tuesday"


def _inline_enum(schemas: dict[str, Any]) -> None:
    schemas["DependencyCheck"]["properties"]["status"] = {
        "type": "string",
        "enum": ["healthy", "degraded", "unhealthy"],
        "description": "inline",
    }


def _optional_without_default(schemas: dict[str, Any]) -> None:
    schemas["HealthResponse"]["properties"]["region"] = {"type": "string", "description": "where"}


def _since(where: str, value: str) -> Edit:
    def edit(schemas: dict[str, Any]) -> None:
        node = schemas["DependencyCheck"]
        if where != "component":
            node = node["properties"][where]
        node["x-opsconductor-since"] = value

    return edit


CASES = [
    pytest.param(
        "health.yaml",
        _drop_description,
        "missing-description",
        "/components/schemas/HealthResponse/properties/uptime_seconds",
        id="property-description",
    ),
    pytest.param(
        "health.yaml",
        _drop_component_description,
        "missing-description",
        "/components/schemas/DependencyCheck",
        id="component-description",
    ),
    pytest.param(
        "health.yaml",
        _drop_examples,
        "missing-example",
        "/components/schemas/HealthResponse",
        id="missing-example",
    ),
    pytest.param(
        "health.yaml",
        _break_example,
        "invalid-example",
        "/components/schemas/HealthResponse/examples/0/status",
        id="invalid-example",
    ),
    pytest.param(
        "health.yaml",
        _break_example_format,
        "invalid-example",
        "/components/schemas/HealthResponse/examples/0/timestamp",
        id="invalid-example-format",
    ),
    pytest.param(
        "health.yaml",
        _inline_enum,
        "inline-enum",
        "/components/schemas/DependencyCheck/properties/status",
        id="inline-enum",
    ),
    pytest.param(
        "health.yaml",
        _optional_without_default,
        "optional-without-default",
        "/components/schemas/HealthResponse/properties/region",
        id="optional-without-default",
    ),
    # x-opsconductor-since: the release (of this major version, not later than this one) that
    # added a property.
    pytest.param(
        "health.yaml",
        _since("critical", "soon"),
        "since-version",
        "/components/schemas/DependencyCheck/properties/critical/x-opsconductor-since",
        id="since-not-a-version",
    ),
    pytest.param(
        "health.yaml",
        _since("details", "1.4.0"),
        "since-version",
        "/components/schemas/DependencyCheck/properties/details/x-opsconductor-since",
        id="since-later-than-the-release",
    ),
    pytest.param(
        "health.yaml",
        _since("details", "0.9.0"),
        "since-version",
        "/components/schemas/DependencyCheck/properties/details/x-opsconductor-since",
        id="since-another-major",
    ),
    pytest.param(
        "health.yaml",
        _since("component", "1.3.0"),
        "since-version",
        "/components/schemas/DependencyCheck/x-opsconductor-since",
        id="since-on-a-component",
    ),
]


def test_shipped_schemas_are_clean() -> None:
    assert lint_schema_dir(SCHEMAS) == []


@pytest.mark.parametrize(("file", "edit", "rule", "pointer"), CASES)
def test_rule_finds_its_failure(
    tmp_path: Path, file: str, edit: Edit, rule: str, pointer: str
) -> None:
    findings = lint_schema_dir(_schemas(tmp_path, file, edit))
    assert [(f.rule, f.file.name, f.pointer) for f in findings] == [(rule, file, pointer)]


def test_load_failures_are_findings(tmp_path: Path) -> None:
    directory = tmp_path / "schemas"
    shutil.copytree(SCHEMAS, directory)
    (directory / "errors.yaml").write_text("openapi: 3.1.0\ninfo: [\n")
    findings = lint_schema_dir(directory)
    assert [(f.rule, f.file.name) for f in findings] == [("schema-invalid", "errors.yaml")]
    assert "invalid YAML at line 3" in findings[0].message


def test_duplicate_keys_are_rejected(tmp_path: Path) -> None:
    directory = tmp_path / "schemas"
    shutil.copytree(SCHEMAS, directory)
    path = directory / "entities.yaml"
    path.write_text(path.read_text().replace("paths: {}\n", "paths: {}\npaths: {}\n", 1))
    findings = lint_schema_dir(directory)
    assert [f.rule for f in findings] == ["schema-invalid"]
    assert "duplicate key 'paths'" in findings[0].message


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", str(SCHEMAS)]) == 0
    broken = _schemas(tmp_path, "health.yaml", _drop_examples)
    assert main(["lint", str(broken)]) == 1
    assert "[missing-example]" in capsys.readouterr().out
    assert main(["lint", str(tmp_path / "nowhere")]) == 2
    assert main(["frobnicate"]) == 2
