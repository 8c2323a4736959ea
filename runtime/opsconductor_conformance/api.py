"""What `breaking` compares: one API, from a document, a directory or a git revision of either.

An `Api` is one or more OpenAPI 3.0 or 3.1 documents, JSON or YAML, read as `validate` reads a
file (`source.load_source`: relative multi-file `$ref`s are bundled into each document, so every
reference is local), with their components by name and their operations by path and method:

- a file: that document (a service's `openapi.json`);
- a directory: every `*.yaml`, `*.yml` and `*.json` file directly in it, one API whose component
  names are unique across the files (this project's `schemas/`, one concern per file);
- `load_api_at_ref`: the same path as committed at a git revision (`git show REF:PATH`, run in
  the repository that holds the path), with every file a document references, so that a service
  can gate its API in CI (`breaking --against origin/main openapi.json`).

Each component's *direction* comes from where the operations use it, through every reference:
a parameter or a request body makes it request-side, a response response-side, both `both`.
A component no operation uses (the shared contracts have no paths) keeps its own
`x-contract-direction`, `both` by default.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote

from .bundle import BUNDLE_KEY, MAX_FILES, MAX_TOTAL_BYTES, iter_refs
from .document import Operation, ServiceDocument
from .normalize import Direction, contract_direction, schema_refs
from .schemaset import SchemaSet, unescape_pointer_token
from .schemaset import resolve_pointer as _resolve_pointer
from .source import (
    GIT_TIMEOUT,
    SourceError,
    document_source,
    git_output,
    load_source,
    parse_text,
)

__all__ = [
    "API_SUFFIXES",
    "Api",
    "ApiFile",
    "OperationAt",
    "api_from_schema_set",
    "load_api",
    "load_api_at_ref",
    "path_label",
]

API_SUFFIXES = (".yaml", ".yml", ".json")
"""The files of a directory that `breaking` reads as documents of one API."""
_TEMPLATE = re.compile(r"\{[^}/]*\}")
_LOCAL_COMPONENT = re.compile(r"^#/components/schemas/([^/]+)$")
_BUNDLED_COMPONENT = re.compile(rf"^#/{re.escape(BUNDLE_KEY)}/([^/]+)/components/schemas/([^/]+)$")
_EMPTY: Mapping[str, Any] = {}


def path_label(path: Path) -> str:
    """How a file or directory is named in findings: relative to the working directory if inside."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class ApiFile:
    """One document of an API, with every reference local, and how findings name it."""

    location: str
    document: Mapping[str, Any]

    @cached_property
    def view(self) -> ServiceDocument:
        """The document as `validate`'s rules see it (its operations, dereferenced)."""
        return ServiceDocument(document_source(self.document, location=self.location))

    @property
    def version(self) -> str:
        info = self.document.get("info")
        return str(info.get("version", "")) if isinstance(info, Mapping) else ""

    @property
    def title(self) -> str:
        info = self.document.get("info")
        return str(info.get("title", "")) if isinstance(info, Mapping) else ""


@dataclass(frozen=True)
class OperationAt:
    """One operation of an API, with the file that holds it."""

    file: ApiFile
    operation: Operation

    @property
    def request_body(self) -> tuple[str, Mapping[str, Any]] | None:
        """The operation's request body (dereferenced) with its pointer, if it has one."""
        at = f"{self.operation.pointer}/requestBody"
        raw = self.operation.raw.get("requestBody")
        if raw is None:
            return None
        pointer, body = self.file.view.deref(at, raw)
        return (pointer, body) if isinstance(body, Mapping) else None


@dataclass(frozen=True)
class Api:
    """One API, as `breaking` compares it (see the module docstring)."""

    label: str
    files: tuple[ApiFile, ...]

    @property
    def title(self) -> str:
        return self.files[0].title

    @property
    def version(self) -> str:
        """The one `info.version` of every file, or "" when the files disagree."""
        versions = {file.version for file in self.files}
        return versions.pop() if len(versions) == 1 else ""

    @cached_property
    def components(self) -> dict[str, tuple[ApiFile, Mapping[str, Any]]]:
        """Every component schema by name, with the file that holds it."""
        found: dict[str, tuple[ApiFile, Mapping[str, Any]]] = {}
        for file in self.files:
            components = file.document.get("components") or _EMPTY
            schemas = components.get("schemas") or _EMPTY
            for name, schema in schemas.items():
                if str(name) in found:
                    raise SourceError(
                        file.location,
                        f"component {name!r} is also defined in {found[str(name)][0].location}; "
                        "names must be unique across the files of a directory",
                    )
                found[str(name)] = (file, schema if isinstance(schema, Mapping) else {})
        return found

    @cached_property
    def _file_names(self) -> frozenset[str]:
        return frozenset(PurePosixPath(file.location).name for file in self.files)

    def component_of(self, ref: str) -> str | None:
        """The component of this API a `$ref` names (in its own file or a bundled one), or None."""
        match = _LOCAL_COMPONENT.match(ref)
        if match is None:
            bundled = _BUNDLED_COMPONENT.match(ref)
            if bundled is None:
                return None
            if PurePosixPath(unescape_pointer_token(bundled.group(1))).name not in self._file_names:
                return None
            token = bundled.group(2)
        else:
            token = match.group(1)
        name = unescape_pointer_token(token)
        return name if name in self.components else None

    @cached_property
    def operations(self) -> dict[tuple[str, str], OperationAt]:
        """Every operation by (path template with its parameter names blanked, method)."""
        found: dict[tuple[str, str], OperationAt] = {}
        for file in self.files:
            for operation in file.view.operations:
                key = (_TEMPLATE.sub("{}", operation.path), operation.method)
                found.setdefault(key, OperationAt(file, operation))
        return found

    @cached_property
    def uses(self) -> dict[str, set[Direction]]:
        """The directions in which the operations use each component, through every reference."""
        uses: dict[str, set[Direction]] = {}
        for at in self.operations.values():
            for direction, schema in _operation_schemas(at):
                self._mark(at.file, schema, direction, uses)
        return uses

    def _mark(
        self, file: ApiFile, schema: Any, direction: Direction, uses: dict[str, set[Direction]]
    ) -> None:
        stack: list[tuple[ApiFile, Any]] = [(file, schema)]
        seen: set[tuple[int, str]] = set()
        while stack:
            here, node = stack.pop()
            for ref in schema_refs(node):
                name = self.component_of(ref)
                if name is not None:
                    if direction in uses.setdefault(name, set()):
                        continue
                    uses[name].add(direction)
                    owner, target = self.components[name]
                    stack.append((owner, target))
                    continue
                if not ref.startswith("#"):
                    continue
                try:
                    target = _resolve_pointer(here.document, ref[1:])
                except KeyError:
                    continue
                if (id(target), direction) not in seen:
                    seen.add((id(target), direction))
                    stack.append((here, target))

    def direction(self, name: str) -> Direction | None:
        """The direction the operations use a component in, or None when none uses it."""
        found = self.uses.get(name)
        if not found:
            return None
        return next(iter(found)) if len(found) == 1 else "both"

    def declared_direction(self, name: str) -> Direction:
        """The component's own `x-contract-direction` (default `both`)."""
        return contract_direction(self.components[name][1])


def _operation_schemas(at: OperationAt) -> Iterator[tuple[Direction, Any]]:
    for _, parameter in at.operation.parameters:
        if "schema" in parameter:
            yield "request", parameter["schema"]
        yield from (("request", s) for s in _media_schemas(parameter))
    body = at.request_body
    if body is not None:
        yield from (("request", s) for s in _media_schemas(body[1]))
    for _, response in at.operation.responses.values():
        yield from (("response", s) for s in _media_schemas(response))
        for header in (response.get("headers") or _EMPTY).values():
            if isinstance(header, Mapping) and "schema" in header:
                yield "response", header["schema"]


def _media_schemas(owner: Mapping[str, Any]) -> Iterator[Any]:
    content = owner.get("content")
    if isinstance(content, Mapping):
        for media in content.values():
            if isinstance(media, Mapping) and "schema" in media:
                yield media["schema"]


def load_api(path: Path | str, *, label: str | None = None) -> Api:
    """Load a document or a directory of documents (see the module docstring).

    Args:
        path: an OpenAPI file, or a directory of them.
        label: how findings name it (default: the path, relative to the working directory).

    Raises:
        SourceError: nothing there, no documents in the directory, or a document that `validate`
            could not read either.
    """
    path = Path(path)
    label = label if label is not None else path_label(path)
    if path.is_dir():
        names = sorted(p for p in path.iterdir() if p.suffix in API_SUFFIXES and p.is_file())
        if not names:
            raise SourceError(
                str(path), f"no OpenAPI documents ({', '.join(API_SUFFIXES)}) in this directory"
            )
        files = tuple(
            ApiFile(f"{label.rstrip('/')}/{p.name}", load_source(str(p)).document) for p in names
        )
    elif path.exists():
        files = (ApiFile(label, load_source(str(path)).document),)
    else:
        raise SourceError(str(path), "no such file or directory")
    api = Api(label, files)
    _ = api.components  # duplicate names across files are an input error, found now
    return api


def api_from_schema_set(schemaset: SchemaSet, *, label: str = "") -> Api:
    """A loaded contract schema directory as an `Api` (its files bundled, references local)."""
    files = []
    for document in schemaset.documents:
        location = f"{label.rstrip('/')}/{document.path.name}" if label else str(document.path)
        files.append(ApiFile(location, load_source(str(document.path)).document))
    return Api(label or str(schemaset.directory), tuple(files))


def load_api_at_ref(path: Path | str, ref: str) -> Api:
    """Load `path` (a file or a directory, see `load_api`) as committed at git revision `ref`.

    Findings name it `REF:PATH` (the path relative to the repository's top).

    Raises:
        SourceError: not in a git repository, an unknown revision, the path absent at that
            revision, or a document there that does not load.
    """
    path = Path(path).resolve()
    if ref.startswith("-"):
        raise SourceError(ref, "not a git revision")
    anchor = path if path.is_dir() else path.parent
    if not anchor.is_dir():
        raise SourceError(str(path), "no such file or directory (its directory does not exist)")
    try:
        top = Path(git_output(anchor, "rev-parse", "--show-toplevel").decode().strip()).resolve()
    except SourceError as exc:
        raise SourceError(
            str(path), f"not inside a git repository ({exc.reason}); compare two paths instead"
        ) from exc
    try:
        git_output(top, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except SourceError as exc:
        raise SourceError(ref, "unknown git revision") from exc
    relative = PurePosixPath(path.relative_to(top).as_posix())
    label = f"{ref}:{relative}"
    kind = _object_type(top, ref, relative)
    if kind is None:
        raise SourceError(label, f"{relative} does not exist at {ref}")
    cwd = Path.cwd().resolve()
    with tempfile.TemporaryDirectory(prefix="opsconductor-contracts-") as tmp:
        mirror = Path(tmp)
        # Multi-file references are bounded by the working directory (see `bundle.boundary`):
        # at the revision, by the same directory of the repository.
        here = mirror / cwd.relative_to(top) if cwd.is_relative_to(top) else mirror
        here.mkdir(parents=True, exist_ok=True)
        if kind == "tree":
            listing = git_output(top, "ls-tree", "-z", "--name-only", ref, "--", f"{relative}/")
            names = [
                PurePosixPath(n) for n in listing.decode().split("\0") if n.endswith(API_SUFFIXES)
            ]
            if not names:
                raise SourceError(label, f"has no OpenAPI documents ({', '.join(API_SUFFIXES)})")
            for name in names:
                _extract_with_refs(top, ref, name, mirror)
        else:
            _extract_with_refs(top, ref, relative, mirror)
        with contextlib.chdir(here):
            return load_api(mirror / relative, label=label)


def _object_type(top: Path, ref: str, relative: PurePosixPath) -> str | None:
    if str(relative) == ".":
        return "tree"
    try:
        return git_output(top, "cat-file", "-t", f"{ref}:{relative}").decode().strip()
    except SourceError:
        return None


class _Blobs:
    """Files at a git revision, read through one `git cat-file --batch` (a multi-file
    specification has thousands: one process each would cost seconds)."""

    def __init__(self, top: Path, ref: str) -> None:
        self.ref = ref
        try:
            self.process = subprocess.Popen(
                ["git", "cat-file", "--batch"],  # noqa: S607 - git from PATH
                cwd=top,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError as exc:
            raise SourceError("git", f"cannot run git cat-file: {exc}") from exc
        if self.process.stdin is None or self.process.stdout is None:  # pragma: no cover - pipes
            raise SourceError("git", "cat-file has no pipes")
        self._in, self._out = self.process.stdin, self.process.stdout

    def read(self, name: PurePosixPath) -> bytes | None:
        """The file's bytes at the revision, or None when it is not a file there."""
        if "\n" in str(name):
            return None  # the batch protocol is line-based; no document names such a file
        stdin, stdout = self._in, self._out
        stdin.write(f"{self.ref}:{name}\n".encode())
        stdin.flush()
        header = stdout.readline().split()
        if len(header) != 3 or not header[2].isdigit():  # "<oid> <type> <size>"
            if not header:
                raise SourceError("git cat-file", "ended before answering")
            return None
        content = stdout.read(int(header[2]))
        stdout.read(1)  # the newline after the content
        return content if header[1] == b"blob" else None

    def close(self) -> None:
        self._in.close()
        try:
            self.process.wait(timeout=GIT_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        finally:
            self._out.close()


def _extract_with_refs(top: Path, ref: str, root: PurePosixPath, mirror: Path) -> None:
    """Write `root` at `ref` under `mirror`, and every file its relative `$ref`s reach (bounded)."""
    blobs = _Blobs(top, ref)
    try:
        _extract(blobs, root, mirror)
    finally:
        blobs.close()


def _extract(blobs: _Blobs, root: PurePosixPath, mirror: Path) -> None:
    pending, done, total = [root], set(), 0
    where = f"{blobs.ref}:{root}"
    while pending:
        name = pending.pop()
        if name in done:
            continue
        done.add(name)
        if len(done) > MAX_FILES:
            raise SourceError(where, f"references more than {MAX_FILES} files")
        content = blobs.read(name)
        if content is None:
            continue  # a missing file: loading reports it, naming the reference
        total += len(content)
        if total > MAX_TOTAL_BYTES:
            raise SourceError(
                where, f"the files it references exceed {MAX_TOTAL_BYTES // 2**20} MiB"
            )
        target = mirror / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        try:
            document = parse_text(content.decode("utf-8-sig"), f"{blobs.ref}:{name}")
        except (SourceError, UnicodeDecodeError):
            continue  # loading reports it
        for _, target_ref in iter_refs(document):
            file, _, _ = target_ref.partition("#")
            if not file or "://" in file:
                continue
            joined = PurePosixPath(_normalise(name.parent / unquote(file)))
            if not str(joined).startswith(".."):
                pending.append(joined)


def _normalise(path: PurePosixPath) -> str:
    parts: list[str] = []
    for part in path.parts:
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            else:
                parts.append(part)
        elif part != ".":
            parts.append(part)
    return "/".join(parts) or "."
