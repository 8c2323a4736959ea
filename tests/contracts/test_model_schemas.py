"""Each generated model's JSON Schema says what its source schema says."""

from __future__ import annotations

from typing import Any

import pytest
from opsconductor_conformance import SchemaSet
from opsconductor_conformance.normalize import normalize_schema, schema_differences

from tests.contracts.conftest import COMPONENTS, adapter


def _model_schema(name: str) -> Any:
    schema = adapter(name).json_schema()
    definitions = schema.get("$defs", {})

    def resolve(ref: str) -> tuple[Any, Any]:
        return definitions[ref.rsplit("/", 1)[-1]], resolve

    return normalize_schema(schema, resolve)


def _source_schema(schemaset: SchemaSet, name: str) -> Any:
    document, schema = schemaset.components()[name]
    return normalize_schema(schema, schemaset.resolver(document))


def _without(schema: Any, keyword: str) -> Any:
    if isinstance(schema, dict):
        return {k: _without(v, keyword) for k, v in schema.items() if k != keyword}
    if isinstance(schema, list):
        return [_without(item, keyword) for item in schema]
    return schema


@pytest.mark.parametrize("name", COMPONENTS)
def test_same_structure(schemaset: SchemaSet, name: str) -> None:
    """Same properties, same required set, compatible types, equal enums."""
    differences = list(schema_differences(_source_schema(schemaset, name), _model_schema(name)))
    assert [str(d) for d in differences] == []


@pytest.mark.parametrize("name", COMPONENTS)
def test_same_constraints(schemaset: SchemaSet, name: str) -> None:
    """Bounds, lengths and patterns survive generation too (formats Pydantic cannot express,
    such as uri-reference and int64, are the documented exception)."""
    assert _without(_model_schema(name), "format") == _without(
        _source_schema(schemaset, name), "format"
    )
