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
    never less: every required contract property is present and required, no type or enum
    value the contract does not allow.
  - `request`: callers write, the service reads. The service must accept everything the
    contract allows: every contract type and enum value, every contract property (a closed
    schema must list the optional ones too), and it may not require what the contract leaves
    optional.
  - `both`: both at once, so types, enums and required properties must match.

  An optional contract property the service's schema does not list is a difference like any
  other, marked `missing_optional` (unless a closed schema would reject it in a request, which
  is incompatible whatever the version): whether it is tolerated depends on the contracts
  version the service was built against, which only the caller knows (`ContractView` decides).

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
    "schema_refs",
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

    Each referenced schema is normalised once per cache, however many operations use it and
    however recursive the reference graph is. The targets that reach each other through
    references form cycles (strongly connected sets, found by Tarjan's algorithm the first time
    a target is met); inside a target, a reference to a member of its own cycle is a
    `{"$cycle": ref}` marker, so the normalised form of every target is the same wherever it is
    reached from, and is cached. A reference out of a cycle is resolved as usual. Keep one cache
    per set of documents (per resolver), and never mutate a normalised result.
    """

    def __init__(self) -> None:
        self._entries: dict[int, tuple[Any, Any]] = {}
        # id(target) -> (target, its cycle's number, whether that cycle is recursive)
        self._cycles: dict[int, tuple[Any, int, bool]] = {}
        self._next_cycle = 0
        self.cycles = 0

    def get(self, target: Any) -> Any | None:
        entry = self._entries.get(id(target))
        return entry[1] if entry is not None and entry[0] is target else None

    def put(self, target: Any, normalized: Any) -> None:
        # The target itself is kept so that its id cannot be reused by another object.
        self._entries[id(target)] = (target, normalized)

    def __len__(self) -> int:
        return len(self._entries)

    def cycle_of(self, target: Any, resolve: Resolver) -> tuple[int, bool]:
        """(number of the target's cycle, whether it is recursive), found on first use."""
        known = self._cycles.get(id(target))
        if known is None or known[0] is not target:
            self._find_cycles(target, resolve)
            known = self._cycles[id(target)]
        return known[1], known[2]

    def _find_cycles(self, root: Any, resolve: Resolver) -> None:
        # Tarjan's algorithm, iterative (real documents nest references deeper than Python
        # recurses). Targets met before were explored whole, so they cannot join a new cycle.
        index: dict[int, int] = {}
        low: dict[int, int] = {}
        looped: set[int] = set()
        stack: list[Any] = []
        on_stack: set[int] = set()

        def visit(target: Any, inner: Resolver) -> tuple[Any, Iterator[tuple[Any, Resolver]]]:
            index[id(target)] = low[id(target)] = len(index)
            stack.append(target)
            on_stack.add(id(target))
            return target, (inner(ref) for ref in schema_refs(target))

        work = [visit(root, resolve)]
        while work:
            target, successors = work[-1]
            key = id(target)
            for successor, inner in successors:
                other = id(successor)
                if other == key:
                    looped.add(key)
                known = self._cycles.get(other)
                if known is not None and known[0] is successor:
                    continue
                if other not in index:
                    work.append(visit(successor, inner))
                    break
                if other in on_stack:
                    low[key] = min(low[key], index[other])
            else:
                work.pop()
                if work:
                    parent = id(work[-1][0])
                    low[parent] = min(low[parent], low[key])
                if low[key] == index[key]:
                    members = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(id(member))
                        members.append(member)
                        if member is target:
                            break
                    recursive = len(members) > 1 or key in looped
                    for member in members:
                        self._cycles[id(member)] = (member, self._next_cycle, recursive)
                    self._next_cycle += 1


def schema_refs(schema: Any) -> Iterator[str]:
    """The `$ref`s a schema uses directly (not through other references), as normalising reads them.

    Values of data keywords (`default`, `enum`, `const`, `examples`) are not schemas: a `$ref`
    member inside them is data, never a reference.
    """
    stack = [schema]
    while stack:
        node = stack.pop()
        if not isinstance(node, Mapping):
            continue
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref
        for key, value in node.items():
            if key in ANNOTATION_KEYWORDS or (isinstance(key, str) and key.startswith("x-")):
                continue
            if key == "properties" and isinstance(value, Mapping):
                stack.extend(value.values())
            elif key in _SCHEMA_VALUED:
                stack.append(value)
            elif key in _SCHEMA_LISTS and isinstance(value, list):
                stack.extend(value)


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
    return _normalize(schema, resolve, None, cache if cache is not None else SchemaCache())


def _normalize(schema: Any, resolve: Resolver | None, cycle: int | None, cache: SchemaCache) -> Any:
    if isinstance(schema, bool):
        return _ANY if schema else {"not": _ANY}
    if not isinstance(schema, Mapping):
        return schema
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return _normalize_ref(ref, schema, resolve, cycle, cache)
    out = _normalize_keywords(schema, resolve, cycle, cache)
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
    cycle: int | None,
    cache: SchemaCache,
) -> Any:
    if resolve is None:
        return {"$ref": ref}
    target, inner = resolve(ref)
    number, recursive = cache.cycle_of(target, inner)
    if recursive and number == cycle:
        # A reference back into the cycle being normalised: a reference, not a re-walk.
        cache.cycles += 1
        resolved: Any = {"$cycle": ref}
    else:
        resolved = cache.get(target)
        if resolved is None:
            resolved = _normalize(target, inner, number if recursive else None, cache)
            cache.put(target, resolved)
    siblings = {k: v for k, v in schema.items() if k != "$ref"}
    if not siblings or not isinstance(resolved, dict):
        return resolved
    extra = _normalize(siblings, resolve, cycle, cache)
    return {**resolved, **extra} if extra else resolved


def _normalize_keywords(
    schema: Mapping[str, Any], resolve: Resolver | None, cycle: int | None, cache: SchemaCache
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ANNOTATION_KEYWORDS or (isinstance(key, str) and key.startswith("x-")):
            continue
        if key == "properties" and isinstance(value, Mapping):
            out[key] = {name: _normalize(sub, resolve, cycle, cache) for name, sub in value.items()}
        elif key in _SCHEMA_VALUED:
            out[key] = _normalize(value, resolve, cycle, cache)
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [_normalize(sub, resolve, cycle, cache) for sub in value]
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
    """One structural difference between an expected and an actual schema.

    `missing_optional` marks an optional contract property the schema does not list (see the
    module docstring). `added_in` is set where that is tolerated: the contracts version that
    added the property, later than the one the service declares it was built against.
    """

    pointer: str
    message: str
    missing_optional: bool = False
    added_in: str | None = None

    @property
    def tolerated(self) -> bool:
        """Whether the difference is compatible all the same (see `added_in`)."""
        return self.added_in is not None

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
            if name in wanted_required:
                yield SchemaDifference(at, f"required property {name!r} of the contract is missing")
            elif direction != "response" and have.get("additionalProperties") == {"not": {}}:
                yield SchemaDifference(
                    at,
                    f"does not list the contract's optional property {name!r}, which its closed schema (additionalProperties: false) rejects",
                )
            else:
                yield SchemaDifference(
                    at,
                    f"does not list the contract's optional property {name!r}",
                    missing_optional=True,
                )
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
