"""What the rules read: a service's document, the shared contracts, and the one seen through the other.

- `ServiceDocument`: a read-only view of a service's OpenAPI document. Operations come with
  their parameters (path-level ones merged in) and responses, references resolved and each
  paired with the JSON pointer where it is defined, so a finding points at the place to fix.
  Rules keep what they derive from it in `memo`, once per document.
- `SharedContracts`: a loaded schema directory, its components normalised on first use and kept.
- `ContractView`: the document seen through the contracts. A component is taken for shared
  contract X when it is named X (FastAPI's `X-Input` and `X-Output` too), is marked
  `x-opsconductor-contract: X`, carries FastAPI's generic name or title (`X_Target_`,
  `X[Target]`), or, for the page template, has its structure (`items` and `pagination`). A name
  alone is not enough: the component must also resemble X (most of its properties, or of its
  enum values), so a service's own model that only shares a name is left alone. Findings say
  how a component was matched. Such a
  component is checked once, where it is defined (`component-compat`); everywhere else,
  references to it resolve to the contract itself, so one broken component yields one finding,
  not one per operation that uses it.

  The view is also the one place that decides what a comparison with a contract tolerates: an
  optional contract property a schema does not list when the contracts version the document
  declares (`info.x-opsconductor-contracts`) did not have it yet, that is when the property's
  `x-opsconductor-since` names a later release of the same major version. A service built
  against 1.2.0 need not list what 1.3.0 added; anything else missing is drift, in every rule.

Schemas are normalised through one `SchemaCache` per document (and one per view): each
component is normalised once, however many operations use it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar, TypeVar, cast

from .normalize import (
    Direction,
    SchemaCache,
    SchemaDifference,
    canonical_json,
    compatibility_differences,
    contract_direction,
    normalize_schema,
    schema_types,
)
from .schemaset import (
    SchemaSet,
    escape_pointer_token,
    load_schema_dir,
    parse_semver,
    resolve_pointer,
    shared_schema_dir,
    unescape_pointer_token,
)
from .source import HTTP_METHODS, ServiceSource

__all__ = [
    "CONTRACT_KEY",
    "ContractView",
    "Operation",
    "PAGE",
    "SINCE_KEY",
    "SPLIT_SUFFIX",
    "ServiceDocument",
    "SharedContracts",
    "VERSION_KEY",
    "contract_view",
    "is_json_media_type",
    "requires_credentials",
]

CONTRACT_KEY = "x-opsconductor-contract"
"""Marks a service component as a shared contract whatever its name (`x-opsconductor-contract: X`)."""
SINCE_KEY = "x-opsconductor-since"
"""On a contract property: the contracts release that added it (`x-opsconductor-since: "1.3.0"`).

A property without one has been in every release of its major version.
"""
VERSION_KEY = "x-opsconductor-contracts"
"""The contracts version a service's document says it was built against (in `info`)."""
PAGE = "PaginatedResponse"
"""The page template, recognised by structure as well as by name."""
SPLIT_SUFFIX = re.compile(r"-(Input|Output)$")
"""FastAPI's suffixes for a model used in both directions (`Name-Input`, `Name-Output`)."""
_GENERIC_NAME = re.compile(r"^([A-Za-z][A-Za-z0-9]*)_.+_$")
_GENERIC_TITLE = re.compile(r"^([A-Za-z][A-Za-z0-9]*)\[.+\]$")
_COMPONENT_PREFIX = "#/components/schemas/"
_COMBINATIONS = ("allOf", "anyOf", "oneOf")
_MAX_HOPS = 64
_EMPTY: Mapping[str, Any] = {}
T = TypeVar("T")


def is_json_media_type(media_type: str) -> bool:
    """`application/json`, `application/problem+json` and every other `+json` type."""
    essence = media_type.split(";", 1)[0].strip().lower()
    return essence == "application/json" or essence.endswith("+json")


def requires_credentials(requirements: Any) -> bool:
    """Whether security requirements demand credentials: some given, none of them empty (`{}`)."""
    if not isinstance(requirements, list) or not requirements:
        return False
    return all(isinstance(r, Mapping) and r for r in requirements)


@dataclass(frozen=True)
class Operation:
    """One operation: where it is, and its parameters and responses with their pointers."""

    path: str
    method: str
    pointer: str
    raw: Mapping[str, Any]
    parameters: tuple[tuple[str, Mapping[str, Any]], ...]
    responses: dict[str, tuple[str, Mapping[str, Any]]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.method.upper()} {self.path}"

    def parameters_in(self, location: str) -> dict[str, tuple[str, Mapping[str, Any]]]:
        """Parameters of one location (`path`, `query`, `header`, `cookie`) by name."""
        return {
            str(param.get("name")): (pointer, param)
            for pointer, param in self.parameters
            if param.get("in") == location
        }

    def documents(self, status: str) -> bool:
        """Whether a status code is documented, exactly or by its range (`4XX`)."""
        return status in self.responses or f"{status[0]}XX" in self.responses


class ServiceDocument:
    """The OpenAPI document of one service, as the rules see it."""

    def __init__(self, source: ServiceSource) -> None:
        self.source = source
        self.name = source.name
        self.document = source.document
        self._cache = SchemaCache()
        self._memo: dict[Hashable, Any] = {}

    def memo(self, key: Hashable, factory: Callable[[], T]) -> T:
        """A value computed once per document (rules keep their derived views here)."""
        if key not in self._memo:
            self._memo[key] = factory()
        return cast("T", self._memo[key])

    def resolve(self, ref: str) -> tuple[Any, Callable[[str], Any]]:
        """A `$ref` resolver for `normalize_schema` (references are local: checked on load)."""
        return resolve_pointer(self.document, ref[1:]), self.resolve

    def deref(self, pointer: str, node: Any) -> tuple[str, Any]:
        """Follow a chain of `$ref`s to the object it names, with that object's pointer."""
        for _ in range(64):
            if not isinstance(node, Mapping) or not isinstance(node.get("$ref"), str):
                break
            pointer = node["$ref"][1:]
            node = resolve_pointer(self.document, pointer)
        return pointer, node

    def normalized(self, schema: Any) -> Any:
        """A schema of this document, normalised with its references resolved."""
        return normalize_schema(schema, self.resolve, cache=self._cache)

    @cached_property
    def declared_contracts(self) -> tuple[str, Any] | None:
        """(pointer, value) of the contracts version the document says it was built against.

        `info.x-opsconductor-contracts`, or the same key at the top level; None when neither.
        """
        info = self.document.get("info") or _EMPTY
        if VERSION_KEY in info:
            return f"/info/{VERSION_KEY}", info[VERSION_KEY]
        if VERSION_KEY in self.document:
            return f"/{VERSION_KEY}", self.document[VERSION_KEY]
        return None

    @cached_property
    def components(self) -> Mapping[str, Any]:
        schemas = (self.document.get("components") or _EMPTY).get("schemas") or _EMPTY
        return {str(name): schema for name, schema in schemas.items()}

    @cached_property
    def security_schemes(self) -> Mapping[str, Any]:
        components = self.document.get("components") or _EMPTY
        return components.get("securitySchemes") or _EMPTY

    @cached_property
    def operations(self) -> tuple[Operation, ...]:
        operations = []
        for path, item in (self.document.get("paths") or _EMPTY).items():
            where = f"/paths/{escape_pointer_token(str(path))}"
            _, resolved = self.deref(where, item)
            if not isinstance(resolved, Mapping):
                continue
            shared = self._parameters(where, resolved)
            for method in HTTP_METHODS:
                at = f"{where}/{method}"
                # A `$ref` in place of an operation is not OpenAPI, but multi-file
                # specifications (DigitalOcean's) write one: follow it.
                _, raw = self.deref(at, resolved.get(method))
                if not isinstance(raw, Mapping):
                    continue
                own = self._parameters(at, raw)
                names = {(p.get("name"), p.get("in")) for _, p in own}
                merged = [(p, v) for p, v in shared if (v.get("name"), v.get("in")) not in names]
                responses = {}
                for code, response in (raw.get("responses") or _EMPTY).items():
                    key = escape_pointer_token(str(code))
                    target = self.deref(f"{at}/responses/{key}", response)
                    if isinstance(target[1], Mapping):
                        responses[str(code)] = target
                operations.append(Operation(str(path), method, at, raw, (*merged, *own), responses))
        return tuple(operations)

    def _parameters(
        self, pointer: str, owner: Mapping[str, Any]
    ) -> list[tuple[str, Mapping[str, Any]]]:
        found = []
        for index, param in enumerate(owner.get("parameters") or []):
            at, resolved = self.deref(f"{pointer}/parameters/{index}", param)
            if isinstance(resolved, Mapping):
                found.append((at, resolved))
        return found

    def json_bodies(self, pointer: str, response: Mapping[str, Any]) -> list[tuple[str, Any]]:
        """The JSON media types of a response (or request body) as (pointer of schema, schema).

        A JSON media type without a schema is listed with schema None.
        """
        bodies: list[tuple[str, Any]] = []
        content = response.get("content")
        if not isinstance(content, Mapping):
            return bodies
        for media_type, media in content.items():
            if not is_json_media_type(str(media_type)) or not isinstance(media, Mapping):
                continue
            at = f"{pointer}/content/{escape_pointer_token(str(media_type))}"
            bodies.append((f"{at}/schema", media.get("schema")))
        return bodies

    def success_response(self, operation: Operation) -> tuple[str, Mapping[str, Any]] | None:
        """The first documented 2xx response of an operation (200 before 201 ...)."""
        codes = sorted(c for c in operation.responses if c[:1] == "2" and c[1:].isdigit())
        codes += [c for c in operation.responses if c == "2XX"]
        return operation.responses[codes[0]] if codes else None

    def is_secured(self, operation: Operation) -> bool:
        """Whether an operation requires credentials: not x-public, and every requirement non-empty."""
        _, requirements = self.security_of(operation)
        return operation.raw.get("x-public") is not True and requires_credentials(requirements)

    def security_of(self, operation: Operation) -> tuple[str, Any]:
        """The security requirements that apply to an operation, with their pointer."""
        if "security" in operation.raw:
            return f"{operation.pointer}/security", operation.raw["security"]
        return "/security", self.document.get("security")


class SharedContracts:
    """A loaded schema directory, its components normalised on first use and kept.

    Raises (from `load`):
        SchemaSetError: the directory is not a well-formed set of contract schemas.
    """

    _loaded: ClassVar[dict[tuple[Path, bool], SharedContracts]] = {}

    def __init__(self, schemaset: SchemaSet) -> None:
        self.schemaset = schemaset
        self.version = schemaset.version
        self._raw = schemaset.components()
        self._cache = SchemaCache()
        self._normalized: dict[str, Any] = {}
        self._resolvers: dict[str, Callable[[str], Any]] = {}
        self._added: dict[tuple[str, str], str | None] = {}

    @classmethod
    def load(cls, directory: Path | str | None = None) -> SharedContracts:
        """The contracts in `directory` (default: the shipped shared schemas), loaded once.

        The shipped schemas are loaded `trusted` (see `load_schema_dir`): they were checked
        whole before they shipped. A directory named here is checked whole.
        """
        trusted = directory is None
        path = Path(directory or shared_schema_dir()).resolve()
        if (path, trusted) not in cls._loaded:
            cls._loaded[path, trusted] = cls(load_schema_dir(path, trusted=trusted))
        return cls._loaded[path, trusted]

    @property
    def major(self) -> int:
        return (parse_semver(self.version) or (0, 0, 0))[0]

    @cached_property
    def names(self) -> frozenset[str]:
        return frozenset(self._raw)

    def raw(self, name: str) -> Mapping[str, Any]:
        return self._raw[name][1]

    def resolvable(self, name: str) -> tuple[Mapping[str, Any], Callable[[str], Any]]:
        """Component `name` as written, with a resolver for the references inside it."""
        if name not in self._resolvers:
            document, _ = self._raw[name]
            self._resolvers[name] = self.schemaset.resolver(document)
        return self._raw[name][1], self._resolvers[name]

    def direction(self, name: str) -> Direction:
        return contract_direction(self.raw(name))

    def expected(self, name: str) -> Any:
        """Component `name`, normalised (never mutate the result)."""
        if name not in self._normalized:
            document, schema = self._raw[name]
            self._normalized[name] = normalize_schema(
                schema, self.schemaset.resolver(document), cache=self._cache
            )
        return self._normalized[name]

    def added_in(self, name: str, pointer: str) -> str | None:
        """The release that added the property at `pointer` of contract `name` (`SINCE_KEY`).

        `pointer` is where a comparison of the normalised contract found the property
        (`/properties/checks/items/properties/details`); it is followed through the contract as
        written: its `$ref`s, and the `allOf`/`anyOf`/`oneOf` members normalising folds away.
        None when the property carries no `x-opsconductor-since` (it is in every release).
        """
        key = (name, pointer)
        if key not in self._added:
            node: Any = self.resolvable(name)
            for step in _pointer_steps(pointer):
                node = _raw_child(node, step)
                if node is None:
                    break
            since = node[0].get(SINCE_KEY) if node is not None else None
            self._added[key] = since if isinstance(since, str) else None
        return self._added[key]


def _pointer_steps(pointer: str) -> Iterator[tuple[str, ...]]:
    """A comparison's pointer as steps: `("properties", name)`, `("items",)` ..."""
    tokens = [unescape_pointer_token(token) for token in pointer.split("/")[1:]]
    while tokens:
        size = 2 if tokens[0] == "properties" else 1
        yield tuple(tokens[:size])
        del tokens[:size]


def _raw_child(
    node: tuple[Any, Callable[[str], Any]], step: tuple[str, ...]
) -> tuple[Any, Callable[[str], Any]] | None:
    """The subschema `step` leads to in a schema as written (with the resolver beside it)."""
    queue = [node]
    for _ in range(_MAX_HOPS):  # references may cycle
        if not queue:
            break
        schema, resolve = queue.pop(0)
        if not isinstance(schema, Mapping):
            continue
        if step[0] == "properties":
            properties = schema.get("properties")
            if isinstance(properties, Mapping) and step[1:] and step[1] in properties:
                return properties[step[1]], resolve
        elif isinstance(schema.get(step[0]), Mapping):
            return schema[step[0]], resolve
        if isinstance(schema.get("$ref"), str):
            queue.append(resolve(schema["$ref"]))
        for key in _COMBINATIONS:
            members = schema.get(key)
            if isinstance(members, list):
                queue.extend((member, resolve) for member in members)
    return None


def _resembles(schema: Any, expected: Any) -> bool:
    """Whether a raw service schema has a shared contract's structure, roughly.

    More than half of the contract's properties present (an object), at least half of its enum
    values (an enum), or a common type: enough to tell a drifted copy from an unrelated model
    that only shares a name.
    """
    if not isinstance(expected, Mapping) or not isinstance(schema, Mapping):
        return False
    wanted = expected.get("properties")
    if isinstance(wanted, Mapping) and wanted:
        found = schema.get("properties")
        common = set(wanted) & set(found) if isinstance(found, Mapping) else set()
        return 2 * len(common) > len(wanted)
    values = expected.get("enum")
    if isinstance(values, list) and values:
        found_values = schema.get("enum")
        if not isinstance(found_values, list):
            return False
        keys = {canonical_json(v) for v in found_values}
        return 2 * sum(canonical_json(v) in keys for v in values) >= len(values)
    return not schema_types(expected) or bool(schema_types(expected) & schema_types(schema))


def _contract_of(
    name: str, schema: Mapping[str, Any], shape: Any, shared: SharedContracts
) -> tuple[str, str] | None:
    """(contract, how it was recognised) for a service component, or None.

    `shape` is the component with a leading chain of `$ref`s followed (what it looks like).
    """
    marker = schema.get(CONTRACT_KEY)
    if isinstance(marker, str):
        return marker, f"marked {CONTRACT_KEY}: {marker}"
    base = SPLIT_SUFFIX.sub("", name)
    if base in shared.names:
        if _resembles(shape, shared.expected(base)):
            return base, "by name and structure"
        return None
    for pattern, text in ((_GENERIC_NAME, base), (_GENERIC_TITLE, str(schema.get("title", "")))):
        match = pattern.match(text)
        if match and match.group(1) in shared.names:
            if _resembles(shape, shared.expected(match.group(1))):
                return match.group(1), "by FastAPI's generic name and structure"
            return None
    properties = schema.get("properties")
    is_page = isinstance(properties, Mapping) and {"items", "pagination"} <= set(properties)
    if is_page and PAGE in shared.names:
        return PAGE, "by structure (items and pagination)"
    return None


class ContractView:
    """A service's document seen through the shared contracts (see the module docstring)."""

    def __init__(self, doc: ServiceDocument, shared: SharedContracts) -> None:
        self.doc, self.shared = doc, shared
        self._cache = SchemaCache()
        # (contract, direction, id of the normalised schema) -> (that schema, its differences).
        self._verdicts: dict[tuple[str, str, int], tuple[Any, list[SchemaDifference]]] = {}

    @cached_property
    def declared(self) -> tuple[int, int, int] | None:
        """The contracts version the document declares, when it declares a semantic version."""
        found = self.doc.declared_contracts
        return parse_semver(found[1]) if found is not None else None

    @cached_property
    def matches(self) -> dict[str, tuple[str, str]]:
        """Service component name -> (the shared contract it is taken for, how it was matched)."""
        found = {}
        for name, schema in self.doc.components.items():
            if isinstance(schema, Mapping):
                where = f"/components/schemas/{escape_pointer_token(name)}"
                shape = self.doc.deref(where, schema)[1]
                match = _contract_of(name, schema, shape, self.shared)
                if match is not None:
                    found[name] = match
        return found

    @cached_property
    def contracts(self) -> dict[str, str]:
        """Service component name -> the shared contract it is taken for (may be unknown)."""
        return {name: contract for name, (contract, _) in self.matches.items()}

    def resolve(self, ref: str) -> tuple[Any, Callable[[str], Any]]:
        """A `$ref` resolver that resolves a component taken for a contract to the contract."""
        if ref.startswith(_COMPONENT_PREFIX):
            name = unescape_pointer_token(ref[len(_COMPONENT_PREFIX) :])
            contract = self.contracts.get(name)
            if contract in self.shared.names:
                return self.shared.resolvable(contract)
        return resolve_pointer(self.doc.document, ref[1:]), self.resolve

    def normalized(self, schema: Any) -> Any:
        """A schema of the document, normalised, contracts standing in for their components."""
        return normalize_schema(schema, self.resolve, cache=self._cache)

    def differences(
        self, contract: str, schema: Any, direction: Direction | None = None
    ) -> list[SchemaDifference]:
        """Where `schema` differs from `contract` (default: in the contract's direction).

        Each difference is judged (`judge`): the tolerated ones are compatible all the same,
        the others are not (`compatible` says whether any is left).
        """
        direction = direction or self.shared.direction(contract)
        actual = self.normalized(schema)
        # Normalised references are shared objects: judge each one once per contract.
        key = (contract, direction, id(actual))
        cached = self._verdicts.get(key)
        if cached is None or cached[0] is not actual:
            expected = self.shared.expected(contract)
            found = compatibility_differences(expected, actual, direction=direction)
            cached = self._verdicts[key] = (actual, self.judge(contract, found))
        return cached[1]

    def compatible(self, contract: str, schema: Any, direction: Direction | None = None) -> bool:
        """Whether `schema` is compatible with `contract`: no difference, or tolerated ones only."""
        return all(d.tolerated for d in self.differences(contract, schema, direction))

    def judge(
        self, contract: str, differences: Iterable[SchemaDifference], at: str = ""
    ) -> list[SchemaDifference]:
        """Differences of a comparison with `contract`, a tolerated one given its `added_in`.

        A missing optional property is tolerated when the contracts version the document
        declares did not have it yet: the property's `x-opsconductor-since` names a later
        release of the same major version. No declared version (or not a semantic version):
        nothing is tolerated.

        Args:
            at: where in `contract` the compared schema is, when it is not the whole contract
                (`/properties/per_page`).
        """
        return [self._judged(contract, difference, at) for difference in differences]

    def _judged(self, contract: str, difference: SchemaDifference, at: str) -> SchemaDifference:
        if not difference.missing_optional or self.declared is None:
            return difference
        since = self.shared.added_in(contract, at + difference.pointer)
        added = parse_semver(since)
        if added is None or added[0] != self.declared[0] or added <= self.declared:
            return difference
        return replace(difference, added_in=since)


def contract_view(doc: ServiceDocument, shared: SharedContracts) -> ContractView:
    """The one `ContractView` of a document for a set of contracts (kept in `doc.memo`)."""
    return doc.memo(("contracts", id(shared)), lambda: ContractView(doc, shared))
