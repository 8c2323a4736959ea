"""Normalisation grows linearly with the reference graph, however recursive it is (issue 14).

Each referenced component is normalised once per cache: a reference back into the component's
own cycle (its strongly connected set of components) is a `{"$cycle": ref}` marker, the same
wherever the component is reached from, so the result is cached and every rule reuses it.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from opsconductor_conformance.normalize import SchemaCache, normalize_schema

from tests.conformance.conftest import CLI
from tests.conftest import ROOT

SYNTHETIC = ROOT / "tests" / "fixtures" / "real" / "synthetic"


def _recursive(n: int) -> dict[str, Any]:
    """N<i> refers to N<i+1>, N<i+2> and back to N<i-1>: one cycle through all n components."""

    def ref(i: int) -> dict[str, str]:
        return {"$ref": f"#/N{i % n:03d}"}

    return {
        f"N{i:03d}": {
            "type": "object",
            "properties": {"next": ref(i + 1), "skip": ref(i + 2), "back": ref(i - 1)},
        }
        for i in range(n)
    }


def _resolutions(n: int) -> int:
    """How many `$ref`s are resolved to normalise every component of `_recursive(n)`."""
    schemas = _recursive(n)
    calls = 0

    def resolve(ref: str) -> tuple[Any, Any]:
        nonlocal calls
        calls += 1
        return schemas[ref.removeprefix("#/")], resolve

    cache = SchemaCache()
    for name in schemas:
        normalize_schema({"$ref": f"#/{name}"}, resolve, cache=cache)
    return calls


def test_resolutions_grow_linearly_with_the_number_of_recursive_components() -> None:
    small, large = _resolutions(20), _resolutions(200)
    assert large <= 12 * small, (small, large)
    assert large <= 10 * 200, large


def test_a_component_in_a_cycle_is_normalised_once_and_the_same_from_every_entry() -> None:
    schemas = _recursive(5)

    def resolve(ref: str) -> tuple[Any, Any]:
        return schemas[ref.removeprefix("#/")], resolve

    cache = SchemaCache()
    first = normalize_schema({"$ref": "#/N000"}, resolve, cache=cache)
    via_other = normalize_schema({"$ref": "#/N003"}, resolve, cache=cache)
    # N003 reached from the top is the cached one; its references back into the cycle are markers.
    assert via_other["properties"]["next"] == {"$cycle": "#/N004"}
    assert first["properties"]["back"] == {"$cycle": "#/N004"}
    assert normalize_schema({"$ref": "#/N003"}, resolve, cache=cache) is via_other
    assert len(cache) == 2


def test_references_out_of_a_cycle_are_still_resolved() -> None:
    schemas = {
        "Node": {
            "type": "object",
            "properties": {"child": {"$ref": "#/Node"}, "tag": {"$ref": "#/Tag"}},
        },
        "Tag": {"type": "string", "enum": ["a", "b"]},
    }

    def resolve(ref: str) -> tuple[Any, Any]:
        return schemas[ref.removeprefix("#/")], resolve

    node = normalize_schema({"$ref": "#/Node"}, resolve)
    assert node["properties"]["child"] == {"$cycle": "#/Node"}
    assert node["properties"]["tag"] == {"enum": ["a", "b"]}


@pytest.mark.parametrize("name", ["recursive-20.yaml", "recursive-40.yaml"])
def test_validate_on_many_mutually_recursive_components_is_fast(cli: CLI, name: str) -> None:
    started = time.perf_counter()
    run = cli("validate", SYNTHETIC / name, "--format", "json")
    elapsed = time.perf_counter() - started
    assert run.code == 1, run.err
    assert {f["rule"] for f in run.json()["findings"]} >= {"pagination", "error-envelope"}
    # Before: 49 s of CPU for 20 components, about 4x per two more. Now well under a second
    # each; the bound leaves room for a loaded 2-core machine.
    assert elapsed < 10, elapsed
