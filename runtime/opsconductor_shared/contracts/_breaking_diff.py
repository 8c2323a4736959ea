"""Find and classify the changes between two releases of one component (see `_breaking_rules`).

Each component is normalised shallowly: references to other components become
`{"$component": Name}` markers, so a change inside `ErrorDetail` is reported once, at
`ErrorDetail`, not again inside every component that uses it. Where one side has a marker and
the other an inline schema (an inline-to-`$ref` refactor) the marker is expanded and the two are
compared by structure, so such a refactor reports nothing unless the structure changed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ._breaking_rules import (
    _BOUNDS,
    _HANDLED,
    _MARKER,
    Level,
    _Change,
    _key,
    _level,
    _nullable,
    _types,
)
from ._compat import Direction
from ._schemaset import escape_pointer_token

__all__: list[str] = []


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
