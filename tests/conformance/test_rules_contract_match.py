"""A component is taken for a shared contract by name *and* structure, and findings say how (issue 14).

A service's own `LoginRequest` that shares a name but not a shape with the shared one is its
own model, not a drifted copy; a marker (`x-opsconductor-contract`) is taken at its word.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from .conftest import CLI, OPENAPI_FIXTURES

BASE = yaml.safe_load((OPENAPI_FIXTURES / "compliant.yaml").read_text())
WHERE = "/components/schemas/LoginRequest"


def _run(cli: CLI, tmp_path: Path, schema: dict[str, Any]) -> list[dict[str, Any]]:
    document = copy.deepcopy(BASE)
    document["components"]["schemas"]["LoginRequest"] = schema
    path = tmp_path / "openapi.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    run = cli("validate", path, "--format", "json")
    return [f for f in run.json()["findings"] if f["rule"] == "component-compat"]


def test_same_name_other_structure_is_not_the_contract(cli: CLI, tmp_path: Path) -> None:
    unrelated = {
        "type": "object",
        "required": ["email", "otp"],
        "properties": {"email": {"type": "string"}, "otp": {"type": "integer"}},
    }
    assert _run(cli, tmp_path, unrelated) == []


def test_same_name_and_structure_is_judged_and_says_so(cli: CLI, tmp_path: Path) -> None:
    drifted = {
        "type": "object",
        "required": ["username", "password"],
        "properties": {"username": {"type": "string"}, "password": {"type": "integer"}},
    }
    found = _run(cli, tmp_path, drifted)
    assert [f["pointer"] for f in found] == [f"{WHERE}/properties/password"]
    assert "by name and structure" in found[0]["message"]


def test_a_marker_is_taken_at_its_word_and_says_so(cli: CLI, tmp_path: Path) -> None:
    marked = {
        "type": "object",
        "x-opsconductor-contract": "LoginRequest",
        "properties": {"email": {"type": "string"}},
    }
    found = _run(cli, tmp_path, marked)
    assert found
    assert all("x-opsconductor-contract" in f["message"] for f in found)
