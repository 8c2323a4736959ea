"""Normalise JSON Schemas so that equal meanings compare equal, and list structural differences.

Schemas reach us in many spellings of the same thing: a contract in YAML, the same contract
after Pydantic and FastAPI rewrote it (`type: [x, "null"]` as `anyOf`, titles added, `0` as
`0.0`, `const` for a one-value enum, components renamed `Page_Target_`), inline or behind a
`$ref`. `normalize_schema` turns each into one canonical form: references resolved (a cycle
becomes a `{"$cycle": ref}` marker, so recursion always terminates), annotations dropped,
nullability folded into `type`, enums sorted, numbers made exact. `schema_differences` then
compares two normalised schemas property by property.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ANNOTATION_KEYWORDS",
    "SchemaCache",
    "SchemaDifference",
    "normalize_schema",
    "schema_differences",
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


def _exact(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _sort_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _types(schema: Mapping[str, Any]) -> set[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return {kind}
    if isinstance(kind, list):
        return {str(item) for item in kind}
    return set()


def _is_null_only(schema: Mapping[str, Any]) -> bool:
    return (
        _types(schema) == {"null"}
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
            types = _types(non_null[0])
            if types:
                merged["type"] = sorted(types | {"null"})
            elif "enum" in merged:
                merged["enum"] = sorted([*merged["enum"], None], key=_sort_key)
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
    enum_types = {_json_type(value) for value in out.get("enum", [])}
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
            out[key] = sorted(_types(schema))
        elif key == "required" and isinstance(value, list):
            out[key] = sorted(str(item) for item in value)
        elif key == "const":
            out["enum"] = [value]
        elif key == "enum" and isinstance(value, list):
            out[key] = sorted(value, key=_sort_key)
        else:
            out[key] = _exact(value)
    return out


_JSON_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "boolean"),
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (list, "array"),
    (dict, "object"),
)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return next((name for kind, name in _JSON_TYPES if isinstance(value, kind)), "object")


@dataclass(frozen=True)
class SchemaDifference:
    """One structural difference between an expected and an actual schema."""

    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: {self.message}"


def _accepts(types: set[str], kind: str) -> bool:
    return kind in types or (kind == "integer" and "number" in types)


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
        wanted = {_sort_key(value) for value in expected_enum}
        have = None if actual_enum is None else {_sort_key(value) for value in actual_enum}
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
    expected_types, actual_types = _types(expected), _types(actual)
    if not expected_types or not actual_types:
        return
    missing = sorted(kind for kind in expected_types if not _accepts(actual_types, kind))
    extra = sorted(kind for kind in actual_types if not _accepts(expected_types, kind))
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
        where = f"{pointer}/properties/{name.replace('~', '~0').replace('/', '~1')}"
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
            where = f"{pointer}/properties/{name.replace('~', '~0').replace('/', '~1')}"
            yield SchemaDifference(where, f"unexpected property {name!r}")
