"""Multi-file specifications: relative external `$ref`s resolved into one document.

A specification split over files (`$ref: resources/droplets.yml#/droplet`, and inside that
file `$ref: ../shared/errors.yml`) is read as given: every file a reference names, relative to
the file that names it, is loaded (JSON or YAML) and placed under `x-opsconductor-bundled` in
the root document, keyed by its path relative to the root's directory, and every external
reference becomes a local one into that place. So the rest of the package sees one document
with local references only, and a finding's pointer still names the file (`.../bundled/
resources~1droplets.yml/...`).

Bounds: files only inside one directory tree (no `..` above it, no symbolic link out of it):
the working directory when the root document lies inside it (a specification whose root sits in
`spec/` and refers to `../common/` is read from the repository's top, as CI runs it), else the
root document's own directory; at most `MAX_FILES` files and `MAX_TOTAL_BYTES` bytes in all. `http(s)`
references are refused unless the caller allows them (`--allow-remote-refs`): fetching what a
document names is not something a check should do by default; allowed, they count against the
same bounds, and the caller bounds the time (one deadline for the whole document).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin

from .schemaset import escape_pointer_token, resolve_pointer

__all__ = [
    "BUNDLE_KEY",
    "MAX_FILES",
    "MAX_TOTAL_BYTES",
    "BundleError",
    "boundary",
    "bundle_external_refs",
    "children_of",
    "iter_refs",
]

BUNDLE_KEY = "x-opsconductor-bundled"
MAX_FILES = 10_000
MAX_TOTAL_BYTES = 64 * 2**20
# Keys whose values are data, not OpenAPI structure: a "$ref" inside them is not a reference.
_LITERAL_KEYS = frozenset({"example", "default", "enum", "const"})
# Keys whose values map names to objects: there, `default` or `enum` is a name, not a keyword.
_NAME_MAPS = frozenset(
    {
        "properties",
        "patternProperties",
        "dependentSchemas",
        "$defs",
        "definitions",
        "paths",
        "webhooks",
        "callbacks",
        "schemas",
        "responses",
        "parameters",
        "examples",
        "requestBodies",
        "headers",
        "securitySchemes",
        "links",
        "pathItems",
        "content",
        "encoding",
        "variables",
        BUNDLE_KEY,
    }
)
_NAMES, _EXAMPLE = "names", "example"


class BundleError(Exception):
    """An external reference that cannot be followed, with a one-line reason."""


def children_of(node: Any) -> Iterator[tuple[str, Any]]:
    """The container children of a mapping or list, as (key or index as a string, child)."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            if isinstance(value, (Mapping, list)):
                yield str(key), value
    elif isinstance(node, list):
        for index, value in enumerate(node):
            if isinstance(value, (Mapping, list)):
                yield str(index), value


def iter_refs(document: Any) -> Iterator[tuple[str, str]]:
    """Every `$ref` string of an OpenAPI document as (pointer of its object, ref).

    Values of data keywords (`default`, `example`, `enum`, `const`, an Example's `value`) are
    skipped: a `$ref` inside them is data. Keys of a map of names (`properties`, `responses`,
    `schemas` ...) are names, never keywords: a property named `default` is a schema.
    """
    seen: set[int] = set()
    stack: list[tuple[str, Any, str]] = [("", document, "")]
    while stack:
        pointer, node, context = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, Mapping):
            ref = node.get("$ref")
            if isinstance(ref, str) and context != _NAMES:
                yield pointer, ref
            for key, value in children_of(node):
                if (
                    (key.startswith("x-") and key != BUNDLE_KEY)
                    or (context != _NAMES and key in _LITERAL_KEYS)
                    or (context == _EXAMPLE and key == "value")
                    or (key == "examples" and isinstance(value, list))
                ):
                    continue
                if context == _NAMES:
                    inner = _EXAMPLE if pointer.endswith("/examples") else ""
                else:
                    inner = _NAMES if key in _NAME_MAPS and isinstance(value, Mapping) else ""
                stack.append((f"{pointer}/{escape_pointer_token(key)}", value, inner))
        else:
            stack.extend((f"{pointer}/{key}", value, "") for key, value in children_of(node))


def bundle_external_refs(
    document: MutableMapping[str, Any],
    root: Path,
    load: Callable[[Path], Any],
    *,
    load_url: Callable[[str], tuple[Any, int]] | None = None,
) -> MutableMapping[str, Any]:
    """Resolve the document's relative external references into it (see the module docstring).

    Args:
        document: the parsed root document (changed in place).
        root: the root document's file.
        load: parses one referenced file (raises the caller's own error for bad files).
        load_url: fetches and parses one `http(s)` reference, giving the document and its size
            in bytes; None (the default) refuses remote references. A reference inside a fetched
            document is relative to its URL.

    Raises:
        BundleError: a reference leaves the directory tree, is remote (and not allowed), names
            a missing file, or the files referenced exceed the bounds.
    """
    base = boundary(root)
    top = root.resolve()
    bundled: dict[str, Any] = {}
    total = 0
    pending: list[tuple[Path | str, Any]] = [(top, document)]
    while pending:
        here, content = pending.pop()
        for pointer, ref in list(iter_refs(content)):
            holder = resolve_pointer(content, pointer)
            target, _, fragment = ref.partition("#")
            if not target:
                if here != top:  # a local ref inside a bundled file: into that file
                    holder["$ref"] = _local(_key(here, base), fragment)
                continue
            where = _locate(here, target, ref, top=top, base=base, remote=load_url is not None)
            if where is None:  # the root document itself
                holder["$ref"] = f"#{fragment}"
                continue
            key = _key(where, base)
            if key not in bundled:
                if len(bundled) >= MAX_FILES:
                    raise BundleError(f"the document references more than {MAX_FILES} files")
                if isinstance(where, str) and load_url is not None:
                    content_of, size = load_url(where)
                else:
                    content_of, size = None, Path(where).stat().st_size
                total += size
                if total > MAX_TOTAL_BYTES:
                    raise BundleError(
                        f"the files the document references exceed {MAX_TOTAL_BYTES // 2**20} MiB"
                    )
                bundled[key] = content_of if isinstance(where, str) else load(where)
                pending.append((where, bundled[key]))
            holder["$ref"] = _local(key, fragment)
    if bundled:
        document[BUNDLE_KEY] = bundled
    return document


def _locate(
    here: Path | str, target: str, ref: str, *, top: Path, base: Path, remote: bool
) -> Path | str | None:
    """What `target` (a reference's part before `#`) names from `here`: a file, a URL, or None
    for the root document; refused outside the bounds."""
    if isinstance(here, str) or "://" in target:
        url = urljoin(here, target) if isinstance(here, str) else target
        if not url.startswith(("http://", "https://")):
            raise BundleError(f"$ref {ref!r} is not a file or an http(s) URL")
        if not remote:
            raise BundleError(
                f"$ref {ref!r} is remote; only files next to the document are read "
                "(--allow-remote-refs fetches http(s) references)"
            )
        return url
    path = (here.parent / unquote(target)).resolve()
    if path == top:
        return None
    if not path.is_relative_to(base):
        raise BundleError(
            f"$ref {ref!r} in {here.name} points outside {base}; files are read only inside the "
            "working directory (or the document's own directory when it lies outside the "
            "working directory): run from the specification's top directory"
        )
    if not path.is_file():
        raise BundleError(f"$ref {ref!r} in {here.name}: no such file {_key(path, base)}")
    return path


def _key(where: Path | str, base: Path) -> str:
    """A bundled file's key: its path relative to the boundary, or its URL."""
    return where if isinstance(where, str) else where.relative_to(base).as_posix()


def _local(key: str, fragment: str) -> str:
    return f"#/{BUNDLE_KEY}/{escape_pointer_token(key)}{fragment}"


def boundary(root: Path) -> Path:
    """The directory tree a multi-file specification's files must lie in (module docstring)."""
    resolved = root.resolve()
    cwd = Path.cwd().resolve()
    return cwd if resolved.is_relative_to(cwd) else resolved.parent
