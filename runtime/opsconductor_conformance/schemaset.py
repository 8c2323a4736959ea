"""The contract schema set: YAML and JSON pointers, staged loading, and where the shipped set is.

A schema set is one directory of YAML files, one concern per file, each a complete OpenAPI 3.1
document whose `components.schemas` hold the contracts. Loading checks what would otherwise
surface as a confusing generator error or, worse, as silently wrong models, in stages that each
run only on what the previous one found sound (so one mistake is reported once, at its source):

1. read: YAML syntax without duplicate keys, an OpenAPI 3.1 document, a semantic `info.version`;
2. references: every `$ref` resolves (within and across files, never remote), component names
   are unique across files, and every file carries the one agreed version;
3. meta: the OpenAPI 3.1 structure, and every schema against the JSON Schema 2020-12 dialect.

Every problem names its file and the JSON pointer inside it. The third stage is the slow one
(openapi-spec-validator and jsonschema take longer to import than a whole `validate` run); it is
skipped for a `trusted` directory, such as the shipped schemas, which `make schema-lint` and the
packaging test check before they ship.

This module is the bottom of the package: it imports nothing else of it, and neither
`opsconductor_contracts` nor `opsconductor_shared`, so `make generate` can use it while the
generated package is missing or broken.
"""

from __future__ import annotations

import importlib.util
import re
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import yaml
from yaml.constructor import ConstructorError

try:
    from yaml import CSafeLoader as _FastSafeLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _FastSafeLoader  # type: ignore[assignment]

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from referencing import Registry

__all__ = [
    "CONTRACTS_PACKAGE",
    "DocumentLoader",
    "SCHEMA_SUFFIXES",
    "SEMVER",
    "SchemaDocument",
    "SchemaProblem",
    "SchemaSet",
    "SchemaSetError",
    "escape_pointer_token",
    "join_pointer",
    "load_schema_dir",
    "load_yaml_file",
    "parse_semver",
    "resolve_pointer",
    "shared_schema_dir",
    "unescape_pointer_token",
]

SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?$")
"""A semantic version (`1.4.2`, `2.0.0-rc.1`): the form of every contracts version."""
SCHEMA_SUFFIXES = (".yaml", ".yml")
CONTRACTS_PACKAGE = "opsconductor_contracts"
"""The package whose wheel carries the shared schemas (as `opsconductor_contracts/schemas/`)."""


def parse_semver(text: object) -> tuple[int, int, int] | None:
    """(major, minor, patch) of a semantic version, or None when `text` is not one."""
    match = SEMVER.match(text) if isinstance(text, str) else None
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def escape_pointer_token(token: str) -> str:
    """Escape one JSON pointer reference token (RFC 6901): `~` as `~0`, then `/` as `~1`."""
    return token.replace("~", "~0").replace("/", "~1")


def unescape_pointer_token(token: str) -> str:
    """The reference token an escaped one stands for (`~1` is `/`, then `~0` is `~`)."""
    return token.replace("~1", "/").replace("~0", "~")


def join_pointer(parts: Iterable[str | int]) -> str:
    """The JSON pointer of a path of keys and indexes (`("a/b", 0)` is `/a~1b/0`)."""
    return "".join(f"/{escape_pointer_token(str(part))}" for part in parts)


def resolve_pointer(document: Any, pointer: str) -> Any:
    """The value at a JSON pointer (RFC 6901; percent-encoding, as in a URI fragment, allowed).

    Raises:
        KeyError: the pointer does not resolve.
    """
    if pointer in ("", "/"):
        return document
    if not pointer.startswith("/"):
        raise KeyError(pointer)
    node = document
    for raw in pointer[1:].split("/"):
        token = unescape_pointer_token(unquote(raw))
        if isinstance(node, Mapping) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise KeyError(pointer)
    return node


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


_BOOL_TAG = "tag:yaml.org,2002:bool"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_YAML_12_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")


def _json_data_resolvers(base: type[Any]) -> dict[Any, list[tuple[str, Any]]]:
    """`base`'s implicit types as YAML 1.2's core schema has them: no dates, `yes` is a string."""
    return {
        first: [
            (tag, _YAML_12_BOOL if tag == _BOOL_TAG else regexp)
            for tag, regexp in resolvers
            if tag != _TIMESTAMP_TAG
        ]
        for first, resolvers in base.yaml_implicit_resolvers.items()
    }


def _construct_json_mapping(
    loader: Any, node: yaml.MappingNode, deep: bool, *, unique: bool
) -> dict[Hashable, Any]:
    """A mapping whose keys are the text they were written as (`200:` is the key `"200"`)."""
    if unique:
        seen: set[str] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value in seen:
                raise ConstructorError(
                    None, None, f"duplicate key {key_node.value!r}", key_node.start_mark
                )
            seen.add(key_node.value)
    loader.flatten_mapping(node)
    mapping: dict[Hashable, Any] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark
            )
        mapping[key_node.value] = loader.construct_object(value_node, deep=deep)
    return mapping


class DocumentLoader(_FastSafeLoader):
    """YAML read as the JSON data an OpenAPI document is (what Spectral and JSON tools see).

    YAML 1.1 reads `200:` as an integer key, `on:` as `True` and `2020-01-01` as a date: here a
    key is the text it was written as, `yes`/`no`/`on`/`off` are strings and a date stays text.
    A later duplicate key wins, as in JSON (a service's document is read as it is served).
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        return _construct_json_mapping(self, node, deep, unique=False)


class _UniqueKeyLoader(yaml.SafeLoader):
    """The same data, on the pure-Python parser, rejecting duplicate keys (schema files)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        return _construct_json_mapping(self, node, deep, unique=True)


class _FastUniqueKeyLoader(_FastSafeLoader):
    """The same on libyaml's parser: fourteen times faster, with other wording for errors."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        return _construct_json_mapping(self, node, deep, unique=True)


for _loader in (DocumentLoader, _UniqueKeyLoader, _FastUniqueKeyLoader):
    _loader.yaml_implicit_resolvers = _json_data_resolvers(_loader)


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
        return yaml.load(text, Loader=_FastUniqueKeyLoader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as fast_error:
        error = fast_error
    # A broken file is parsed again by the pure-Python parser, for its clearer messages.
    try:
        yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        error = exc
    mark = getattr(error, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = getattr(error, "problem", None) or str(error)
    raise SchemaSetError([SchemaProblem(path, "", f"invalid YAML{where}: {problem}")]) from error


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

    def components(self) -> dict[str, tuple[SchemaDocument, Mapping[str, Any]]]:
        """Every component schema by name, with the document that holds it."""
        return {
            name: (document, schema)
            for document in self.documents
            for name, schema in document.schemas.items()
        }

    @cached_property
    def _registry(self) -> Registry[Any]:
        from referencing import Registry, Resource  # noqa: PLC0415 - slow to import, rarely needed
        from referencing.jsonschema import DRAFT202012  # noqa: PLC0415

        return Registry().with_resources(
            (
                document.uri,
                Resource.from_contents(dict(document.document), default_specification=DRAFT202012),
            )
            for document in self.documents
        )

    def validator(self, name: str) -> Draft202012Validator:
        """A JSON Schema 2020-12 validator for component `name`, with every `$ref` resolvable."""
        from jsonschema import Draft202012Validator  # noqa: PLC0415 - slow to import

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
        where = join_pointer(path)
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
    # Imported here: together they take longer to import than a whole `validate` run.
    from jsonschema import Draft202012Validator  # noqa: PLC0415
    from jsonschema.exceptions import SchemaError  # noqa: PLC0415
    from openapi_spec_validator import OpenAPIV31SpecValidator  # noqa: PLC0415

    problems = []
    validator = OpenAPIV31SpecValidator(document.document, base_uri=document.uri)
    for error in validator.iter_errors():
        problems.append(
            SchemaProblem(
                document.path,
                join_pointer(error.absolute_path),
                f"not valid OpenAPI 3.1: {error.message}",
            )
        )
    for name, schema in document.schemas.items():
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            where = join_pointer(("components", "schemas", name, *exc.absolute_path))
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
    if parse_semver(version) is None:
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


def load_schema_dir(directory: Path | str, *, trusted: bool = False) -> SchemaSet:
    """Load and check every `*.yaml` schema file of a directory (see the module docstring).

    Args:
        directory: the schema directory.
        trusted: skip the meta stage (OpenAPI 3.1 structure, JSON Schema dialect), for a
            directory that was checked before it shipped; the other stages still run.

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
    documents, problems = _read_documents(paths)
    if not problems:
        problems = _check_names_and_versions(documents)
    if not problems and not trusted:
        problems = [problem for document in documents for problem in _check_openapi(document)]
    if problems:
        raise SchemaSetError(problems)
    return SchemaSet(directory, tuple(documents), documents[0].version)


def shared_schema_dir() -> Path:
    """The directory of the shared contract schemas, without importing `opsconductor_contracts`.

    A wheel carries them as `opsconductor_contracts/schemas/` (hatch's `force-include` of
    `schemas/`). An editable install imports the packages from the source tree, where the
    schemas are the checkout's own `schemas/` (hatch copies them into site-packages at install
    time too, but that copy is neither on the package's path nor kept up to date).

    Raises:
        FileNotFoundError: `opsconductor_contracts` is not installed, or carries no schemas.
    """
    spec = importlib.util.find_spec(CONTRACTS_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        raise FileNotFoundError(
            f"{CONTRACTS_PACKAGE} is not installed: install opsconductor-shared (it ships the schemas)"
        )
    package = Path(locations[0])
    checkout = package.parent.parent
    candidates = [package / "schemas"]
    if package.parent.name == "generated" and (checkout / "pyproject.toml").is_file():
        candidates.append(checkout / "schemas")
    for directory in candidates:
        if directory.is_dir() and any(directory.glob("*.yaml")):
            return directory
    raise FileNotFoundError(
        f"no schemas in {candidates[0]}: reinstall opsconductor-shared (the wheel ships them)"
    )
