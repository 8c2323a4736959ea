"""Iterative walks over parsed documents: size and depth, and `$ref` checks.

Everything here iterates with an explicit stack and visits each container once (by identity),
so neither deep nesting nor YAML aliases that expand exponentially can exhaust the interpreter.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ._schemaset import escape_pointer_token, resolve_pointer

__all__: list[str] = []

# Keys whose values are data, not OpenAPI structure: a "$ref" inside them is not a reference.
_LITERAL_KEYS = frozenset({"example", "default", "enum", "const"})


def _children(node: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            if isinstance(value, (Mapping, list)):
                yield str(key), value
    elif isinstance(node, list):
        for index, value in enumerate(node):
            if isinstance(value, (Mapping, list)):
                yield str(index), value


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
        children = [child for _, child in _children(node)]
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


def _iter_refs(document: Any) -> Iterator[tuple[str, str]]:
    """Every `$ref` string of an OpenAPI document as (pointer of its object, ref)."""
    seen: set[int] = set()
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        pointer, node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, Mapping):
            ref = node.get("$ref")
            if isinstance(ref, str):
                yield pointer, ref
            for key, value in _children(node):
                if key in _LITERAL_KEYS or key.startswith("x-"):
                    continue
                if key == "examples" and isinstance(value, list):
                    continue
                stack.append((f"{pointer}/{escape_pointer_token(key)}", value))
        else:
            stack.extend((f"{pointer}/{key}", value) for key, value in _children(node))


def _is_alias(node: Any) -> bool:
    """A schema that is nothing but a reference (annotations aside)."""
    return (
        isinstance(node, Mapping)
        and isinstance(node.get("$ref"), str)
        and set(node) <= {"$ref", "description", "summary", "title"}
    )


def _check_refs(document: Any) -> str | None:
    """The first problem with the document's `$ref`s, or None.

    Problems: a reference outside the document, one that does not resolve, and a cycle of
    references that only point at each other (a recursive schema, where a reference sits
    inside `properties` or `items`, is fine).
    """
    targets: dict[str, Any] = {}
    for pointer, ref in _iter_refs(document):
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
            target = targets.get(ref)
            if not isinstance(target, Mapping) or not _is_alias(target):
                break
            ref = str(target["$ref"])
            if ref not in targets:
                break
        terminates.update(chain)
    return None
