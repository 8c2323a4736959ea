"""Load a directory of contract schemas (OpenAPI 3.1 YAML files) and check it is well formed.

A schema set is one directory of YAML files, one concern per file, each a complete OpenAPI 3.1
document whose `components.schemas` hold the contracts. Loading checks what would otherwise
surface as a confusing generator error or, worse, as silently wrong models: YAML syntax and
duplicate keys, the OpenAPI 3.1 structure, every schema against the JSON Schema 2020-12
dialect, every `$ref` (within and across files), unique component names, and one agreed
semantic version in every file's `info.version`. Every problem names its file and the JSON
pointer inside it.

This module imports nothing from the rest of the package, so `make generate` can use it while
the generated package is missing or broken.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from openapi_spec_validator import OpenAPIV31SpecValidator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

__all__ = [
    "SchemaDocument",
    "SchemaProblem",
    "SchemaSet",
    "SchemaSetError",
    "escape_pointer_token",
    "load_schema_dir",
    "load_yaml_file",
    "resolve_pointer",
]

SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?$")
SCHEMA_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class SchemaProblem:
    """One problem in one schema file, at a JSON pointer inside it."""

    file: Path
    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}#{self.pointer}: {self.message}"


class SchemaSetError(ValueError):
    """A schema directory cannot be used; `problems` lists every problem found."""

    def __init__(self, problems: list[SchemaProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


@dataclass(frozen=True)
class SchemaDocument:
    """One schema file: its path and its parsed OpenAPI document."""

    path: Path
    document: Mapping[str, Any]

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def uri(self) -> str:
        return self.path.resolve().as_uri()

    @property
    def version(self) -> str:
        return str(self.document.get("info", {}).get("version", ""))

    @property
    def schemas(self) -> Mapping[str, Any]:
        components = self.document.get("components") or {}
        schemas = components.get("schemas") or {}
        return schemas if isinstance(schemas, Mapping) else {}


@dataclass(frozen=True)
class SchemaSet:
    """A loaded, well-formed schema directory."""

    directory: Path
    documents: tuple[SchemaDocument, ...]
    version: str
    _registry: Registry[Any] = field(repr=False, compare=False)

    def components(self) -> dict[str, tuple[SchemaDocument, Mapping[str, Any]]]:
        """Every component schema by name, with the document that holds it."""
        return {
            name: (document, schema)
            for document in self.documents
            for name, schema in document.schemas.items()
        }

    def validator(self, name: str) -> Draft202012Validator:
        """A JSON Schema 2020-12 validator for component `name`, with every `$ref` resolvable."""
        document, _ = self.components()[name]
        schema = {"$ref": f"{document.uri}#/components/schemas/{escape_pointer_token(name)}"}
        return Draft202012Validator(
            schema,
            registry=self._registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )

    def document_for(self, reference: str) -> SchemaDocument | None:
        """The document a file URI or a relative file reference (`./errors.yaml`) names."""
        name = Path(urlsplit(reference).path).name
        for document in self.documents:
            if reference == document.uri or name == document.path.name:
                return document
        return None

    def resolver(self, document: SchemaDocument) -> Callable[[str], tuple[Any, Any]]:
        """A `$ref` resolver for schemas inside `document` (for `normalize_schema`)."""

        def resolve(ref: str) -> tuple[Any, Any]:
            target_file, _, fragment = ref.partition("#")
            target = self.document_for(target_file) if target_file else document
            if target is None:
                raise KeyError(ref)
            return resolve_pointer(target.document, fragment), self.resolver(target)

        return resolve


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that rejects duplicate keys instead of keeping the last one."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_yaml_file(path: Path) -> Any:
    """Parse one YAML (or JSON) file safely, rejecting duplicate keys.

    Raises:
        SchemaSetError: the file cannot be read or is not valid YAML; the message gives the line.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemaSetError([SchemaProblem(path, "", f"cannot read file: {exc}")]) from exc
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SchemaSetError([SchemaProblem(path, "", f"invalid YAML{where}: {problem}")]) from exc


def escape_pointer_token(token: str) -> str:
    """Escape one JSON pointer reference token (RFC 6901)."""
    return token.replace("~", "~0").replace("/", "~1")


def _pointer(parts: tuple[str | int, ...]) -> str:
    return "".join(f"/{escape_pointer_token(str(part))}" for part in parts)


def resolve_pointer(document: Any, pointer: str) -> Any:
    """The value at a JSON pointer (RFC 6901) in a document.

    Raises:
        KeyError: the pointer does not resolve.
    """
    if pointer in ("", "/"):
        return document
    if not pointer.startswith("/"):
        raise KeyError(pointer)
    node = document
    for raw in pointer[1:].split("/"):
        token = unquote(raw).replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise KeyError(pointer)
    return node


def _walk_refs(document: Any) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every `$ref` string in a document with its location; iterative, so depth cannot crash it."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), document)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, Mapping):
            ref = node.get("$ref")
            if isinstance(ref, str):
                yield path, ref
            stack.extend(((*path, key), value) for key, value in node.items())
        elif isinstance(node, list):
            stack.extend(((*path, index), value) for index, value in enumerate(node))


def _check_refs(
    document: SchemaDocument, by_name: Mapping[str, SchemaDocument]
) -> list[SchemaProblem]:
    problems = []
    for path, ref in _walk_refs(document.document):
        where = _pointer(path)
        target_file, _, fragment = ref.partition("#")
        if urlsplit(target_file).scheme:
            problems.append(
                SchemaProblem(
                    document.path,
                    where,
                    f"$ref {ref!r} is remote; contracts may only refer to files in their own directory",
                )
            )
            continue
        target = document if not target_file else by_name.get(Path(target_file).name)
        if target is None or (
            target_file and (document.path.parent / target_file).resolve() != target.path.resolve()
        ):
            problems.append(
                SchemaProblem(
                    document.path,
                    where,
                    f"$ref {ref!r} names a file that is not in {document.path.parent}",
                )
            )
            continue
        try:
            resolve_pointer(target.document, fragment)
        except KeyError:
            problems.append(
                SchemaProblem(
                    document.path,
                    where,
                    f"$ref {ref!r} does not resolve: {target.path.name} has nothing at {fragment or '/'}",
                )
            )
    return problems


def _check_openapi(document: SchemaDocument) -> list[SchemaProblem]:
    problems = []
    validator = OpenAPIV31SpecValidator(document.document, base_uri=document.uri)
    for error in validator.iter_errors():
        problems.append(
            SchemaProblem(
                document.path,
                _pointer(tuple(error.absolute_path)),
                f"not valid OpenAPI 3.1: {error.message}",
            )
        )
    for name, schema in document.schemas.items():
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            where = _pointer(("components", "schemas", name, *exc.absolute_path))
            problems.append(
                SchemaProblem(
                    document.path, where, f"not a valid JSON Schema 2020-12 schema: {exc.message}"
                )
            )
    return problems


def _check_shape(path: Path, document: Any) -> list[SchemaProblem]:
    if not isinstance(document, Mapping):
        return [SchemaProblem(path, "", "not an OpenAPI document: the top level must be a mapping")]
    openapi = str(document.get("openapi", ""))
    if not openapi.startswith("3.1."):
        return [
            SchemaProblem(
                path,
                "/openapi",
                f"contracts are OpenAPI 3.1 documents; this declares {openapi or 'nothing'!r}",
            )
        ]
    version = (
        document.get("info", {}).get("version")
        if isinstance(document.get("info"), Mapping)
        else None
    )
    if not isinstance(version, str) or not SEMVER.match(version):
        return [
            SchemaProblem(
                path,
                "/info/version",
                f"info.version must be a semantic version such as 1.0.0, not {version!r}",
            )
        ]
    return []


def _read_documents(paths: list[Path]) -> tuple[list[SchemaDocument], list[SchemaProblem]]:
    documents: list[SchemaDocument] = []
    problems: list[SchemaProblem] = []
    for path in paths:
        try:
            raw = load_yaml_file(path)
        except SchemaSetError as exc:
            problems.extend(exc.problems)
            continue
        shape = _check_shape(path, raw)
        problems.extend(shape)
        if not shape:
            documents.append(SchemaDocument(path, raw))
    return documents, problems


def _check_names_and_versions(documents: list[SchemaDocument]) -> list[SchemaProblem]:
    problems: list[SchemaProblem] = []
    by_name = {document.path.name: document for document in documents}
    owners: dict[str, SchemaDocument] = {}
    for document in documents:
        problems.extend(_check_refs(document, by_name))
        for name in document.schemas:
            if name in owners:
                problems.append(
                    SchemaProblem(
                        document.path,
                        f"/components/schemas/{escape_pointer_token(name)}",
                        f"component {name!r} is already defined in {owners[name].path.name}; names must be unique across files",
                    )
                )
            owners.setdefault(name, document)
    # The version most files carry is the agreed one; the files that differ are the mistakes.
    agreed, _ = Counter(document.version for document in documents).most_common(1)[0]
    problems.extend(
        SchemaProblem(
            document.path,
            "/info/version",
            f"info.version {document.version} differs from {agreed} in the other files; all files carry the one contracts version",
        )
        for document in documents
        if document.version != agreed
    )
    return problems


def load_schema_dir(directory: Path | str) -> SchemaSet:
    """Load and check every `*.yaml` schema file of a directory.

    Raises:
        SchemaSetError: with every problem found, each naming its file and pointer.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise SchemaSetError([SchemaProblem(directory, "", "not a directory of schema files")])
    paths = sorted(p for p in directory.iterdir() if p.suffix in SCHEMA_SUFFIXES and p.is_file())
    if not paths:
        raise SchemaSetError(
            [SchemaProblem(directory, "", "no *.yaml schema files in this directory")]
        )
    # Each stage runs only on what the previous one found sound, so one mistake is reported
    # once, at its source, instead of again by every later check.
    documents, problems = _read_documents(paths)
    if not problems:
        problems = _check_names_and_versions(documents)
    if not problems:
        problems = [problem for document in documents for problem in _check_openapi(document)]
    if problems:
        raise SchemaSetError(problems)
    registry: Registry[Any] = Registry().with_resources(
        (
            document.uri,
            Resource.from_contents(dict(document.document), default_specification=DRAFT202012),
        )
        for document in documents
    )
    return SchemaSet(directory, tuple(documents), documents[0].version, registry)
