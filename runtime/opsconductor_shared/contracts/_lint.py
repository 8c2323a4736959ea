"""The schema lint: rules every contract schema directory follows beyond being well formed.

`lint_schema_dir` first loads the directory (see `_schemaset`: YAML, OpenAPI 3.1, JSON Schema,
`$ref`s, one version) and reports a load failure as `schema-invalid` findings. Then:

- `missing-description`: every component and every property (nested ones too) is described;
- `missing-example`: every component has at least one entry in `examples`;
- `invalid-example`: every example validates against its component (JSON Schema 2020-12,
  formats checked);
- `inline-enum`: enums of several values are components of their own (inline ones get
  clash-prone generated names such as `Status1`);
- `optional-without-default`: an optional property either has a default or admits null, so
  a model serialises back to JSON the schema accepts.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._schemaset import SchemaSet, SchemaSetError, escape_pointer_token, load_schema_dir

__all__ = ["LINT_RULES", "LintFinding", "lint_schema_dir"]

LINT_RULES = {
    "schema-invalid": "the directory loads: valid YAML, OpenAPI 3.1, JSON Schema, $refs, one version",
    "missing-description": "every component and property has a description",
    "missing-example": "every component has at least one example",
    "invalid-example": "every example validates against its component",
    "inline-enum": "enums of several values are components of their own",
    "optional-without-default": "an optional property has a default or admits null",
}

_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SUBSCHEMA_VALUES = ("items", "additionalProperties", "not", "contains")


@dataclass(frozen=True, order=True)
class LintFinding:
    """One lint finding: which rule, in which file, at which JSON pointer, and what to do."""

    file: Path
    pointer: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}#{self.pointer}: [{self.rule}] {self.message}"


def _admits_null(schema: Mapping[str, Any]) -> bool:
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    return any(
        isinstance(member, Mapping) and _admits_null(member)
        for key in ("anyOf", "oneOf")
        for member in schema.get(key, [])
    )


def _subschemas(
    schema: Mapping[str, Any], pointer: str
) -> Iterator[tuple[str, Mapping[str, Any], bool]]:
    """Nested schemas as (pointer, schema, is_property) without following `$ref`s."""
    for name, sub in (schema.get("properties") or {}).items():
        if isinstance(sub, Mapping):
            yield f"{pointer}/properties/{escape_pointer_token(name)}", sub, True
    for key in _SUBSCHEMA_VALUES:
        sub = schema.get(key)
        if isinstance(sub, Mapping):
            yield f"{pointer}/{key}", sub, False
    for key in _SUBSCHEMA_LISTS:
        for index, sub in enumerate(schema.get(key) or []):
            if isinstance(sub, Mapping):
                yield f"{pointer}/{key}/{index}", sub, False


def _lint_schema(
    file: Path, pointer: str, schema: Mapping[str, Any], *, is_component: bool
) -> Iterator[LintFinding]:
    stack: list[tuple[str, Mapping[str, Any], bool, bool]] = [
        (pointer, schema, is_component, False)
    ]
    while stack:
        where, node, component, is_property = stack.pop()
        described = isinstance(node.get("description"), str) and node["description"].strip()
        if (component or is_property) and not described:
            what = "component" if component else "property"
            yield LintFinding(
                file,
                where,
                "missing-description",
                f"this {what} has no description; add one that says what it means",
            )
        enum = node.get("enum")
        if not component and isinstance(enum, list) and len(enum) > 1:
            yield LintFinding(
                file,
                where,
                "inline-enum",
                "this enum is inline; make it a component of its own and $ref it, so its generated name is stable",
            )
        required = set(node.get("required") or [])
        for name, prop in (node.get("properties") or {}).items():
            if (
                isinstance(prop, Mapping)
                and name not in required
                and "default" not in prop
                and "$ref" not in prop
                and not _admits_null(prop)
            ):
                yield LintFinding(
                    file,
                    f"{where}/properties/{escape_pointer_token(name)}",
                    "optional-without-default",
                    f"optional property {name!r} has no default and does not admit null; a model would serialise it as null, which the schema rejects",
                )
        stack.extend(
            (sub_pointer, sub, False, prop) for sub_pointer, sub, prop in _subschemas(node, where)
        )


def _lint_examples(
    schemaset: SchemaSet, name: str, file: Path, pointer: str, schema: Mapping[str, Any]
) -> Iterator[LintFinding]:
    examples = schema.get("examples")
    if not isinstance(examples, list) or not examples:
        yield LintFinding(
            file,
            pointer,
            "missing-example",
            "this component has no examples; add at least one under `examples`",
        )
        return
    validator = schemaset.validator(name)
    for index, example in enumerate(examples):
        for error in validator.iter_errors(example):
            at = "".join(f"/{escape_pointer_token(str(part))}" for part in error.absolute_path)
            yield LintFinding(
                file,
                f"{pointer}/examples/{index}{at}",
                "invalid-example",
                f"example does not validate: {error.message}",
            )


def lint_schema_dir(directory: Path | str) -> list[LintFinding]:
    """Lint every schema file of a directory; an empty list means clean."""
    try:
        schemaset = load_schema_dir(directory)
    except SchemaSetError as exc:
        return sorted(
            LintFinding(problem.file, problem.pointer, "schema-invalid", problem.message)
            for problem in exc.problems
        )
    findings: list[LintFinding] = []
    for name, (document, schema) in schemaset.components().items():
        pointer = f"/components/schemas/{escape_pointer_token(name)}"
        findings.extend(_lint_schema(document.path, pointer, schema, is_component=True))
        findings.extend(_lint_examples(schemaset, name, document.path, pointer, schema))
    return sorted(findings)
