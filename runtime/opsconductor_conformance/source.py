"""Where documents come from: a service's OpenAPI document, and schemas at a git revision.

A service's document is loaded from one of:

- a file, JSON or YAML (`openapi.json`, `openapi.yaml`);
- an http(s) URL of a running service's document (`http://localhost:8000/openapi.json`);
- an import string `package.module:app` naming a FastAPI app (or anything with `openapi()`,
  or a factory returning one), imported with the working directory on `sys.path`. This is the
  only source that imports the app's code, and with it FastAPI; files and URLs never do.

Whatever goes wrong becomes a `SourceError` with a one-line reason, never a traceback: unreadable
files, HTTP failures, import errors, text that is not JSON or YAML, documents that are not
OpenAPI 3.0/3.1, `$ref`s that dangle or only point at each other, and documents nested too deeply
or expanding (through YAML aliases) beyond any real API. The walks that check these iterate with
an explicit stack and visit each container once (by identity), so neither deep nesting nor YAML
aliases that expand exponentially can exhaust the interpreter.

`load_schemas_at_ref` reads a schema directory as it was at a git revision (`breaking --against`).
"""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import yaml

from .bundle import BundleError, bundle_external_refs, children_of, iter_refs
from .schemaset import (
    SCHEMA_SUFFIXES,
    DocumentLoader,
    SchemaSet,
    SchemaSetError,
    escape_pointer_token,
    load_schema_dir,
    resolve_pointer,
)

if TYPE_CHECKING:
    import httpx

__all__ = [
    "DEFAULT_TIMEOUT",
    "HTTP_METHODS",
    "ServiceSource",
    "SourceError",
    "document_source",
    "git_output",
    "load_schemas_at_ref",
    "load_source",
    "parse_text",
]

DEFAULT_TIMEOUT = 10.0
MAX_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 256
MAX_NODES = 5_000_000
GIT_TIMEOUT = 60.0
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_IMPORT_STRING = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


class SourceError(Exception):
    """A source cannot be read or is not a usable OpenAPI document."""

    def __init__(self, source: str, reason: str) -> None:
        self.source = source
        self.reason = " ".join(reason.split())
        super().__init__(f"{source}: {self.reason}")


@dataclass(frozen=True)
class ServiceSource:
    """A loaded, checked OpenAPI document of one service."""

    location: str
    name: str
    document: Mapping[str, Any]
    text: str | None = field(default=None, repr=False, compare=False)
    """The document's text, for a file or URL source (what line and column refer to)."""


def load_source(
    source: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    transport: httpx.BaseTransport | None = None,
    allow_remote_refs: bool = False,
) -> ServiceSource:
    """Load and check the OpenAPI document a source names.

    Args:
        source: a file path, an http(s) URL, or an import string `package.module:app`.
        timeout: seconds a URL's download may take in all (and each connect or read); with
            `allow_remote_refs`, the seconds every remote reference of a file may take in all.
        transport: an httpx transport, for tests.
        allow_remote_refs: fetch a file's `http(s)` references (refused by default).

    Raises:
        SourceError: the source cannot be read or is not a usable OpenAPI document.
    """
    text: str | None = None
    if source.startswith(("http://", "https://")):
        text = _decode(_fetch(source, timeout, transport), source)
        document = _parse(text, source)
    elif Path(source).exists():
        text = _decode(_read(Path(source), source), source)
        document = _parse(text, source)
        if isinstance(document, dict):
            try:
                load_url = _remote_loader(timeout, transport) if allow_remote_refs else None
                document = bundle_external_refs(
                    document, Path(source), _load_referenced, load_url=load_url
                )
            except BundleError as exc:
                raise SourceError(source, str(exc)) from exc
    elif _IMPORT_STRING.match(source):
        document = _from_app(source)
    else:
        raise SourceError(source, "no such file, and not an http(s) URL or a module:app string")
    return document_source(document, location=source, text=text)


def document_source(
    document: Any, *, location: str = "<document>", name: str | None = None, text: str | None = None
) -> ServiceSource:
    """Check an already parsed OpenAPI document (see `load_source`) and name its service.

    Raises:
        SourceError: the document is not a usable OpenAPI document.
    """
    _check_document(document, location)
    info = document.get("info")
    title = info.get("title") if isinstance(info, Mapping) else None
    return ServiceSource(location, name or str(title or "service"), document, text)


def _read(path: Path, source: str) -> bytes:
    try:
        if path.is_dir():
            raise SourceError(source, "is a directory, not an OpenAPI document")
        if path.stat().st_size > MAX_BYTES:
            raise SourceError(source, f"is larger than {MAX_BYTES // 2**20} MiB")
        return path.read_bytes()
    except OSError as exc:
        raise SourceError(source, f"cannot read: {exc.strerror or exc}") from exc


def _fetch(url: str, timeout: float, transport: httpx.BaseTransport | None) -> bytes:
    import httpx  # noqa: PLC0415 - only URL sources pay for importing it

    # `timeout` bounds the whole download: a server that trickles a byte at a time within
    # each read's timeout must not keep us reading for ever.
    deadline = time.monotonic() + timeout
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=True, transport=transport) as client,
            client.stream("GET", url, headers={"Accept": "application/json"}) as response,
        ):
            if response.status_code != 200:
                raise SourceError(url, f"HTTP {response.status_code} {response.reason_phrase}")
            body = bytearray()
            for chunk in response.iter_bytes():
                body.extend(chunk)
                if len(body) > MAX_BYTES:
                    raise SourceError(url, f"response is larger than {MAX_BYTES // 2**20} MiB")
                if time.monotonic() > deadline:
                    raise SourceError(
                        url, f"timed out after {timeout:g} s (the whole download, --timeout)"
                    )
            return bytes(body)
    except httpx.TimeoutException as exc:
        raise SourceError(url, f"timed out after {timeout:g} s") from exc
    except httpx.HTTPError as exc:
        raise SourceError(url, f"cannot fetch: {type(exc).__name__}: {exc}") from exc


def _remote_loader(
    timeout: float, transport: httpx.BaseTransport | None
) -> Callable[[str], tuple[Any, int]]:
    """Fetch and parse remote references, all of them within one deadline of `timeout`."""
    deadline = time.monotonic() + timeout

    def load(url: str) -> tuple[Any, int]:
        left = deadline - time.monotonic()
        if left <= 0:
            raise SourceError(url, f"the remote references took longer than {timeout:g} s in all")
        try:
            raw = _fetch(url, left, transport)
        except SourceError as exc:
            if time.monotonic() < deadline:
                raise
            raise SourceError(
                url, f"the remote references took longer than {timeout:g} s in all (--timeout)"
            ) from exc
        return _parse(_decode(raw, url), url), len(raw)

    return load


def _from_app(source: str) -> Any:
    module_name, _, attribute = source.partition(":")
    if "" not in sys.path and str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        target: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            target = getattr(target, part)
        if not hasattr(target, "openapi") and callable(target):
            target = target()
        openapi = getattr(target, "openapi", None)
        document = openapi() if callable(openapi) else None
    except (Exception, SystemExit) as exc:
        raise SourceError(source, f"cannot load the app: {type(exc).__name__}: {exc}") from exc
    if not callable(openapi):
        raise SourceError(source, f"{attribute} has no openapi() method; name a FastAPI app")
    return document


def _load_referenced(path: Path) -> Any:
    return _parse(_decode(_read(path, str(path)), str(path)), str(path))


def _decode(raw: bytes, source: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(source, f"not UTF-8 text (byte {exc.start})") from exc


def _parse(text: str, source: str) -> Any:
    if not text.strip():
        raise SourceError(source, "is empty")
    json_error: str | None = None
    if text.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(text)
        except RecursionError as exc:
            raise SourceError(source, "is nested too deeply to be an OpenAPI document") from exc
        except json.JSONDecodeError as exc:
            json_error = f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
    try:
        return yaml.load(text, Loader=DocumentLoader)  # noqa: S506 - a safe loader
    except RecursionError as exc:
        raise SourceError(source, "is nested too deeply to be an OpenAPI document") from exc
    except yaml.YAMLError as exc:
        if json_error:
            raise SourceError(source, json_error) from exc
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SourceError(source, f"not valid JSON or YAML{where}: {problem}") from exc


def _check_document(document: Any, source: str) -> None:
    if not isinstance(document, Mapping):
        kind = type(document).__name__
        raise SourceError(source, f"not an OpenAPI document: the top level is a {kind}")
    version = document.get("openapi")
    if not isinstance(version, str) or not version.startswith(("3.0.", "3.1.")):
        if "swagger" in document:
            raise SourceError(source, "Swagger 2.0 is not supported; convert it to OpenAPI 3")
        found = f"openapi: {version!r}" if version is not None else "no `openapi` field"
        raise SourceError(source, f"not an OpenAPI 3.0/3.1 document ({found})")
    try:
        depth, nodes = _measure(document)
    except ValueError as exc:
        raise SourceError(source, str(exc)) from exc
    if depth > MAX_DEPTH:
        raise SourceError(source, f"is nested deeper than {MAX_DEPTH} levels")
    if nodes > MAX_NODES:
        raise SourceError(source, f"expands to more than {MAX_NODES:,} values")
    problem = next(_structure_problems(document), None)
    if problem:
        raise SourceError(source, f"not a valid OpenAPI document: {problem}")
    problem = _ref_problem(document)
    if problem:
        raise SourceError(source, problem)


def _wrong_type(value: Any, kind: type, where: str, what: str) -> Iterator[str]:
    if not isinstance(value, kind):
        yield f"{where} must be {what}, not {type(value).__name__}"


def _structure_problems(document: Mapping[str, Any]) -> Iterator[str]:
    """What the rules rely on, checked lazily: each check runs only if the previous passed."""
    info = document.get("info")
    if not isinstance(info, Mapping) or not isinstance(info.get("title"), str):
        yield "/info/title is missing (every OpenAPI document names its API)"
    paths = document.get("paths", {})
    yield from _wrong_type(paths, Mapping, "/paths", "a mapping")
    for path, item in paths.items():
        where = f"/paths/{escape_pointer_token(str(path))}"
        yield from _wrong_type(item, Mapping, where, "a path item mapping")
        if not str(path).startswith("/"):
            yield f"{where}: a path must start with '/'"
        yield from _wrong_type(item.get("parameters", []), list, f"{where}/parameters", "a list")
        for method in HTTP_METHODS:
            if method not in item:
                continue
            operation = item[method]
            at = f"{where}/{method}"
            yield from _wrong_type(operation, Mapping, at, "an operation mapping")
            yield from _wrong_type(
                operation.get("responses", {}), Mapping, f"{at}/responses", "a mapping"
            )
            yield from _wrong_type(
                operation.get("parameters", []), list, f"{at}/parameters", "a list"
            )
    components = document.get("components", {})
    yield from _wrong_type(components, Mapping, "/components", "a mapping")
    for section in ("schemas", "responses", "parameters", "securitySchemes", "requestBodies"):
        yield from _wrong_type(
            components.get(section, {}), Mapping, f"/components/{section}", "a mapping"
        )


def _measure(document: Any) -> tuple[int, int]:
    """(depth, number of values) of a document, counting shared containers at every use.

    Raises:
        ValueError: the document contains itself (a recursive YAML alias).
    """
    done: dict[int, tuple[int, int]] = {}
    active: set[int] = set()
    stack: list[tuple[Any, bool]] = [(document, False)]
    while stack:
        node, expanded = stack.pop()
        key = id(node)
        if not isinstance(node, (Mapping, list)) or key in done:
            continue
        children = [child for _, child in children_of(node)]
        if expanded:
            active.discard(key)
            depth = 1 + max((done[id(child)][0] for child in children), default=0)
            size = 1 + len(node) + sum(done[id(child)][1] for child in children)
            done[key] = (depth, size)
            continue
        active.add(key)
        stack.append((node, True))
        for child in children:
            if id(child) in active:
                raise ValueError("the document contains itself (a recursive YAML alias)")
            if id(child) not in done:
                stack.append((child, False))
    return done.get(id(document), (0, 1))


_ALIAS_ANNOTATIONS = frozenset({"description", "summary", "title"})
_ONE_MEMBER = ("allOf", "anyOf", "oneOf")


def _alias_of(node: Any) -> str | None:
    """The `$ref` a schema is nothing but (annotations aside), or None.

    `{$ref: X}` is an alias of X, and so is a one-member `allOf`, `anyOf` or `oneOf` of it: a
    cycle of such schemas has no object in it, and describes nothing.
    """
    if not isinstance(node, Mapping):
        return None
    ref = node.get("$ref")
    if isinstance(ref, str):
        return ref if set(node) <= {"$ref", *_ALIAS_ANNOTATIONS} else None
    for key in _ONE_MEMBER:
        members = node.get(key)
        if (
            isinstance(members, list)
            and len(members) == 1
            and set(node) <= {key, *_ALIAS_ANNOTATIONS}
        ):
            return _alias_of(members[0])
    return None


def _ref_problem(document: Any) -> str | None:
    """The first problem with the document's `$ref`s, or None.

    Problems: a reference outside the document, one that does not resolve, and a cycle of
    references that only point at each other (a recursive schema, where a reference sits
    inside `properties` or `items`, is fine).
    """
    targets: dict[str, Any] = {}
    for pointer, ref in iter_refs(document):
        if ref in targets:
            continue
        where = pointer or "/"
        if not ref.startswith("#"):
            return f"$ref {ref!r} at {where} points outside the document; only local references (#/...) are supported, bundle the document first"
        try:
            targets[ref] = resolve_pointer(document, ref[1:])
        except KeyError:
            return f"$ref {ref!r} at {where} does not resolve: the document has nothing at {ref[1:] or '/'}"
    terminates: set[str] = set()
    for start in targets:
        chain: list[str] = []
        ref = start
        while ref not in terminates:
            if ref in chain:
                loop = " -> ".join([*chain[chain.index(ref) :], ref])
                return f"circular $ref: {loop} never reaches a schema"
            chain.append(ref)
            alias = _alias_of(targets.get(ref))
            if alias is None or alias not in targets:
                break
            ref = alias
        terminates.update(chain)
    return None


def _git(cwd: Path, *args: str) -> bytes:
    try:
        result = subprocess.run(  # noqa: S603 - fixed argv, no shell
            ["git", *args],  # noqa: S607 - git from PATH, as a developer runs it
            cwd=cwd,
            capture_output=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except FileNotFoundError as exc:
        raise SourceError("git", "git is not installed (use --against-dir instead)") from exc
    except subprocess.TimeoutExpired as exc:
        raise SourceError("git", f"git {args[0]} timed out after {GIT_TIMEOUT:g} s") from exc
    if result.returncode != 0:
        reason = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise SourceError(
            f"git {args[0]}", reason[-1] if reason else f"exit code {result.returncode}"
        )
    return result.stdout


def load_schemas_at_ref(directory: Path | str, ref: str) -> SchemaSet:
    """Load the schema directory `directory` as committed at git revision `ref`.

    Raises:
        SourceError: not in a git repository, unknown revision, no schemas there, or the old
            schemas do not load.
    """
    directory = Path(directory).resolve()
    if ref.startswith("-"):
        raise SourceError(ref, "not a git revision")
    try:
        top = Path(_git(directory, "rev-parse", "--show-toplevel").decode().strip())
    except SourceError as exc:
        raise SourceError(
            str(directory), f"not inside a git repository ({exc.reason}); use --against-dir"
        ) from exc
    try:
        _git(top, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except SourceError as exc:
        raise SourceError(ref, "unknown git revision") from exc
    relative = PurePosixPath(directory.relative_to(top.resolve()).as_posix())
    prefix = "" if str(relative) == "." else f"{relative}/"
    listing = _git(top, "ls-tree", "-z", "--name-only", ref, "--", prefix or ".")
    names = [n for n in listing.decode().split("\0") if n and n.endswith(SCHEMA_SUFFIXES)]
    if not names:
        raise SourceError(f"{ref}:{prefix or '.'}", "has no *.yaml schema files at that revision")
    with tempfile.TemporaryDirectory(prefix="opsconductor-contracts-") as tmp:
        for name in names:
            content = _git(top, "show", f"{ref}:{name}")
            (Path(tmp) / PurePosixPath(name).name).write_bytes(content)
        try:
            schemaset = load_schema_dir(tmp)
        except SchemaSetError as exc:
            first = exc.problems[0]
            raise SourceError(
                f"{ref}:{prefix}{first.file.name}", f"{first.pointer or '/'}: {first.message}"
            ) from exc
    # The documents are parsed: the set stays usable after its temporary directory is gone.
    return schemaset


def git_output(cwd: Path, *args: str) -> bytes:
    """The standard output of `git ARGS` run in `cwd` (`breaking --against` on any path).

    Raises:
        SourceError: git is missing, timed out, or failed (with its last line of stderr).
    """
    return _git(cwd, *args)


def parse_text(text: str, source: str) -> Any:
    """A document's text parsed as JSON or YAML (safely), as a file source is.

    Raises:
        SourceError: neither valid JSON nor YAML, or nested too deeply.
    """
    return _parse(text, source)
