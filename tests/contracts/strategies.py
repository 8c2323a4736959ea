"""Hypothesis strategies that draw instances of a (normalised) contract schema.

Covers the JSON Schema the contracts use: objects with required and optional properties,
type lists with null, enums, strings with lengths, patterns and date-time format, integers
and numbers with bounds, booleans, arrays with item schemas and sizes, anyOf, free-form
objects and maps (`additionalProperties` with a schema). A keyword outside that set fails
loudly rather than drawing wrong instances.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

_HANDLED = {
    "type",
    "properties",
    "required",
    "enum",
    "minLength",
    "maxLength",
    "pattern",
    "format",
    "minimum",
    "maximum",
    "items",
    "minItems",
    "maxItems",
    "anyOf",
    "additionalProperties",
}
_JSON_SCALARS = st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=20)
_DATETIMES = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
).map(lambda value: value.isoformat().replace("+00:00", "Z"))


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    unknown = set(schema) - _HANDLED
    if unknown:
        raise ValueError(f"strategy cannot draw keywords {sorted(unknown)}")
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "anyOf" in schema:
        return st.one_of([from_schema(member) for member in schema["anyOf"]])
    types = schema.get("type")
    if not types:
        return _JSON_SCALARS
    return st.one_of([_typed(kind, schema) for kind in types])


def _typed(kind: str, schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(schema.get("minimum", -(2**31)), schema.get("maximum", 2**31))
    if kind == "number":
        return st.floats(schema.get("minimum", -1e9), schema.get("maximum", 1e9), allow_nan=False)
    if kind == "string":
        return _string(schema)
    if kind == "array":
        items = from_schema(schema.get("items", {}))
        return st.lists(
            items, min_size=schema.get("minItems", 0), max_size=min(schema.get("maxItems", 5), 5)
        )
    if kind == "object":
        return _object(schema)
    raise ValueError(f"unknown type {kind!r}")


def _string(schema: dict[str, Any]) -> st.SearchStrategy[str]:
    if schema.get("format") == "date-time":
        return _DATETIMES
    low, high = schema.get("minLength", 0), min(schema.get("maxLength", 40), 40)
    if "pattern" in schema:
        return st.from_regex(schema["pattern"], fullmatch=True).filter(
            lambda s: low <= len(s) <= schema.get("maxLength", 10**6)
        )
    return st.text(min_size=low, max_size=max(low, high))


def _object(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    properties = schema.get("properties")
    if not properties:
        values = schema.get("additionalProperties")
        drawn = from_schema(values) if isinstance(values, dict) else _JSON_SCALARS
        return st.dictionaries(st.text(min_size=1, max_size=8), drawn, max_size=3)
    required = set(schema.get("required", []))
    return st.fixed_dictionaries(
        {name: from_schema(sub) for name, sub in properties.items() if name in required},
        optional={
            name: from_schema(sub) for name, sub in properties.items() if name not in required
        },
    )
