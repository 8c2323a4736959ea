"""Load a service's OpenAPI document from a file, a URL or a FastAPI app, and check it is usable.

A source is one of:

- a file, JSON or YAML (`openapi.json`, `openapi.yaml`);
- an http(s) URL of a running service's document (`http://localhost:8000/openapi.json`);
- an import string `package.module:app` naming a FastAPI app (or anything with `openapi()`,
  or a factory returning one), imported with the working directory on `sys.path`.

Whatever goes wrong becomes a `SourceError` with a one-line reason, never a traceback: unreadable
files, HTTP failures, import errors, text that is not JSON or YAML, documents that are not
OpenAPI 3.0/3.1, `$ref`s that dangle or only point at each other, and documents nested too deeply
or expanding (through YAML aliases) beyond any real API.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from ._docwalk import _check_refs, _measure

__all__ = ["ServiceSource", "SourceError", "document_source", "load_source"]

DEFAULT_TIMEOUT = 10.0
MAX_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 256
MAX_NODES = 5_000_000
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_IMPORT_STRING = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
_YAML_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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


def load_source(
    source: str, *, timeout: float = DEFAULT_TIMEOUT, transport: httpx.BaseTransport | None = None
) -> ServiceSource:
    """Load and check the OpenAPI document a source names.

    Args:
        source: a file path, an http(s) URL, or an import string `package.module:app`.
        timeout: seconds to wait for a URL, in total per phase (connect, read).
        transport: an httpx transport, for tests.

    Raises:
        SourceError: the source cannot be read or is not a usable OpenAPI document.
    """
    if source.startswith(("http://", "https://")):
        document = _parse(_fetch(source, timeout, transport), source)
    elif Path(source).exists():
        document = _parse(_read(Path(source), source), source)
    elif _IMPORT_STRING.match(source):
        document = _from_app(source)
    else:
        raise SourceError(source, "no such file, and not an http(s) URL or a module:app string")
    return document_source(document, location=source)


def document_source(
    document: Any, *, location: str = "<document>", name: str | None = None
) -> ServiceSource:
    """Check an already parsed OpenAPI document (see `load_source`) and name its service.

    Raises:
        SourceError: the document is not a usable OpenAPI document.
    """
    _check_document(document, location)
    info = document.get("info")
    title = info.get("title") if isinstance(info, Mapping) else None
    return ServiceSource(location, name or str(title or "service"), document)


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
            return bytes(body)
    except httpx.TimeoutException as exc:
        raise SourceError(url, f"timed out after {timeout:g} s") from exc
    except httpx.HTTPError as exc:
        raise SourceError(url, f"cannot fetch: {type(exc).__name__}: {exc}") from exc


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


def _parse(raw: bytes, source: str) -> Any:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(source, f"not UTF-8 text (byte {exc.start})") from exc
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
        return yaml.load(text, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader
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
    problem = _check_refs(document)
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
        where = "/paths/" + str(path).replace("~", "~0").replace("/", "~1")
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
