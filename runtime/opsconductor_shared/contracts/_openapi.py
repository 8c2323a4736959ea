"""A read-only view of a service's OpenAPI document for the conformance rules.

Operations come with their parameters (path-level ones merged in) and responses, references
resolved and each paired with the JSON pointer where it is defined, so a finding points at the
place to fix. Schemas are normalised through one `SchemaCache` per document: each component is
normalised once, however many operations use it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar, cast

from ._normalize import SchemaCache, normalize_schema
from ._schemaset import escape_pointer_token, resolve_pointer
from ._source import HTTP_METHODS, ServiceSource

__all__ = ["Operation", "ServiceDocument", "is_json_media_type", "requires_credentials"]

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
                raw = resolved.get(method)
                if not isinstance(raw, Mapping):
                    continue
                at = f"{where}/{method}"
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
