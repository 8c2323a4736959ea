"""`breaking`: compare two releases of the shared schemas, classify each change, judge the bump.

Components are compared by name, whatever file holds them and whether or not any path uses
them. Each is normalised shallowly: references to other components become `{"$component":
Name}` markers, so a change inside `ErrorDetail` is reported once, at `ErrorDetail`, not again
inside every component that uses it. Where one side has a marker and the other an inline schema
(an inline-to-`$ref` refactor) the marker is expanded and the two are compared by structure, so
such a refactor reports nothing unless the structure changed.

A change *widens* a schema (accepts more) or *narrows* it (accepts less): narrowing breaks
request-side schemas (old callers send what is now rejected), widening breaks response-side ones
(old callers receive what their models reject), and `both` breaks either way. Removing a
component, a property or an enum value breaks every direction: it also removes a name from the
generated models that code uses.

Each rule is registered on the check that finds it (see `rules`): the checks below run, in the
order they are written, at every pair of schemas the differ walks. Then the version: breaking
changes need a major bump of `info.version` (with one, they are reported as information);
compatible changes suggest a minor bump (additions) or a patch bump (anything else).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from .normalize import (
    Direction,
    canonical_json,
    contract_direction,
    normalize_schema,
    schema_types,
)
from .report import Finding, Severity
from .rules import BREAKING, RULES, rule
from .schemaset import (
    SchemaDocument,
    SchemaSet,
    escape_pointer_token,
    parse_semver,
    resolve_pointer,
    unescape_pointer_token,
)

__all__ = ["CONTRACTS_SERVICE", "compare_schema_sets", "schema_dir_label"]

CONTRACTS_SERVICE = "contracts"
"""The service name of `breaking` findings."""
Level = Literal["breaking", "warning", "non-breaking"]
_SEVERITY = {"breaking": Severity.ERROR, "warning": Severity.WARNING, "non-breaking": Severity.INFO}
_MARKER = "$component"
_COMPONENT_REF = re.compile(r"#/components/schemas/([^/]+)$")
_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO
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


@dataclass(frozen=True)
class _Node:
    """Two releases of one schema, where they are, and the components being expanded."""

    old: Mapping[str, Any]
    new: Mapping[str, Any]
    pointer: str
    expanding: frozenset[str]


def _level(direction: Direction, *, widens: bool, narrows: bool) -> Level:
    if (widens and direction != "request") or (narrows and direction != "response"):
        return "breaking"
    return "non-breaking"


def _nullable(schema: Mapping[str, Any]) -> bool:
    enum = schema.get("enum")
    return (
        "null" in schema_types(schema, enum=True)
        or schema.get("nullable") is True
        or (isinstance(enum, list) and None in enum)
    )


def _component_ref_name(ref: str) -> str | None:
    """The component a `$ref` names (`./errors.yaml#/components/schemas/X` is `X`), or None."""
    match = _COMPONENT_REF.search(ref)
    return unescape_pointer_token(match.group(1)) if match else None


@rule("component-removed", BREAKING, _E, "A component is gone. Breaking.", stage=True)
@rule("component-added", BREAKING, _I, "A new component. Non-breaking (minor).", stage=True)
def _component_change(name: str, *, added: bool) -> _Change:
    pointer = f"/components/schemas/{escape_pointer_token(name)}"
    if added:
        return _Change(
            "component-added", "non-breaking", pointer, f"component {name} added", minor=True
        )
    return _Change("component-removed", "breaking", pointer, f"component {name} removed")


@rule("property-removed", BREAKING, _E, "A property is gone. Breaking.")
@rule("property-added", BREAKING, _I, "A new optional property. Non-breaking (minor).")
@rule(
    "required-property-added",
    BREAKING,
    _E,
    "A new required property. Breaking for request and both, non-breaking for response.",
)
@rule(
    "optional-made-required",
    BREAKING,
    _E,
    "An optional property becomes required. Breaking for request and both.",
)
@rule(
    "required-removed",
    BREAKING,
    _E,
    "A required property becomes optional. Breaking for response and both.",
)
def _diff_properties(differ: _Differ, node: _Node) -> None:
    old, new, pointer = node.old, node.new, node.pointer
    was, now = old.get("properties") or {}, new.get("properties") or {}
    was_required, now_required = set(old.get("required") or []), set(new.get("required") or [])
    for name in sorted(set(was) | set(now)):
        at = f"{pointer}/properties/{escape_pointer_token(name)}"
        if name not in now:
            differ.add("property-removed", "breaking", at, f"property {name!r} removed")
        elif name not in was:
            if name in now_required:
                differ.classify(
                    "required-property-added",
                    at,
                    f"required property {name!r} added",
                    widens=False,
                    narrows=True,
                )
            else:
                differ.add(
                    "property-added",
                    "non-breaking",
                    at,
                    f"optional property {name!r} added",
                    minor=True,
                )
        else:
            if name in was_required and name not in now_required:
                differ.classify(
                    "required-removed",
                    at,
                    f"property {name!r} is no longer required",
                    widens=True,
                    narrows=False,
                )
            elif name in now_required and name not in was_required:
                differ.classify(
                    "optional-made-required",
                    at,
                    f"property {name!r} is now required",
                    widens=False,
                    narrows=True,
                )
            differ.diff(was[name], now[name], at, node.expanding)


@rule(
    "property-type-changed",
    BREAKING,
    _E,
    "The type changes. Breaking when it narrows a request or widens a response (any change for both).",
)
@rule("nullable-removed", BREAKING, _E, "null is no longer allowed. Breaking for request and both.")
@rule("nullable-added", BREAKING, _E, "null is now allowed. Breaking for response and both.")
def _diff_types(differ: _Differ, node: _Node) -> None:
    old, new, pointer = node.old, node.new, node.pointer
    was = schema_types(old, enum=True) - {"null"}
    now = schema_types(new, enum=True) - {"null"}
    if was != now and (was or now):
        gained = {t for t in now if t not in was and not (t == "integer" and "number" in was)}
        lost = {t for t in was if t not in now and not (t == "integer" and "number" in now)}
        widens = bool(gained) or not now
        narrows = bool(lost) or (not was and bool(now))
        differ.classify(
            "property-type-changed",
            f"{pointer}/type",
            f"type changed from {sorted(was) or 'any'} to {sorted(now) or 'any'}",
            widens=widens,
            narrows=narrows,
        )
    if _nullable(old) and not _nullable(new):
        differ.classify(
            "nullable-removed", pointer, "null is no longer allowed", widens=False, narrows=True
        )
    elif _nullable(new) and not _nullable(old):
        differ.classify(
            "nullable-added", pointer, "null is now allowed", widens=True, narrows=False
        )


@rule("enum-value-removed", BREAKING, _E, "An enum value is gone. Breaking.")
@rule(
    "enum-value-added",
    BREAKING,
    _W,
    "A new enum value. Warning for response and both (exhaustive consumers), non-breaking for request.",
)
def _diff_enum(differ: _Differ, node: _Node) -> None:
    old, new, pointer = node.old, node.new, node.pointer
    was, now = old.get("enum"), new.get("enum")
    if not isinstance(was, list) or not isinstance(now, list):
        return  # an enum that appears or goes is a constraint (`_diff_constraints`)
    at = f"{pointer}/enum"
    was_keys = {canonical_json(v) for v in was if v is not None}
    now_keys = {canonical_json(v) for v in now if v is not None}
    removed = [v for v in was if v is not None and canonical_json(v) not in now_keys]
    added = [v for v in now if v is not None and canonical_json(v) not in was_keys]
    if removed:
        differ.add("enum-value-removed", "breaking", at, f"enum value(s) {removed} removed")
    if added:
        level: Level = "non-breaking" if differ.direction == "request" else "warning"
        note = (
            "" if level == "non-breaking" else ": consumers that handle every value must add them"
        )
        differ.add("enum-value-added", level, at, f"enum value(s) {added} added{note}", minor=True)


@rule(
    "constraint-tightened",
    BREAKING,
    _E,
    "maxLength, maximum, pattern, minItems... accept less. Breaking for request and both.",
)
@rule(
    "constraint-loosened",
    BREAKING,
    _E,
    "A constraint accepts more. Breaking for response and both.",
)
def _diff_constraints(differ: _Differ, node: _Node) -> None:
    old, new, pointer = node.old, node.new, node.pointer
    was_enum, now_enum = isinstance(old.get("enum"), list), isinstance(new.get("enum"), list)
    if now_enum and not was_enum:
        differ.classify(
            "constraint-tightened",
            f"{pointer}/enum",
            "values are now restricted to an enum",
            widens=False,
            narrows=True,
        )
    elif was_enum and not now_enum:
        differ.classify(
            "constraint-loosened",
            f"{pointer}/enum",
            "the enum was dropped: any value is allowed",
            widens=True,
            narrows=False,
        )
    for keyword, sign in _BOUNDS.items():
        was, now = old.get(keyword), new.get(keyword)
        if was == now or not all(isinstance(v, (int, float)) or v is None for v in (was, now)):
            continue
        looser = now is None or (was is not None and (now - was) * sign > 0)
        _constraint(differ, f"{pointer}/{keyword}", keyword, was, now, looser=looser)
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
        _constraint(differ, f"{pointer}/{keyword}", keyword, was, now, looser=looser)


def _constraint(
    differ: _Differ, at: str, keyword: str, was: Any, now: Any, *, looser: bool
) -> None:
    message = f"{keyword} changed from {was!r} to {now!r}"
    if looser:
        differ.classify("constraint-loosened", at, message, widens=True, narrows=False)
    else:
        differ.classify("constraint-tightened", at, message, widens=False, narrows=True)


@rule("format-changed", BREAKING, _E, "format changed, added (narrows) or removed (widens).")
def _diff_format(differ: _Differ, node: _Node) -> None:
    old, new, pointer = node.old, node.new, node.pointer
    was, now = old.get("format"), new.get("format")
    if was == now:
        return
    at = f"{pointer}/format"
    if was is None:
        differ.classify("format-changed", at, f"format {now!r} added", widens=False, narrows=True)
    elif now is None:
        differ.classify("format-changed", at, f"format {was!r} removed", widens=True, narrows=False)
    else:
        differ.add("format-changed", "breaking", at, f"format changed from {was!r} to {now!r}")


@rule(
    "additional-properties-closed",
    BREAKING,
    _E,
    "additionalProperties becomes false. Breaking for request and both.",
)
@rule(
    "additional-properties-opened",
    BREAKING,
    _I,
    "additionalProperties is no longer false. Non-breaking (models ignore unknown fields).",
)
def _diff_additional(differ: _Differ, node: _Node) -> None:
    old, new, pointer = node.old, node.new, node.pointer
    closed: dict[str, Any] = {"not": {}}
    was, now = old.get("additionalProperties"), new.get("additionalProperties")
    at = f"{pointer}/additionalProperties"
    if was == now:
        return
    if now == closed:
        differ.classify(
            "additional-properties-closed",
            at,
            "additionalProperties is now false",
            widens=False,
            narrows=True,
        )
    elif was == closed:
        differ.add(
            "additional-properties-opened",
            "non-breaking",
            at,
            "additionalProperties is no longer false",
        )
    else:
        differ.diff(
            was if was is not None else {}, now if now is not None else {}, at, node.expanding
        )


@rule(
    "composition-changed",
    BREAKING,
    _E,
    "anyOf/oneOf/allOf members changed: breaking by the same widen/narrow logic.",
)
def _diff_compositions(differ: _Differ, node: _Node) -> None:
    old, new, pointer = node.old, node.new, node.pointer
    for keyword in ("anyOf", "oneOf", "allOf"):
        was = {canonical_json(m) for m in old.get(keyword) or []}
        now = {canonical_json(m) for m in new.get(keyword) or []}
        if was == now:
            continue
        added, removed = bool(now - was), bool(was - now)
        # A member more widens anyOf/oneOf and narrows allOf; a member less does the opposite.
        widens, narrows = (added, removed) if keyword != "allOf" else (removed, added)
        differ.classify(
            "composition-changed",
            f"{pointer}/{keyword}",
            f"{keyword} members changed",
            widens=widens,
            narrows=narrows,
        )


_Check = Callable[["_Differ", _Node], None]


class _Differ:
    """Walks two releases of one component, running every check at every pair of schemas."""

    def __init__(
        self, old: Mapping[str, Any], new: Mapping[str, Any], direction: Direction
    ) -> None:
        self.old, self.new, self.direction = old, new, direction
        self.changes: list[_Change] = []
        self.checks: tuple[_Check, ...] = RULES.checks(BREAKING)

    def add(
        self, rule_id: str, level: Level, pointer: str, message: str, *, minor: bool = False
    ) -> None:
        self.changes.append(_Change(rule_id, level, pointer, message, minor))

    def classify(
        self, rule_id: str, pointer: str, message: str, *, widens: bool, narrows: bool
    ) -> None:
        self.add(rule_id, _level(self.direction, widens=widens, narrows=narrows), pointer, message)

    def expand(self, schema: Mapping[str, Any], components: Mapping[str, Any]) -> Mapping[str, Any]:
        name = schema.get(_MARKER)
        if not isinstance(name, str) or name not in components:
            return schema
        extra = {k: v for k, v in schema.items() if k != _MARKER}
        return {**components[name], **extra}

    @rule(
        "schema-changed",
        BREAKING,
        _E,
        "Any other change the tool cannot classify. Breaking, to be safe.",
        stage=True,
    )
    def diff(self, old: Any, new: Any, pointer: str, expanding: frozenset[str]) -> None:
        if not isinstance(old, Mapping) or not isinstance(new, Mapping):
            if canonical_json(old) != canonical_json(new):
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
            if canonical_json(old) != canonical_json(new):
                self.add("schema-changed", "breaking", pointer, "a recursive reference changed")
            return
        node = _Node(old, new, pointer, expanding)
        for check in self.checks:
            check(self, node)
        if "items" in old or "items" in new:
            self.diff(old.get("items", {}), new.get("items", {}), f"{pointer}/items", expanding)
        for keyword in sorted((set(old) | set(new)) - _HANDLED):
            if canonical_json(old.get(keyword)) != canonical_json(new.get(keyword)):
                self.add("schema-changed", "breaking", f"{pointer}/{keyword}", f"{keyword} changed")


def _marker_resolver(
    schemaset: SchemaSet, document: SchemaDocument
) -> Callable[[str], tuple[Any, Any]]:
    names = set(schemaset.components())

    def resolve(ref: str) -> tuple[Any, Any]:
        name = _component_ref_name(ref)
        if name is not None and name in names:
            return {_MARKER: name}, resolve
        target_file, _, fragment = ref.partition("#")
        target = schemaset.document_for(target_file) if target_file else document
        if target is None:
            raise KeyError(ref)
        return resolve_pointer(target.document, fragment), _marker_resolver(schemaset, target)

    return resolve


def _shallow(schemaset: SchemaSet) -> dict[str, Any]:
    return {
        name: normalize_schema(schema, _marker_resolver(schemaset, document))
        for name, (document, schema) in schemaset.components().items()
    }


def _version(text: str) -> tuple[int, int, int]:
    return parse_semver(text) or (0, 0, 0)


def compare_schema_sets(
    old: SchemaSet, new: SchemaSet, *, old_label: str = "", new_label: str = ""
) -> list[Finding]:
    """Every change from `old` to `new` as findings, plus the verdict on `info.version`.

    Args:
        old: the schemas to compare against (an older release).
        new: the schemas as they are now.
        old_label: how to name the old files in locations (default: their paths).
        new_label: how to name the new files in locations (default: their paths).
    """
    old_components, new_components = old.components(), new.components()
    old_shallow, new_shallow = _shallow(old), _shallow(new)
    major_bump = _version(new.version)[0] > _version(old.version)[0]

    def where(label: str, document: SchemaDocument) -> str:
        return f"{label.rstrip('/')}/{document.path.name}" if label else str(document.path)

    changes: list[tuple[str, _Change]] = []
    for name in sorted(set(old_components) | set(new_components)):
        if name not in old_components or name not in new_components:
            added = name not in old_components
            side, label = (new_components, new_label) if added else (old_components, old_label)
            changes.append((where(label, side[name][0]), _component_change(name, added=added)))
            continue
        location = where(new_label, new_components[name][0])
        direction = contract_direction(new_components[name][1])
        differ = _Differ(old_shallow, new_shallow, direction)
        differ.diff(old_shallow[name], new_shallow[name], "", frozenset({name}))
        pointer = f"/components/schemas/{escape_pointer_token(name)}"
        for change in differ.changes:
            moved = _Change(
                change.rule,
                change.level,
                pointer + change.pointer,
                f"{name} ({direction}): {change.message}",
                change.minor,
            )
            changes.append((location, moved))

    findings = []
    for location, change in changes:
        severity = _SEVERITY[change.level]
        message = f"{change.message} [{change.level}]"
        if change.level == "breaking" and major_bump:
            severity = Severity.INFO
            message = f"{change.message} [breaking, allowed by the major bump to {new.version}]"
        findings.append(
            Finding(change.rule, severity, CONTRACTS_SERVICE, change.pointer, message, location)
        )
    first = where(new_label, new.documents[0])
    findings.extend(_version_findings([c for _, c in changes], old.version, new.version, first))
    return findings


@rule(
    "version-bump",
    BREAKING,
    _E,
    "Breaking changes need a major bump of info.version; compatible ones get a suggested minor or patch bump.",
    stage=True,
)
def _version_findings(changes: list[_Change], old: str, new: str, location: str) -> list[Finding]:
    old_version, new_version = _version(old), _version(new)
    breaking = sum(1 for change in changes if change.level == "breaking")

    def finding(severity: Severity, message: str) -> Finding:
        return Finding(
            "version-bump", severity, CONTRACTS_SERVICE, "/info/version", message, location
        )

    if new_version < old_version:
        return [finding(Severity.ERROR, f"info.version went backwards from {old} to {new}")]
    if breaking and new_version[0] <= old_version[0]:
        return [
            finding(
                Severity.ERROR,
                f"{breaking} breaking change(s) need a major version bump: set info.version to {old_version[0] + 1}.0.0 (it is {new})",
            )
        ]
    if changes and new_version == old_version:
        if any(change.minor for change in changes):
            suggested, kind = (
                f"{old_version[0]}.{old_version[1] + 1}.0",
                "minor: compatible additions",
            )
        else:
            suggested, kind = (
                f"{old_version[0]}.{old_version[1]}.{old_version[2] + 1}",
                "patch: compatible changes",
            )
        return [
            finding(Severity.INFO, f"compatible changes: bump info.version to {suggested} ({kind})")
        ]
    return []


def schema_dir_label(directory: Path) -> str:
    """How a schema directory is named in findings: relative to the working directory if inside."""
    try:
        return str(directory.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(directory)
