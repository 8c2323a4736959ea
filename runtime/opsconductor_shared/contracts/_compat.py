"""Direction-aware compatibility of a service's schema with a shared contract.

Both schemas are normalised first (`normalize_schema`). What "compatible" means depends on who
writes the data and who reads it, which each contract declares in `x-contract-direction`:

- `response`: the service writes, callers read. The service may promise more than the contract
  (narrower types, fewer enum values, more required properties, extra properties), never less:
  every contract property is present, required ones stay required, no type or enum value the
  contract does not allow.
- `request`: callers write, the service reads. The service must accept everything the contract
  allows: every contract type and enum value, and it may not require what the contract leaves
  optional.
- `both`: both at once, so types, enums and required properties must match.

Constraints (lengths, bounds, patterns) are not compared here: FastAPI and Pydantic rewrite or
drop some of them. `breaking` compares them between releases of the contracts themselves.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any, Literal

from ._normalize import SchemaDifference
from ._schemaset import escape_pointer_token

__all__ = ["Direction", "compatibility_differences", "contract_direction"]

Direction = Literal["request", "response", "both"]
_DIRECTIONS: tuple[Direction, ...] = ("request", "response", "both")
_COMPOSITIONS = ("anyOf", "oneOf", "allOf", "not", "$cycle", "$ref")


def contract_direction(schema: Mapping[str, Any]) -> Direction:
    """The `x-contract-direction` of a raw contract schema (default `both`)."""
    value = schema.get("x-contract-direction", "both")
    return value if value in _DIRECTIONS else "both"


def _types(schema: Mapping[str, Any]) -> set[str]:
    kind = schema.get("type")
    if isinstance(kind, list):
        return {str(item) for item in kind}
    if isinstance(kind, str):
        return {kind}
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return {_json_type(value) for value in enum}
    return set()


def _json_type(value: Any) -> str:
    """The JSON Schema type of a JSON value (`True` is a boolean, not an integer)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _covered(kinds: set[str], by: set[str]) -> list[str]:
    """The kinds in `kinds` that `by` does not admit (an integer is a number)."""
    return sorted(k for k in kinds if k not in by and not (k == "integer" and "number" in by))


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def compatibility_differences(
    expected: Any, actual: Any, *, direction: Direction, pointer: str = ""
) -> Iterator[SchemaDifference]:
    """Where a normalised schema is not compatible with a normalised contract (see module doc).

    Args:
        expected: the shared contract, normalised.
        actual: the service's schema, normalised.
        direction: who writes and who reads, from the contract's `x-contract-direction`.
        pointer: prefix of the differences' pointers.
    """
    stack: list[tuple[Any, Any, str]] = [(expected, actual, pointer)]
    while stack:
        want, have, where = stack.pop()
        if not isinstance(want, Mapping) or not isinstance(have, Mapping):
            continue
        if "$cycle" in want or "$cycle" in have:
            continue
        yield from _scalar_differences(want, have, where, direction)
        yield from _property_differences(want, have, where, direction, stack)
        for key in ("items", "additionalProperties"):
            if isinstance(want.get(key), Mapping):
                stack.append((want[key], have.get(key, {}), f"{where}/{key}"))


def _scalar_differences(
    want: Mapping[str, Any], have: Mapping[str, Any], where: str, direction: Direction
) -> Iterator[SchemaDifference]:
    wanted, found = _types(want), _types(have)
    if wanted and not found and direction != "request":
        if not any(key in have for key in _COMPOSITIONS):
            yield SchemaDifference(where, f"has no type; the contract allows only {sorted(wanted)}")
    elif wanted and found:
        extra = _covered(found, wanted) if direction != "request" else []
        missing = _covered(wanted, found) if direction != "response" else []
        if extra:
            yield SchemaDifference(
                where, f"allows {extra}, which the contract does not (it allows {sorted(wanted)})"
            )
        if missing:
            yield SchemaDifference(
                where, f"does not accept {missing}, which the contract allows ({sorted(wanted)})"
            )
    yield from _enum_differences(want, have, where, direction)
    if "format" in want and "format" in have and want["format"] != have["format"]:
        yield SchemaDifference(
            where, f"format is {have['format']!r}; the contract says {want['format']!r}"
        )


def _enum_differences(
    want: Mapping[str, Any], have: Mapping[str, Any], where: str, direction: Direction
) -> Iterator[SchemaDifference]:
    wanted, found = want.get("enum"), have.get("enum")
    if not isinstance(wanted, list) and not isinstance(found, list):
        return
    if not isinstance(found, list):
        if direction != "request":
            yield SchemaDifference(
                where, f"is not restricted to the contract's values {wanted}; use its enum"
            )
        return
    if not isinstance(wanted, list):
        if direction != "response":
            yield SchemaDifference(
                where, f"only accepts {found}; the contract allows any value here"
            )
        return
    wanted_keys, found_keys = {_key(v) for v in wanted}, {_key(v) for v in found}
    extra = [v for v in found if _key(v) not in wanted_keys]
    missing = [v for v in wanted if _key(v) not in found_keys]
    if extra and direction != "request":
        yield SchemaDifference(where, f"allows {extra}, which the contract's enum does not")
    if missing and direction != "response":
        yield SchemaDifference(where, f"does not accept {missing} of the contract's enum")


def _property_differences(
    want: Mapping[str, Any],
    have: Mapping[str, Any],
    where: str,
    direction: Direction,
    stack: list[tuple[Any, Any, str]],
) -> Iterator[SchemaDifference]:
    wanted = want.get("properties") or {}
    found = have.get("properties") or {}
    if not wanted and not (direction != "response" and have.get("required")):
        return
    wanted_required = set(want.get("required") or [])
    found_required = set(have.get("required") or [])
    if len(wanted) > 1 and not set(wanted) & set(found):
        expected = ", ".join(sorted(wanted))
        yield SchemaDifference(where, f"has none of the contract's properties ({expected})")
        return
    pending = []
    for name in sorted(wanted):
        at = f"{where}/properties/{escape_pointer_token(name)}"
        if name not in found:
            yield SchemaDifference(at, f"property {name!r} of the contract is missing")
            continue
        if direction != "request" and name in wanted_required and name not in found_required:
            yield SchemaDifference(
                at, f"property {name!r} is required by the contract but optional here"
            )
        pending.append((wanted[name], found[name], at))
    if direction != "response":
        for name in sorted(found_required - wanted_required):
            yield SchemaDifference(
                f"{where}/properties/{escape_pointer_token(name)}",
                f"property {name!r} is required here but optional (or absent) in the contract",
            )
    if want.get("additionalProperties") == {"not": {}} and direction != "request":
        for name in sorted(set(found) - set(wanted)):
            yield SchemaDifference(
                f"{where}/properties/{escape_pointer_token(name)}",
                f"property {name!r} is not allowed: the contract is closed (additionalProperties: false)",
            )
    stack.extend(reversed(pending))
