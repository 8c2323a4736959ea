"""`breaking`: compare two releases of the shared schemas and judge the version bump.

Components are compared by name, whatever file holds them and whether or not any path uses
them (see `_breaking_rules` for the classification). Then the version: breaking changes need a
major bump of `info.version` (with one, they are reported as information); compatible changes
suggest a minor bump (additions) or a patch bump (anything else).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ._breaking_diff import _diff_schemas
from ._breaking_rules import _Change, _component_ref_name
from ._compat import contract_direction
from ._findings import Finding, Severity
from ._normalize import normalize_schema
from ._schemaset import SchemaDocument, SchemaSet, escape_pointer_token, resolve_pointer

__all__ = ["compare_schema_sets"]

CONTRACTS_SERVICE = "contracts"
_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)")
_SEVERITY = {"breaking": Severity.ERROR, "warning": Severity.WARNING, "non-breaking": Severity.INFO}


def _marker_resolver(
    schemaset: SchemaSet, document: SchemaDocument
) -> Callable[[str], tuple[Any, Any]]:
    names = set(schemaset.components())

    def resolve(ref: str) -> tuple[Any, Any]:
        name = _component_ref_name(ref)
        if name is not None and name in names:
            return {"$component": name}, resolve
        target_file, _, fragment = ref.partition("#")
        target = schemaset.document_for(target_file) if target_file else document
        if target is None:
            raise KeyError(ref)
        return resolve_pointer(target.document, fragment), _marker_resolver(schemaset, target)

    return resolve


def _shallow(schemaset: SchemaSet) -> dict[str, Any]:
    return {
        name: normalize_schema(schema, _marker_resolver(schemaset, document))
        for name, (document, schema) in schemaset.components().items()
    }


def _version(text: str) -> tuple[int, int, int]:
    match = _SEMVER.match(text)
    return (int(match[1]), int(match[2]), int(match[3])) if match else (0, 0, 0)


def compare_schema_sets(
    old: SchemaSet, new: SchemaSet, *, old_label: str = "", new_label: str = ""
) -> list[Finding]:
    """Every change from `old` to `new` as findings, plus the verdict on `info.version`.

    Args:
        old: the schemas to compare against (an older release).
        new: the schemas as they are now.
        old_label: how to name the old files in locations (default: their paths).
        new_label: how to name the new files in locations (default: their paths).
    """
    old_components, new_components = old.components(), new.components()
    old_shallow, new_shallow = _shallow(old), _shallow(new)
    old_version, new_version = _version(old.version), _version(new.version)
    major_bump = new_version[0] > old_version[0]

    def where(label: str, document: SchemaDocument) -> str:
        return f"{label.rstrip('/')}/{document.path.name}" if label else str(document.path)

    changes: list[tuple[str, str, _Change]] = []
    for name in sorted(set(old_components) | set(new_components)):
        pointer = f"/components/schemas/{escape_pointer_token(name)}"
        if name not in new_components:
            location = where(old_label, old_components[name][0])
            changes.append(
                (
                    name,
                    location,
                    _Change("component-removed", "breaking", pointer, f"component {name} removed"),
                )
            )
            continue
        location = where(new_label, new_components[name][0])
        if name not in old_components:
            changes.append(
                (
                    name,
                    location,
                    _Change(
                        "component-added",
                        "non-breaking",
                        pointer,
                        f"component {name} added",
                        minor=True,
                    ),
                )
            )
            continue
        direction = contract_direction(new_components[name][1])
        for change in _diff_schemas(old_shallow, new_shallow, name, direction):
            moved = _Change(
                change.rule,
                change.level,
                pointer + change.pointer,
                f"{name} ({direction}): {change.message}",
                change.minor,
            )
            changes.append((name, location, moved))

    findings = []
    for _, location, change in changes:
        severity = _SEVERITY[change.level]
        message = f"{change.message} [{change.level}]"
        if change.level == "breaking" and major_bump:
            severity = Severity.INFO
            message = f"{change.message} [breaking, allowed by the major bump to {new.version}]"
        findings.append(
            Finding(change.rule, severity, CONTRACTS_SERVICE, change.pointer, message, location)
        )
    first = where(new_label, new.documents[0])
    findings.extend(_version_findings(changes, old.version, new.version, first))
    return findings


def _version_findings(
    changes: list[tuple[str, str, _Change]], old: str, new: str, location: str
) -> list[Finding]:
    old_version, new_version = _version(old), _version(new)
    breaking = sum(1 for _, _, change in changes if change.level == "breaking")

    def finding(severity: Severity, message: str) -> Finding:
        return Finding(
            "version-bump", severity, CONTRACTS_SERVICE, "/info/version", message, location
        )

    if new_version < old_version:
        return [finding(Severity.ERROR, f"info.version went backwards from {old} to {new}")]
    if breaking and new_version[0] <= old_version[0]:
        return [
            finding(
                Severity.ERROR,
                f"{breaking} breaking change(s) need a major version bump: set info.version to {old_version[0] + 1}.0.0 (it is {new})",
            )
        ]
    if changes and new_version == old_version:
        if any(change.minor for _, _, change in changes):
            suggested, kind = (
                f"{old_version[0]}.{old_version[1] + 1}.0",
                "minor: compatible additions",
            )
        else:
            suggested, kind = (
                f"{old_version[0]}.{old_version[1]}.{old_version[2] + 1}",
                "patch: compatible changes",
            )
        return [
            finding(Severity.INFO, f"compatible changes: bump info.version to {suggested} ({kind})")
        ]
    return []


def _schema_dir_label(directory: Path) -> str:
    """How a schema directory is named in findings: relative to the working directory if inside."""
    try:
        return str(directory.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(directory)
