"""Direction-aware compatibility of a service schema with a contract."""

from __future__ import annotations

from typing import Any

import pytest
from opsconductor_conformance.normalize import (
    SchemaDifference,
    compatibility_differences,
    normalize_schema,
)

CONTRACT = {
    "type": "object",
    "required": ["id"],
    "properties": {
        "id": {"type": "integer"},
        "kind": {"enum": ["a", "b"]},
        "note": {"type": ["string", "null"]},
    },
}


def _differences(actual: dict[str, Any], direction: str) -> list[SchemaDifference]:
    return list(
        compatibility_differences(
            normalize_schema(CONTRACT),
            normalize_schema(actual),
            direction=direction,  # type: ignore[arg-type]
        )
    )


def _found(actual: dict[str, Any], direction: str) -> list[str]:
    """The differences' pointers, missing optional properties aside (the view judges those)."""
    return [d.pointer for d in _differences(actual, direction) if not d.missing_optional]


def _with(**properties: Any) -> dict[str, Any]:
    return {**CONTRACT, "properties": {**CONTRACT["properties"], **properties}}  # type: ignore[dict-item]


@pytest.mark.parametrize(
    ("actual", "as_response", "as_request", "as_both"),
    [
        pytest.param(CONTRACT, [], [], [], id="same"),
        pytest.param(
            _with(kind={"enum": ["a"]}),
            [],
            ["/properties/kind"],
            ["/properties/kind"],
            id="fewer-enum-values",
        ),
        pytest.param(
            _with(kind={"enum": ["a", "b", "c"]}),
            ["/properties/kind"],
            [],
            ["/properties/kind"],
            id="more-enum-values",
        ),
        pytest.param(
            _with(kind={"type": "string"}),
            ["/properties/kind"],
            [],
            ["/properties/kind"],
            id="enum-dropped",
        ),
        pytest.param(
            _with(note={"type": "string"}),
            [],
            ["/properties/note"],
            ["/properties/note"],
            id="null-dropped",
        ),
        pytest.param(
            _with(id={"type": ["integer", "null"]}),
            ["/properties/id"],
            [],
            ["/properties/id"],
            id="null-added",
        ),
        pytest.param(
            {**CONTRACT, "required": []},
            ["/properties/id"],
            [],
            ["/properties/id"],
            id="required-made-optional",
        ),
        pytest.param(
            {**CONTRACT, "required": ["id", "kind"]},
            [],
            ["/properties/kind"],
            ["/properties/kind"],
            id="optional-made-required",
        ),
        pytest.param(_with(extra={"type": "string"}), [], [], [], id="extra-property"),
        # An optional property the service does not list: marked, for the view to judge
        # (compatible if a release later than the service's added it).
        pytest.param(
            {**CONTRACT, "properties": {"id": {"type": "integer"}}},
            [],
            [],
            [],
            id="optional-properties-missing",
        ),
        # A closed request schema rejects what the contract lets callers send.
        pytest.param(
            {**CONTRACT, "properties": {"id": {"type": "integer"}}, "additionalProperties": False},
            [],
            ["/properties/kind", "/properties/note"],
            ["/properties/kind", "/properties/note"],
            id="optional-properties-missing-closed",
        ),
        pytest.param(
            {**CONTRACT, "required": [], "properties": {"kind": {"enum": ["a", "b"]}}},
            ["/properties/id"],
            ["/properties/id"],
            ["/properties/id"],
            id="required-property-missing",
        ),
        pytest.param(
            {**CONTRACT, "properties": {"id": {"type": "integer"}, "kind": {"enum": ["a", "c"]}}},
            ["/properties/kind"],
            ["/properties/kind"],
            ["/properties/kind", "/properties/kind"],  # one value too many, one too few
            id="optional-missing-beside-an-enum-conflict",
        ),
        pytest.param(
            _with(id={"type": "number"}),
            ["/properties/id"],
            [],
            ["/properties/id"],
            id="integer-widened-to-number",
        ),
        pytest.param(
            {"type": "object", "properties": {"x": {}, "y": {}}},
            [""],
            [""],
            [""],
            id="nothing-in-common",
        ),
    ],
)
def test_directions(
    actual: dict[str, Any], as_response: list[str], as_request: list[str], as_both: list[str]
) -> None:
    assert _found(actual, "response") == as_response
    assert _found(actual, "request") == as_request
    assert _found(actual, "both") == as_both


@pytest.mark.parametrize("direction", ["response", "request", "both"])
def test_a_missing_optional_property_is_marked_not_tolerated(direction: str) -> None:
    found = _differences({**CONTRACT, "properties": {"id": {"type": "integer"}}}, direction)
    assert [(d.pointer, d.missing_optional, d.tolerated) for d in found] == [
        ("/properties/kind", True, False),
        ("/properties/note", True, False),
    ]
    assert "optional" in found[0].message


def test_closed_contract_rejects_extra_properties_in_responses() -> None:
    closed = {**CONTRACT, "additionalProperties": False}
    actual = _with(extra={"type": "string"})
    found = list(
        compatibility_differences(
            normalize_schema(closed), normalize_schema(actual), direction="response"
        )
    )
    assert [d.pointer for d in found] == ["/properties/extra"]


def test_formats_compared_only_when_both_sides_have_one() -> None:
    want = normalize_schema({"type": "string", "format": "date-time"})
    assert (
        list(
            compatibility_differences(want, normalize_schema({"type": "string"}), direction="both")
        )
        == []
    )
    found = list(
        compatibility_differences(
            want, normalize_schema({"type": "string", "format": "date"}), direction="both"
        )
    )
    assert "format" in found[0].message
