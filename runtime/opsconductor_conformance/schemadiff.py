"""The schema differ of `breaking`: two releases of one schema, each change classified.

Schemas are normalised shallowly first (see `shallow_normalizer`): references to components
become `{"$component": Name}` markers, so a change inside `ErrorDetail` is reported once, at
`ErrorDetail`, not again inside every schema that uses it. Where one side has a marker and the
other an inline schema (an inline-to-`$ref` refactor), or two markers name different components
that are not the same component under two names (FastAPI's `Name-Input`/`Name-Output` split of
`Name` is), the markers are expanded and the two compared by structure, so such a refactor
reports nothing unless the structure changed.

A change *widens* a schema (accepts more) or *narrows* it (accepts less): narrowing breaks
request-side schemas (old callers send what is now rejected), widening breaks response-side ones
(old callers receive what their models reject), and `both` breaks either way. Removing a
property or an enum value breaks every direction: it also removes a name from the generated
models that code uses. Nullability is its own change (`anyOf: [X, null]`, `type: [x, "null"]`
and OpenAPI 3.0's `nullable` all fold into one spelling first), never a type change; an `enum`
replacing length or pattern constraints that all its values meet is a narrowing only.

Each rule is registered on the check that finds it (see `rules`): the checks below run, in the
order they are written, at every pair of schemas the differ walks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .normalize import (
    Direction,
    Resolver,
    SchemaCache,
    canonical_json,
    normalize_schema,
    schema_types,
)
from .report import Severity
from .rules import BREAKING, RULES, rule
from .schemaset import escape_pointer_token, resolve_pointer, unescape_pointer_token

__all__ = [
    "MARKER",
    "SEVERITY",
    "Change",
    "Level",
    "SchemaDiffer",
    "component_ref_name",
    "level_of",
    "shallow_normalizer",
]

Level = Literal["breaking", "warning", "non-breaking"]
SEVERITY = {"breaking": Severity.ERROR, "warning": Severity.WARNING, "non-breaking": Severity.INFO}
MARKER = "$component"
_COMPONENT_REF = re.compile(r"#/components/schemas/([^/]+)$")
_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO
# keyword: +1 when a larger value accepts more (a maximum), -1 when it accepts less (a minimum).
_BOUNDS = {
    "maxLength": 1, "maximum": 1, "exclusiveMaximum": 1, "maxItems": 1, "maxProperties": 1,
    "minLength": -1, "minimum": -1, "exclusiveMinimum": -1, "minItems": -1, "minProperties": -1,
}  # fmt: skip
_HANDLED = {
    "type", "enum", "format", "properties", "required", "items", "additionalProperties",
    "nullable", "pattern", "multipleOf", "uniqueItems", MARKER, *_BOUNDS,
    "anyOf", "oneOf", "allOf",
}  # fmt: skip


@dataclass(frozen=True)
class Change:
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


def level_of(direction: Direction, *, widens: bool, narrows: bool) -> Level:
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


def component_ref_name(ref: str) -> str | None:
    """The component a `$ref` names (`./errors.yaml#/components/schemas/X` is `X`), or None."""
    match = _COMPONENT_REF.search(ref)
    return unescape_pointer_token(match.group(1)) if match else None


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
def _diff_properties(differ: SchemaDiffer, node: _Node) -> None:
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
def _diff_types(differ: SchemaDiffer, node: _Node) -> None:
    old, new, pointer = node.old, node.new, node.pointer
    was = schema_types(old, enum=True) - {"null"}
    now = schema_types(new, enum=True) - {"null"}
    if was != now and (was or now):
        gained = {t for t in now if t not in was and not (t == "integer" and "number" in was)}
        lost = {t for t in was if t not in now and not (t == "integer" and "number" in now)}
        # "any" (no type) is wider than every type: to it only widens, from it only narrows.
        widens = (bool(gained) and bool(was)) or not now
        narrows = (bool(lost) and bool(now)) or not was
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
def _diff_enum(differ: SchemaDiffer, node: _Node) -> None:
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
def _diff_constraints(differ: SchemaDiffer, node: _Node) -> None:
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
    # An enum that replaces constraints its values all meet narrows; dropping them is no loosening.
    values = new.get("enum") if now_enum and not was_enum else None
    for keyword, sign in _BOUNDS.items():
        was, now = old.get(keyword), new.get(keyword)
        if was == now or not all(isinstance(v, (int, float)) or v is None for v in (was, now)):
            continue
        if now is None and values is not None and _enum_meets(values, keyword, was):
            continue
        looser = now is None or (was is not None and (now - was) * sign > 0)
        _constraint(differ, f"{pointer}/{keyword}", keyword, was, now, looser=looser)
    for keyword in ("pattern", "uniqueItems", "multipleOf"):
        was, now = old.get(keyword), new.get(keyword)
        if was == now or (keyword == "uniqueItems" and not was and not now):
            continue
        if now is None and values is not None and _enum_meets(values, keyword, was):
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


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_MEETS: dict[str, Callable[[Any, Any], bool]] = {
    "maxLength": lambda v, b: isinstance(v, str) and len(v) <= b,
    "minLength": lambda v, b: isinstance(v, str) and len(v) >= b,
    "maximum": lambda v, b: _is_number(v) and v <= b,
    "minimum": lambda v, b: _is_number(v) and v >= b,
    "exclusiveMaximum": lambda v, b: _is_number(v) and v < b,
    "exclusiveMinimum": lambda v, b: _is_number(v) and v > b,
    "pattern": lambda v, b: isinstance(v, str) and re.search(str(b), v) is not None,
    "multipleOf": lambda v, b: _is_number(v) and (v / b).is_integer(),
}


def _enum_meets(values: list[Any], keyword: str, bound: Any) -> bool:
    """Whether every (non-null) enum value meets the constraint `keyword: bound`."""
    meets = _MEETS.get(keyword)
    if meets is None:
        return False
    try:
        return all(meets(value, bound) for value in values if value is not None)
    except (re.error, TypeError, ZeroDivisionError, OverflowError):
        return False


def _constraint(
    differ: SchemaDiffer, at: str, keyword: str, was: Any, now: Any, *, looser: bool
) -> None:
    message = f"{keyword} changed from {was!r} to {now!r}"
    if looser:
        differ.classify("constraint-loosened", at, message, widens=True, narrows=False)
    else:
        differ.classify("constraint-tightened", at, message, widens=False, narrows=True)


@rule("format-changed", BREAKING, _E, "format changed, added (narrows) or removed (widens).")
def _diff_format(differ: SchemaDiffer, node: _Node) -> None:
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
def _diff_additional(differ: SchemaDiffer, node: _Node) -> None:
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
def _diff_compositions(differ: SchemaDiffer, node: _Node) -> None:
    old, new, pointer = node.old, node.new, node.pointer
    for keyword in ("anyOf", "oneOf", "allOf"):
        was = {differ.member_key(m, old=True) for m in old.get(keyword) or []}
        now = {differ.member_key(m, old=False) for m in new.get(keyword) or []}
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


_Check = Callable[["SchemaDiffer", _Node], None]
_Pair = tuple[Mapping[str, Any], Mapping[str, Any]]


def _unions(before: _Pair, after: _Pair) -> list[_Pair]:
    """The pairs to look for a joined union in: as written, and with either side expanded."""
    pairs = [after]
    if before != after:
        pairs += [(before[0], after[1]), (after[0], before[1])]
    return pairs


class SchemaDiffer:
    """Walks two releases of one component, running every check at every pair of schemas."""

    def __init__(
        self,
        old: Mapping[str, Any],
        new: Mapping[str, Any],
        direction: Direction,
        *,
        aliases: frozenset[tuple[str, str]] = frozenset(),
    ) -> None:
        """Args:
        old: every old component, shallowly normalised, by name.
        new: every new component, shallowly normalised, by name.
        direction: who writes the schemas compared (request, response or both).
        aliases: (old name, new name) pairs that are one component under two names (a
            FastAPI `-Input`/`-Output` split); a marker of one facing a marker of the other is
            the same reference, compared where the components are.
        """
        self.old, self.new, self.direction = old, new, direction
        self.aliases = aliases
        # Each name of an aliased pair, by the name without FastAPI's suffix (the pair's one name).
        self._old_names = {o: min(o, n, key=len) for o, n in aliases}
        self._new_names = {n: min(o, n, key=len) for o, n in aliases}
        self.changes: list[Change] = []
        self.checks: tuple[_Check, ...] = RULES.checks(BREAKING)

    def add(
        self, rule_id: str, level: Level, pointer: str, message: str, *, minor: bool = False
    ) -> None:
        self.changes.append(Change(rule_id, level, pointer, message, minor))

    def classify(
        self, rule_id: str, pointer: str, message: str, *, widens: bool, narrows: bool
    ) -> None:
        self.add(
            rule_id, level_of(self.direction, widens=widens, narrows=narrows), pointer, message
        )

    def expand(self, schema: Mapping[str, Any], components: Mapping[str, Any]) -> Mapping[str, Any]:
        name = schema.get(MARKER)
        if not isinstance(name, str) or name not in components:
            return schema
        extra = {k: v for k, v in schema.items() if k != MARKER}
        return {**components[name], **extra}

    def member_key(self, member: Any, *, old: bool) -> str:
        """A composition member's identity: its JSON, aliased components under one name."""
        names = self._old_names if old else self._new_names
        name = member.get(MARKER) if isinstance(member, Mapping) else None
        if isinstance(name, str) and name in names:
            member = {**member, MARKER: names[name]}
        return canonical_json(member)

    def _same(self, old: Any, new: Any) -> bool:
        if isinstance(old, Mapping) and isinstance(new, Mapping):
            old_ref, new_ref = old.get(MARKER), new.get(MARKER)
            if old_ref is not None and (old_ref, new_ref) in self.aliases and len(old) == len(new):
                return True
        return canonical_json(old) == canonical_json(new)

    def _joined_union(self, old: Mapping[str, Any], new: Mapping[str, Any], pointer: str) -> bool:
        """A schema that became one member of a new `anyOf`/`oneOf` (or the reverse): one
        widening (narrowing) of the union, not a change of everything inside it."""
        for keyword in ("anyOf", "oneOf"):
            if keyword in new and keyword not in old:
                members = new[keyword]
                if isinstance(members, list) and any(self._same(old, m) for m in members):
                    self.classify(
                        "composition-changed",
                        f"{pointer}/{keyword}",
                        f"the schema is now one of {len(members)} {keyword} members",
                        widens=True,
                        narrows=False,
                    )
                    return True
            if keyword in old and keyword not in new:
                members = old[keyword]
                if isinstance(members, list) and any(self._same(m, new) for m in members):
                    self.classify(
                        "composition-changed",
                        f"{pointer}/{keyword}",
                        f"the schema is now only one of the {len(members)} former {keyword} members",
                        widens=False,
                        narrows=True,
                    )
                    return True
        return False

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
        before = (old, new)
        old_ref, new_ref = old.get(MARKER), new.get(MARKER)
        if old_ref is not None and (old_ref == new_ref or (old_ref, new_ref) in self.aliases):
            old = {k: v for k, v in old.items() if k != MARKER}
            new = {k: v for k, v in new.items() if k != MARKER}
        elif old_ref is not None or new_ref is not None:
            names = frozenset(str(n) for n in (old_ref, new_ref) if n is not None)
            if names & expanding:
                return
            expanding = expanding | names
            old, new = self.expand(old, self.old), self.expand(new, self.new)
        if any(self._joined_union(a, b, pointer) for a, b in _unions(before, (old, new))):
            return
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


def shallow_normalizer(
    document: Mapping[str, Any], component_of: Callable[[str], str | None]
) -> Callable[[Any], Any]:
    """Normalises schemas of one document (local `$ref`s only, as a bundled document has),
    each reference to a component becoming a `{"$component": Name}` marker.

    Args:
        document: the document whose `$ref`s are resolved.
        component_of: the component a `$ref` names, or None for any other reference.
    """
    cache = SchemaCache()
    markers: dict[str, dict[str, Any]] = {}

    def resolve(ref: str) -> tuple[Any, Any]:
        name = component_of(ref)
        if name is not None:
            return markers.setdefault(name, {MARKER: name}), resolve
        if not ref.startswith("#"):
            raise KeyError(ref)
        return resolve_pointer(document, ref[1:]), resolve

    resolver: Resolver = resolve
    return lambda schema: normalize_schema(schema, resolver, cache=cache)
