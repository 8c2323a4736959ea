"""SARIF results and GitHub annotations carry the line and column of each finding (issue 14)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from opsconductor_conformance.positions import Position, PositionMap

from .conftest import CLI, OPENAPI_FIXTURES

BARE_ARRAY = OPENAPI_FIXTURES / "pagination-bare-array.yaml"
POINTER = "/paths/~1targets/get/responses/200/content/application~1json/schema"


def _line_of_schema(text: str) -> tuple[int, int]:
    """(line, column) of the 200 response schema of /targets, found by reading the lines."""
    lines = text.splitlines()
    start = next(
        i for i, line in enumerate(lines) if line.strip().startswith(('"/targets"', "/targets:"))
    )
    ok = next(
        i for i in range(start, len(lines)) if lines[i].strip().startswith(("'200'", '"200"'))
    )
    at = next(
        i for i in range(ok, len(lines)) if lines[i].strip().startswith(("schema", '"schema"'))
    )
    return at + 1, len(lines[at]) - len(lines[at].lstrip()) + 1


@pytest.fixture(params=["yaml", "json"])
def document(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    if request.param == "yaml":
        return BARE_ARRAY
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(yaml.safe_load(BARE_ARRAY.read_text()), indent=2))
    return path


def test_sarif_results_carry_line_and_column(cli: CLI, document: Path) -> None:
    run = cli("validate", document, "--format", "sarif")
    results = run.json()["runs"][0]["results"]
    [pagination] = [r for r in results if r["ruleId"] == "pagination"]
    region = pagination["locations"][0]["physicalLocation"]["region"]
    line, column = _line_of_schema(document.read_text())
    assert (region["startLine"], region["startColumn"]) == (line, column)
    assert all("region" in r["locations"][0]["physicalLocation"] for r in results)


def test_github_annotations_carry_line_and_column(cli: CLI, document: Path) -> None:
    run = cli("validate", document, "--format", "github")
    [annotation] = [line for line in run.out.splitlines() if "pagination" in line]
    line, column = _line_of_schema(document.read_text())
    assert f",line={line},col={column}," in annotation


def test_a_pointer_past_the_text_gets_the_deepest_place_it_reaches() -> None:
    where = PositionMap("a:\n  b: {$ref: '#/c'}\nc: 1\n")
    assert where.locate("/a/b") == Position(2, 3)
    assert where.locate("/a/b/properties/x") == Position(2, 3)
    assert where.locate("") == Position(1, 1)
    assert PositionMap("{: nope").locate("/a") is None
