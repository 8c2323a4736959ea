"""Normalise JSON Schemas so that equal meanings compare equal, then compare them.

Schemas reach us in many spellings of the same thing: a contract in YAML, the same contract
after Pydantic and FastAPI rewrote it (`type: [x, "null"]` as `anyOf`, titles added, `0` as
`0.0`, `const` for a one-value enum, components renamed `Page_Target_`), inline or behind a
`$ref`. `normalize_schema` turns each into one canonical form: references resolved (a cycle
becomes a `{"$cycle": ref}` marker, so recursion always terminates), annotations dropped,
nullability folded into `type`, enums sorted, numbers made exact. A `SchemaCache` keeps the
normalised form of every referenced schema, so each is normalised once however often it is used.

Two comparisons of normalised schemas follow:

- `schema_differences`: structural differences, property by property (exact, or only what the
  expected schema requires);
- `compatibility_differences`: whether a service's schema is compatible with a shared contract,
  which depends on who writes the data and who reads it, as each contract declares in
  `x-contract-direction`:

  - `response`: the service writes, callers read. The service may promise more than the
    contract (narrower types, fewer enum values, more required properties, extra properties),
    never less: every contract property is present, required ones stay required, no type or
    enum value the contract does not allow.
  - `request`: callers write, the service reads. The service must accept everything the
    contract allows: every contract type and enum value, and it may not require what the
    contract leaves optional.
  - `both`: both at once, so types, enums and required properties must match.

  Constraints (lengths, bounds, patterns) are not compared there: FastAPI and Pydantic rewrite
  or drop some of them. `breaking` compares them between releases of the contracts themselves.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .schemaset import escape_pointer_token

__all__ = [
    "ANNOTATION_KEYWORDS",
    "Direction",
    "Resolver",
    "SchemaCache",
    "SchemaDifference",
    "canonical_json",
    "compatibility_differences",
    "contract_direction",
    "json_type",
    "normalize_schema",
    "schema_differences",
    "schema_types",
]

ANNOTATION_KEYWORDS = frozenset(
    {
        "title",
        "description",
        "examples",
        "example",
        "default",
        "readOnly",
        "writeOnly",
        "deprecated",
        "$schema",
        "$id",
        "$comment",
        "$defs",
        "definitions",
        "externalDocs",
        "xml",
        "discriminator",
        "contentMediaType",
        "contentEncoding",
    }
)
_SCHEMA_VALUED = ("items", "additionalProperties", "not", "contains", "propertyNames")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_ANY: dict[str, Any] = {}

Resolver = Callable[[str], tuple[Mapping[str, Any], Callable[[str], Any]]]
"""Resolves a `$ref` to (target schema, resolver for refs inside the target)."""

Direction = Literal["request", "response", "both"]
"""Who writes a contract's data and who reads it (`x-contract-direction`)."""
_DIRECTIONS: tuple[Direction, ...] = ("request", "response", "both")
_COMPOSITIONS = ("anyOf", "oneOf", "allOf", "not", "$cycle", "$ref")


def json_type(value: Any) -> str:
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


def schema_types(schema: Any, *, enum: bool = False) -> set[str]:
    """The types a schema declares in `type` (a string or a list).

    Args:
        schema: a schema (anything else declares no type).
        enum: when `type` is absent, the types of the schema's `enum` values instead.
    """
    if not isinstance(schema, Mapping):
        return set()
    kind = schema.get("type")
    if isinstance(kind, str):
        return {kind}
    if isinstance(kind, list):
        return {str(item) for item in kind}
    values = schema.get("enum") if enum else None
    return {json_type(value) for value in values} if isinstance(values, list) else set()


def canonical_json(value: Any) -> str:
    """One spelling of a JSON value (keys sorted), to compare or sort values of any type."""
    return json.dumps(value, sort_keys=True, default=str)


def _exact(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _is_null_only(schema: Mapping[str, Any]) -> bool:
    return (
        schema_types(schema) == {"null"}
        or schema.get("enum") == [None]
        or ("const" in schema and schema["const"] is None)
    )


def _fold_nullable_union(schema: dict[str, Any]) -> dict[str, Any]:
    """`anyOf: [X, null]` (and `oneOf`) becomes X with "null" added to its types."""
    for key in ("anyOf", "oneOf"):
        members = schema.get(key)
        if not isinstance(members, list):
            continue
        non_null = [member for member in members if not _is_null_only(member)]
        if len(non_null) == len(members):
            continue
        rest = {k: v for k, v in schema.items() if k != key}
        if len(non_null) == 1 and isinstance(non_null[0], dict) and "$cycle" not in non_null[0]:
            merged = {**non_null[0], **rest}
            types = schema_types(non_null[0])
            if types:
                merged["type"] = sorted(types | {"null"})
            elif "enum" in merged:
                merged["enum"] = sorted([*merged["enum"], None], key=canonical_json)
            else:
                merged["nullable"] = True
            return merged
        schema = {**rest, key: non_null, "nullable": True}
    return schema


class SchemaCache:
    """Normalised forms of referenced schemas, reused across `normalize_schema` calls.

    Each referenced schema is normalised once per cache, however many operations use it. A
    result that depends on where it was reached from (it contains a `$cycle` marker) is never
    cached. Keep one cache per set of documents, and never mutate a normalised result.
    """

    def __init__(self) -> None:
        self._entries: dict[int, tuple[Any, Any]] = {}
        self.cycles = 0

    def get(self, target: Any) -> Any | None:
        entry = self._entries.get(id(target))
        return entry[1] if entry is not None and entry[0] is target else None

    def put(self, target: Any, normalized: Any) -> None:
        # The target itself is kept so that its id cannot be reused by another object.
        self._entries[id(target)] = (target, normalized)

    def __len__(self) -> int:
        return len(self._entries)


def normalize_schema(
    schema: Any,
    resolve: Resolver | None = None,
    *,
    cache: SchemaCache | None = None,
) -> Any:
    """The canonical form of a schema (see the module docstring).

    Args:
        schema: a JSON Schema (a mapping, or a boolean schema).
        resolve: resolves `$ref`s; without it, references stay as `{"$ref": ...}`.
        cache: reuse normalised referenced schemas across calls (see `SchemaCache`).

    Raises:
        RecursionError: the schema nests (through its references) deeper than Python recurses.
    """
    return _normalize(schema, resolve, (), cache if cache is not None else SchemaCache())


def _normalize(
    schema: Any, resolve: Resolver | None, seen: tuple[str, ...], cache: SchemaCache
) -> Any:
    if isinstance(schema, bool):
        return _ANY if schema else {"not": _ANY}
    if not isinstance(schema, Mapping):
        return schema
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return _normalize_ref(ref, schema, resolve, seen, cache)
    out = _normalize_keywords(schema, resolve, seen, cache)
    for key in ("additionalProperties", "items"):
        if out.get(key) == _ANY:
            del out[key]
    if out.pop("nullable", None) is True:
        if "type" in out:
            out["type"] = sorted(set(out["type"]) | {"null"})
        else:
            out["nullable"] = True
    _fold_exclusive_bounds(out)
    all_of = out.get("allOf")
    if isinstance(all_of, list) and len(all_of) == 1 and isinstance(all_of[0], dict):
        out = {**all_of[0], **{k: v for k, v in out.items() if k != "allOf"}}
    out = _fold_nullable_union(out)
    enum_types = {json_type(value) for value in out.get("enum", [])}
    types = set(out.get("type", ["?"]))
    if (
        "enum" in out
        and types <= enum_types | {"null"}
        and (None in out["enum"] or "null" not in types)
    ):
        # An enum already says the type; FastAPI and the generator disagree on repeating it.
        del out["type"]
    return out


def _fold_exclusive_bounds(out: dict[str, Any]) -> None:
    """OpenAPI 3.0's boolean `exclusiveMinimum` (with `minimum`) becomes the 3.1 number form."""
    for exclusive, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        flag = out.get(exclusive)
        if isinstance(flag, bool):
            del out[exclusive]
            if flag and bound in out:
                out[exclusive] = out.pop(bound)


def _normalize_ref(
    ref: str,
    schema: Mapping[str, Any],
    resolve: Resolver | None,
    seen: tuple[str, ...],
    cache: SchemaCache,
) -> Any:
    if ref in seen:
        cache.cycles += 1
        return {"$cycle": ref}
    if resolve is None:
        return {"$ref": ref}
    target, inner = resolve(ref)
    resolved = cache.get(target)
    if resolved is None:
        cycles = cache.cycles
        resolved = _normalize(target, inner, (*seen, ref), cache)
        if cache.cycles == cycles:
            cache.put(target, resolved)
    siblings = {k: v for k, v in schema.items() if k != "$ref"}
    if not siblings or not isinstance(resolved, dict):
        return resolved
    extra = _normalize(siblings, resolve, seen, cache)
    return {**resolved, **extra} if extra else resolved


def _normalize_keywords(
    schema: Mapping[str, Any], resolve: Resolver | None, seen: tuple[str, ...], cache: SchemaCache
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ANNOTATION_KEYWORDS or (isinstance(key, str) and key.startswith("x-")):
            continue
        if key == "properties" and isinstance(value, Mapping):
            out[key] = {name: _normalize(sub, resolve, seen, cache) for name, sub in value.items()}
        elif key in _SCHEMA_VALUED:
            out[key] = _normalize(value, resolve, seen, cache)
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [_normalize(sub, resolve, seen, cache) for sub in value]
        elif key == "type":
            out[key] = sorted(schema_types(schema))
        elif key == "required" and isinstance(value, list):
            out[key] = sorted(str(item) for item in value)
        elif key == "const":
            out["enum"] = [value]
        elif key == "enum" and isinstance(value, list):
            out[key] = sorted(value, key=canonical_json)
        else:
            out[key] = _exact(value)
    return out


@dataclass(frozen=True)
class SchemaDifference:
    """One structural difference between an expected and an actual schema."""

    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: {self.message}"


def _admitted(kinds: set[str], by: set[str]) -> list[str]:
    """The kinds in `kinds` that `by` does not admit (an integer is a number)."""
    return sorted(k for k in kinds if k not in by and not (k == "integer" and "number" in by))


def _enum_of(schema: Mapping[str, Any]) -> list[Any] | None:
    enum = schema.get("enum")
    return list(enum) if isinstance(enum, list) else None


def schema_differences(
    expected: Any, actual: Any, pointer: str = "", *, exact: bool = True
) -> Iterator[SchemaDifference]:
    """Structural differences of two normalised schemas, recursively through properties and items.

    Args:
        expected: the reference (normalised), such as a shared contract.
        actual: the schema to check (normalised).
        exact: require the same required set, the same types and the same enum values; when
            False, only what `expected` requires: its properties present, its required ones
            required, its types accepted, its enum values present.
    """
    if not isinstance(expected, Mapping) or not isinstance(actual, Mapping):
        return
    if "$cycle" in expected or "$cycle" in actual:
        return
    yield from _type_differences(expected, actual, pointer, exact=exact)
    expected_enum, actual_enum = _enum_of(expected), _enum_of(actual)
    if expected_enum is not None:
        wanted = {canonical_json(value) for value in expected_enum}
        have = None if actual_enum is None else {canonical_json(value) for value in actual_enum}
        if have is None:
            if exact:
                yield SchemaDifference(pointer, f"expected enum {expected_enum}, found no enum")
        elif (have != wanted) if exact else not wanted <= have:
            yield SchemaDifference(
                pointer, f"enum differs: expected {expected_enum}, found {actual_enum}"
            )
    yield from _object_differences(expected, actual, pointer, exact=exact)
    if isinstance(expected.get("items"), Mapping):
        yield from schema_differences(
            expected["items"], actual.get("items", _ANY), f"{pointer}/items", exact=exact
        )


def _type_differences(
    expected: Mapping[str, Any], actual: Mapping[str, Any], pointer: str, *, exact: bool
) -> Iterator[SchemaDifference]:
    expected_types, actual_types = schema_types(expected), schema_types(actual)
    if not expected_types or not actual_types:
        return
    missing = _admitted(expected_types, actual_types)
    extra = _admitted(actual_types, expected_types)
    if missing or (exact and extra):
        yield SchemaDifference(
            pointer,
            f"type differs: expected {sorted(expected_types)}, found {sorted(actual_types)}",
        )


def _object_differences(
    expected: Mapping[str, Any], actual: Mapping[str, Any], pointer: str, *, exact: bool
) -> Iterator[SchemaDifference]:
    expected_props = expected.get("properties") or {}
    actual_props = actual.get("properties") or {}
    expected_required = set(expected.get("required") or [])
    actual_required = set(actual.get("required") or [])
    for name in sorted(expected_props):
        where = f"{pointer}/properties/{escape_pointer_token(name)}"
        if name not in actual_props:
            yield SchemaDifference(where, f"property {name!r} is missing")
            continue
        if name in expected_required and name not in actual_required:
            yield SchemaDifference(where, f"property {name!r} is required but optional here")
        elif exact and name in actual_required and name not in expected_required:
            yield SchemaDifference(where, f"property {name!r} is optional but required here")
        yield from schema_differences(expected_props[name], actual_props[name], where, exact=exact)
    if exact:
        for name in sorted(set(actual_props) - set(expected_props)):
            where = f"{pointer}/properties/{escape_pointer_token(name)}"
            yield SchemaDifference(where, f"unexpected property {name!r}")


def contract_direction(schema: Mapping[str, Any]) -> Direction:
    """The `x-contract-direction` of a raw contract schema (default `both`)."""
    value = schema.get("x-contract-direction", "both")
    return value if value in _DIRECTIONS else "both"


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
    wanted, found = schema_types(want, enum=True), schema_types(have, enum=True)
    if wanted and not found and direction != "request":
        if not any(key in have for key in _COMPOSITIONS):
            yield SchemaDifference(where, f"has no type; the contract allows only {sorted(wanted)}")
    elif wanted and found:
        extra = _admitted(found, wanted) if direction != "request" else []
        missing = _admitted(wanted, found) if direction != "response" else []
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
    wanted_keys = {canonical_json(v) for v in wanted}
    found_keys = {canonical_json(v) for v in found}
    extra = [v for v in found if canonical_json(v) not in wanted_keys]
    missing = [v for v in wanted if canonical_json(v) not in found_keys]
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
