"""The `breaking` rules: ids, levels, and the classified change they produce.

A change *widens* a schema (accepts more) or *narrows* it (accepts less): narrowing breaks
request-side schemas (old callers send what is now rejected), widening breaks response-side ones
(old callers receive what their models reject), and `both` breaks either way. Removing a
component, a property or an enum value breaks every direction: it also removes a name from the
generated models that code uses. `_breaking_diff` finds and classifies the changes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ._compat import Direction, _json_type
from ._findings import RuleInfo, Severity

__all__: list[str] = []

Level = Literal["breaking", "warning", "non-breaking"]
_MARKER = "$component"
_COMPONENT_REF = re.compile(r"#/components/schemas/([^/]+)$")

BREAKING_RULES: tuple[RuleInfo, ...] = tuple(
    RuleInfo(rule_id, severity, summary)
    for rule_id, severity, summary in (
        ("component-removed", Severity.ERROR, "A component is gone. Breaking."),
        ("component-added", Severity.INFO, "A new component. Non-breaking (minor)."),
        ("property-removed", Severity.ERROR, "A property is gone. Breaking."),
        ("property-added", Severity.INFO, "A new optional property. Non-breaking (minor)."),
        (
            "required-property-added",
            Severity.ERROR,
            "A new required property. Breaking for request and both, non-breaking for response.",
        ),
        (
            "optional-made-required",
            Severity.ERROR,
            "An optional property becomes required. Breaking for request and both.",
        ),
        (
            "required-removed",
            Severity.ERROR,
            "A required property becomes optional. Breaking for response and both.",
        ),
        (
            "property-type-changed",
            Severity.ERROR,
            "The type changes. Breaking when it narrows a request or widens a response (any change for both).",
        ),
        (
            "nullable-removed",
            Severity.ERROR,
            "null is no longer allowed. Breaking for request and both.",
        ),
        ("nullable-added", Severity.ERROR, "null is now allowed. Breaking for response and both."),
        ("enum-value-removed", Severity.ERROR, "An enum value is gone. Breaking."),
        (
            "enum-value-added",
            Severity.WARNING,
            "A new enum value. Warning for response and both (exhaustive consumers), non-breaking for request.",
        ),
        (
            "constraint-tightened",
            Severity.ERROR,
            "maxLength, maximum, pattern, minItems... accept less. Breaking for request and both.",
        ),
        (
            "constraint-loosened",
            Severity.ERROR,
            "A constraint accepts more. Breaking for response and both.",
        ),
        ("format-changed", Severity.ERROR, "format changed, added (narrows) or removed (widens)."),
        (
            "additional-properties-closed",
            Severity.ERROR,
            "additionalProperties becomes false. Breaking for request and both.",
        ),
        (
            "additional-properties-opened",
            Severity.INFO,
            "additionalProperties is no longer false. Non-breaking (models ignore unknown fields).",
        ),
        (
            "composition-changed",
            Severity.ERROR,
            "anyOf/oneOf/allOf members changed: breaking by the same widen/narrow logic.",
        ),
        (
            "schema-changed",
            Severity.ERROR,
            "Any other change the tool cannot classify. Breaking, to be safe.",
        ),
        (
            "version-bump",
            Severity.ERROR,
            "Breaking changes need a major bump of info.version; compatible ones get a suggested minor or patch bump.",
        ),
    )
)

# keyword: +1 when a larger value accepts more (a maximum), -1 when it accepts less (a minimum).
_BOUNDS = {
    "maxLength": 1, "maximum": 1, "exclusiveMaximum": 1, "maxItems": 1, "maxProperties": 1,
    "minLength": -1, "minimum": -1, "exclusiveMinimum": -1, "minItems": -1, "minProperties": -1,
}  # fmt: skip
_HANDLED = {
    "type", "enum", "format", "properties", "required", "items", "additionalProperties",
    "nullable", "pattern", "multipleOf", "uniqueItems", _MARKER, *_BOUNDS,
    "anyOf", "oneOf", "allOf",
}  # fmt: skip


@dataclass(frozen=True)
class _Change:
    """One classified change inside one component."""

    rule: str
    level: Level
    pointer: str
    message: str
    minor: bool = False


def _component_ref_name(ref: str) -> str | None:
    """The component a `$ref` names (`./errors.yaml#/components/schemas/X` is `X`), or None."""
    match = _COMPONENT_REF.search(ref)
    return match.group(1).replace("~1", "/").replace("~0", "~") if match else None


def _level(direction: Direction, *, widens: bool, narrows: bool) -> Level:
    if (widens and direction != "request") or (narrows and direction != "response"):
        return "breaking"
    return "non-breaking"


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _types(schema: Mapping[str, Any]) -> set[str]:
    kind = schema.get("type")
    if isinstance(kind, list):
        return {str(k) for k in kind}
    if isinstance(kind, str):
        return {kind}
    enum = schema.get("enum")
    return {_json_type(v) for v in enum} if isinstance(enum, list) else set()


def _nullable(schema: Mapping[str, Any]) -> bool:
    enum = schema.get("enum")
    return (
        "null" in _types(schema)
        or schema.get("nullable") is True
        or (isinstance(enum, list) and None in enum)
    )
