"""Normalisation makes equal meanings equal, and the differ finds real differences."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from opsconductor_conformance.normalize import SchemaCache, normalize_schema, schema_differences

SAME = [
    pytest.param(
        {"type": ["string", "null"]},
        {"anyOf": [{"type": "string"}, {"type": "null"}]},
        id="null-union",
    ),
    pytest.param(
        {"type": "string", "nullable": True},
        {"type": ["null", "string"]},
        id="openapi-3.0-nullable",
    ),
    pytest.param({"enum": ["Bearer"]}, {"const": "Bearer", "type": "string"}, id="const-is-enum"),
    pytest.param(
        {"type": "number", "minimum": 0}, {"type": "number", "minimum": 0.0}, id="zero-float"
    ),
    pytest.param({"enum": ["b", "a"]}, {"enum": ["a", "b"], "type": "string"}, id="enum-order"),
    pytest.param(
        {"type": "object", "required": ["b", "a"]},
        {"type": "object", "required": ["a", "b"], "title": "X"},
        id="required-order-title",
    ),
    pytest.param(
        {"allOf": [{"type": "integer"}], "description": "x"}, {"type": "integer"}, id="single-allof"
    ),
    pytest.param({"type": "array", "items": {}}, {"type": "array"}, id="empty-items"),
    pytest.param(
        {"type": "object", "x-extension": 1, "examples": [{}]}, {"type": "object"}, id="annotations"
    ),
]


@pytest.mark.parametrize(("left", "right"), SAME)
def test_equal_meanings_normalise_equal(left: dict[str, Any], right: dict[str, Any]) -> None:
    assert normalize_schema(left) == normalize_schema(right)


def test_refs_resolve_and_cycles_terminate() -> None:
    definitions = {
        "Node": {
            "type": "object",
            "properties": {"child": {"anyOf": [{"$ref": "#/Node"}, {"type": "null"}]}},
        }
    }

    def resolve(ref: str) -> tuple[Any, Any]:
        return definitions[ref.removeprefix("#/")], resolve

    result = normalize_schema({"$ref": "#/Node"}, resolve)
    child = result["properties"]["child"]
    assert child["nullable"] is True
    assert child["anyOf"] == [{"$cycle": "#/Node"}]


def test_inline_and_ref_forms_are_alike() -> None:
    inline = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}

    def resolve(ref: str) -> tuple[Any, Any]:
        return inline, resolve

    assert normalize_schema({"$ref": "#/A"}, resolve) == normalize_schema(inline)


EXPECTED = {
    "type": "object",
    "required": ["id", "name"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "role": {"enum": ["admin", "viewer"]},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
}


def _with(path: list[str], value: Any) -> dict[str, Any]:
    schema = copy.deepcopy(EXPECTED)
    node = schema
    for key in path[:-1]:
        node = node[key]
    if value is None:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return schema


DIFFERENT = [
    pytest.param(
        _with(["properties", "name"], None), "/properties/name", "missing", id="property-missing"
    ),
    pytest.param(
        _with(["required"], ["id"]),
        "/properties/name",
        "required but optional",
        id="required-made-optional",
    ),
    pytest.param(
        _with(["required"], ["id", "name", "role"]),
        "/properties/role",
        "optional but required",
        id="optional-made-required",
    ),
    pytest.param(
        _with(["properties", "id"], {"type": "string"}),
        "/properties/id",
        "type differs",
        id="type-changed",
    ),
    pytest.param(
        _with(["properties", "role"], {"enum": ["admin"]}),
        "/properties/role",
        "enum differs",
        id="enum-changed",
    ),
    pytest.param(
        _with(["properties", "tags", "items"], {"type": "integer"}),
        "/properties/tags/items",
        "type differs",
        id="items-type",
    ),
    pytest.param(
        _with(["properties", "extra"], {"type": "string"}),
        "/properties/extra",
        "unexpected property",
        id="extra-property",
    ),
]


@pytest.mark.parametrize(("actual", "pointer", "message"), DIFFERENT)
def test_differences_are_found(actual: dict[str, Any], pointer: str, message: str) -> None:
    found = list(schema_differences(normalize_schema(EXPECTED), normalize_schema(actual)))
    assert [d.pointer for d in found] == [pointer]
    assert message in found[0].message


def test_loose_mode_accepts_additions() -> None:
    actual = _with(["properties", "extra"], {"type": "string"})
    actual["properties"]["role"] = {"enum": ["admin", "viewer", "operator"]}
    assert (
        list(schema_differences(normalize_schema(EXPECTED), normalize_schema(actual), exact=False))
        == []
    )
    assert list(schema_differences(normalize_schema(EXPECTED), normalize_schema(EXPECTED))) == []


def test_openapi_30_exclusive_bounds_fold_into_31_form() -> None:
    assert normalize_schema(
        {"type": "integer", "minimum": 5, "exclusiveMinimum": True}
    ) == normalize_schema({"type": "integer", "exclusiveMinimum": 5})
    assert normalize_schema({"type": "integer", "maximum": 5, "exclusiveMaximum": False}) == {
        "type": ["integer"],
        "maximum": 5,
    }


def test_cache_normalises_each_reference_once() -> None:
    target = {"type": "object", "properties": {"a": {"type": "integer"}}}
    calls = []

    def resolve(ref: str) -> tuple[Any, Any]:
        calls.append(ref)
        return target, resolve

    cache = SchemaCache()
    first = normalize_schema({"$ref": "#/T"}, resolve, cache=cache)
    second = normalize_schema({"properties": {"x": {"$ref": "#/T"}}}, resolve, cache=cache)
    assert second["properties"]["x"] is first
    assert len(cache) == 1


def test_results_with_cycles_are_cached_with_the_cycle_as_a_marker() -> None:
    node = {"type": "object", "properties": {"child": {"$ref": "#/Node"}}}

    def resolve(ref: str) -> tuple[Any, Any]:
        return node, resolve

    cache = SchemaCache()
    result = normalize_schema({"$ref": "#/Node"}, resolve, cache=cache)
    assert result["properties"]["child"] == {"$cycle": "#/Node"}
    assert len(cache) == 1
    assert normalize_schema({"$ref": "#/Node"}, resolve, cache=cache) is result


@pytest.mark.parametrize(("name", "token"), [("a/b", "a~1b"), ("x~y", "x~0y"), ("~/", "~0~1")])
def test_difference_pointers_escape_property_names(name: str, token: str) -> None:
    expected = {"type": "object", "properties": {name: {"type": "string"}}, "required": [name]}
    missing = {"type": "object", "properties": {}}
    extra = {"type": "object", "properties": {name: {"type": "string"}}}
    found = list(schema_differences(normalize_schema(missing), normalize_schema(expected)))
    assert [d.pointer for d in found] == [f"/properties/{token}"]
    assert "unexpected property" in found[0].message
    found = list(schema_differences(normalize_schema(expected), normalize_schema(missing)))
    assert [d.pointer for d in found] == [f"/properties/{token}"]
    found = list(schema_differences(normalize_schema(expected), normalize_schema(extra)))
    assert [d.pointer for d in found] == [f"/properties/{token}"]
