"""Classify the changes between two releases of the shared schemas, component by component.

Each component is normalised shallowly: references to other components become
`{"$component": Name}` markers, so a change inside `ErrorDetail` is reported once, at
`ErrorDetail`, not again inside every component that uses it. Where one side has a marker and
the other an inline schema (an inline-to-`$ref` refactor) the marker is expanded and the two are
compared by structure, so such a refactor reports nothing unless the structure changed.

Whether a change breaks depends on the component's `x-contract-direction`. A change *widens* a
schema (accepts more) or *narrows* it (accepts less): narrowing breaks request-side schemas
(old callers send what is now rejected), widening breaks response-side ones (old callers
receive what their models reject), and `both` breaks either way. Removing a component, a
property or an enum value breaks every direction: it also removes a name from the generated
models that code uses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ._compat import Direction, _json_type
from ._findings import RuleInfo, Severity
from ._schemaset import escape_pointer_token

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


class _Differ:
    def __init__(
        self, old: Mapping[str, Any], new: Mapping[str, Any], direction: Direction
    ) -> None:
        self.old, self.new, self.direction = old, new, direction
        self.changes: list[_Change] = []

    def add(
        self, rule: str, level: Level, pointer: str, message: str, *, minor: bool = False
    ) -> None:
        self.changes.append(_Change(rule, level, pointer, message, minor))

    def classify(
        self, rule: str, pointer: str, message: str, *, widens: bool, narrows: bool
    ) -> None:
        self.add(rule, _level(self.direction, widens=widens, narrows=narrows), pointer, message)

    def expand(self, schema: Mapping[str, Any], components: Mapping[str, Any]) -> Mapping[str, Any]:
        name = schema.get(_MARKER)
        if not isinstance(name, str) or name not in components:
            return schema
        extra = {k: v for k, v in schema.items() if k != _MARKER}
        return {**components[name], **extra}

    def diff(self, old: Any, new: Any, pointer: str, expanding: frozenset[str]) -> None:
        if not isinstance(old, Mapping) or not isinstance(new, Mapping):
            if _key(old) != _key(new):
                self.add("schema-changed", "breaking", pointer, "the schema changed")
            return
        old_ref, new_ref = old.get(_MARKER), new.get(_MARKER)
        if old_ref is not None and old_ref == new_ref:
            old = {k: v for k, v in old.items() if k != _MARKER}
            new = {k: v for k, v in new.items() if k != _MARKER}
        elif old_ref is not None or new_ref is not None:
            names = frozenset(str(n) for n in (old_ref, new_ref) if n is not None)
            if names & expanding:
                return
            expanding = expanding | names
            old, new = self.expand(old, self.old), self.expand(new, self.new)
        if "$cycle" in old or "$cycle" in new:
            if _key(old) != _key(new):
                self.add("schema-changed", "breaking", pointer, "a recursive reference changed")
            return
        self.diff_types(old, new, pointer)
        self.diff_enum(old, new, pointer)
        self.diff_format(old, new, pointer)
        self.diff_constraints(old, new, pointer)
        self.diff_additional(old, new, pointer, expanding)
        self.diff_properties(old, new, pointer, expanding)
        self.diff_compositions(old, new, pointer)
        if "items" in old or "items" in new:
            self.diff(old.get("items", {}), new.get("items", {}), f"{pointer}/items", expanding)
        for keyword in sorted((set(old) | set(new)) - _HANDLED):
            if _key(old.get(keyword)) != _key(new.get(keyword)):
                self.add("schema-changed", "breaking", f"{pointer}/{keyword}", f"{keyword} changed")

    def diff_types(self, old: Mapping[str, Any], new: Mapping[str, Any], pointer: str) -> None:
        was, now = _types(old) - {"null"}, _types(new) - {"null"}
        if was != now and (was or now):
            gained = {t for t in now if t not in was and not (t == "integer" and "number" in was)}
            lost = {t for t in was if t not in now and not (t == "integer" and "number" in now)}
            widens = bool(gained) or not now
            narrows = bool(lost) or (not was and bool(now))
            self.classify(
                "property-type-changed",
                f"{pointer}/type",
                f"type changed from {sorted(was) or 'any'} to {sorted(now) or 'any'}",
                widens=widens,
                narrows=narrows,
            )
        if _nullable(old) and not _nullable(new):
            self.classify(
                "nullable-removed", pointer, "null is no longer allowed", widens=False, narrows=True
            )
        elif _nullable(new) and not _nullable(old):
            self.classify(
                "nullable-added", pointer, "null is now allowed", widens=True, narrows=False
            )

    def diff_enum(self, old: Mapping[str, Any], new: Mapping[str, Any], pointer: str) -> None:
        was, now = old.get("enum"), new.get("enum")
        if not isinstance(was, list) and not isinstance(now, list):
            return
        at = f"{pointer}/enum"
        if not isinstance(was, list):
            self.classify(
                "constraint-tightened",
                at,
                "values are now restricted to an enum",
                widens=False,
                narrows=True,
            )
            return
        if not isinstance(now, list):
            self.classify(
                "constraint-loosened",
                at,
                "the enum was dropped: any value is allowed",
                widens=True,
                narrows=False,
            )
            return
        was_keys, now_keys = (
            {_key(v) for v in was if v is not None},
            {_key(v) for v in now if v is not None},
        )
        removed = [v for v in was if v is not None and _key(v) not in now_keys]
        added = [v for v in now if v is not None and _key(v) not in was_keys]
        if removed:
            self.add("enum-value-removed", "breaking", at, f"enum value(s) {removed} removed")
        if added:
            level: Level = "non-breaking" if self.direction == "request" else "warning"
            note = (
                ""
                if level == "non-breaking"
                else ": consumers that handle every value must add them"
            )
            self.add(
                "enum-value-added", level, at, f"enum value(s) {added} added{note}", minor=True
            )

    def diff_format(self, old: Mapping[str, Any], new: Mapping[str, Any], pointer: str) -> None:
        was, now = old.get("format"), new.get("format")
        if was == now:
            return
        at = f"{pointer}/format"
        if was is None:
            self.classify("format-changed", at, f"format {now!r} added", widens=False, narrows=True)
        elif now is None:
            self.classify(
                "format-changed", at, f"format {was!r} removed", widens=True, narrows=False
            )
        else:
            self.add("format-changed", "breaking", at, f"format changed from {was!r} to {now!r}")

    def diff_constraints(
        self, old: Mapping[str, Any], new: Mapping[str, Any], pointer: str
    ) -> None:
        for keyword, sign in _BOUNDS.items():
            was, now = old.get(keyword), new.get(keyword)
            if was == now or not all(isinstance(v, (int, float)) or v is None for v in (was, now)):
                continue
            looser = now is None or (was is not None and (now - was) * sign > 0)
            self._constraint(f"{pointer}/{keyword}", keyword, was, now, looser=looser)
        for keyword in ("pattern", "uniqueItems", "multipleOf"):
            was, now = old.get(keyword), new.get(keyword)
            if was == now or (keyword == "uniqueItems" and not was and not now):
                continue
            looser = now is None or now is False
            if (
                keyword == "multipleOf"
                and was
                and now
                and isinstance(was, (int, float))
                and isinstance(now, (int, float))
            ):
                looser = (was / now).is_integer()
            self._constraint(f"{pointer}/{keyword}", keyword, was, now, looser=looser)

    def _constraint(self, at: str, keyword: str, was: Any, now: Any, *, looser: bool) -> None:
        message = f"{keyword} changed from {was!r} to {now!r}"
        if looser:
            self.classify("constraint-loosened", at, message, widens=True, narrows=False)
        else:
            self.classify("constraint-tightened", at, message, widens=False, narrows=True)

    def diff_additional(
        self,
        old: Mapping[str, Any],
        new: Mapping[str, Any],
        pointer: str,
        expanding: frozenset[str],
    ) -> None:
        closed: dict[str, Any] = {"not": {}}
        was, now = old.get("additionalProperties"), new.get("additionalProperties")
        at = f"{pointer}/additionalProperties"
        if was == now:
            return
        if now == closed:
            self.classify(
                "additional-properties-closed",
                at,
                "additionalProperties is now false",
                widens=False,
                narrows=True,
            )
        elif was == closed:
            self.add(
                "additional-properties-opened",
                "non-breaking",
                at,
                "additionalProperties is no longer false",
            )
        else:
            self.diff(was if was is not None else {}, now if now is not None else {}, at, expanding)

    def diff_properties(
        self,
        old: Mapping[str, Any],
        new: Mapping[str, Any],
        pointer: str,
        expanding: frozenset[str],
    ) -> None:
        was, now = old.get("properties") or {}, new.get("properties") or {}
        was_required, now_required = set(old.get("required") or []), set(new.get("required") or [])
        for name in sorted(set(was) | set(now)):
            at = f"{pointer}/properties/{escape_pointer_token(name)}"
            if name not in now:
                self.add("property-removed", "breaking", at, f"property {name!r} removed")
            elif name not in was:
                if name in now_required:
                    self.classify(
                        "required-property-added",
                        at,
                        f"required property {name!r} added",
                        widens=False,
                        narrows=True,
                    )
                else:
                    self.add(
                        "property-added",
                        "non-breaking",
                        at,
                        f"optional property {name!r} added",
                        minor=True,
                    )
            else:
                if name in was_required and name not in now_required:
                    self.classify(
                        "required-removed",
                        at,
                        f"property {name!r} is no longer required",
                        widens=True,
                        narrows=False,
                    )
                elif name in now_required and name not in was_required:
                    self.classify(
                        "optional-made-required",
                        at,
                        f"property {name!r} is now required",
                        widens=False,
                        narrows=True,
                    )
                self.diff(was[name], now[name], at, expanding)

    def diff_compositions(
        self, old: Mapping[str, Any], new: Mapping[str, Any], pointer: str
    ) -> None:
        for keyword in ("anyOf", "oneOf", "allOf"):
            was = {_key(m) for m in old.get(keyword) or []}
            now = {_key(m) for m in new.get(keyword) or []}
            if was == now:
                continue
            added, removed = bool(now - was), bool(was - now)
            # A member more widens anyOf/oneOf and narrows allOf; a member less does the opposite.
            widens, narrows = (added, removed) if keyword != "allOf" else (removed, added)
            self.classify(
                "composition-changed",
                f"{pointer}/{keyword}",
                f"{keyword} members changed",
                widens=widens,
                narrows=narrows,
            )


def _diff_schemas(
    old_components: Mapping[str, Any],
    new_components: Mapping[str, Any],
    name: str,
    direction: Direction,
) -> Iterator[_Change]:
    """The changes of component `name` between two sets of shallowly normalised components."""
    differ = _Differ(old_components, new_components, direction)
    differ.diff(old_components[name], new_components[name], "", frozenset({name}))
    yield from differ.changes
