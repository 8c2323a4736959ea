"""`breaking`: each rule on a minimal pair of schema releases, the changes that must not be
reported, the version verdict, and git revisions (`--against HEAD` on an unchanged tree)."""

from __future__ import annotations

import copy
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from opsconductor_conformance import RULES, Finding, compare_schema_sets, load_schema_dir

from tests.conftest import SCHEMAS

from .conftest import CLI

E, W, I = "error", "warning", "info"  # noqa: E741
A = "/components/schemas/A"


def _write(
    directory: Path, components: dict[str, Any], version: str, *, split: bool = False
) -> Path:
    directory.mkdir()
    files = {"a.yaml": components}
    if split:  # every component but A in a second file
        files = {
            "a.yaml": {"A": components["A"]},
            "b.yaml": {k: v for k, v in components.items() if k != "A"},
        }
    for name, schemas in files.items():
        document = {
            "openapi": "3.1.0",
            "info": {"title": name, "version": version},
            "paths": {},
            "components": {"schemas": schemas},
        }
        (directory / name).write_text(yaml.safe_dump(document, sort_keys=False))
    return directory


def _compare(
    tmp_path: Path,
    old: dict[str, Any],
    new: dict[str, Any],
    *,
    old_version: str = "1.0.0",
    new_version: str = "1.0.0",
    split_new: bool = False,
) -> list[Finding]:
    old_dir = _write(tmp_path / "old", old, old_version)
    new_dir = _write(tmp_path / "new", new, new_version, split=split_new)
    return compare_schema_sets(load_schema_dir(old_dir), load_schema_dir(new_dir))


def _changes(findings: list[Finding]) -> list[tuple[str, str, str]]:
    return sorted(
        (f.rule, f.severity.value, f.pointer) for f in findings if f.rule != "version-bump"
    )


def obj(
    direction: str, properties: dict[str, Any], required: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties, **extra}
    if required:
        schema["required"] = required
    schema["x-contract-direction"] = direction
    return schema


STR = {"type": "string"}
INT = {"type": "integer"}


def pair(
    direction: str,
    old_x: dict[str, Any],
    new_x: dict[str, Any],
    *,
    old_req: bool = False,
    new_req: bool = False,
) -> tuple[dict[str, Any], dict[str, Any]]:
    return (
        {"A": obj(direction, {"x": old_x, "k": STR}, ["x"] if old_req else None)},
        {"A": obj(direction, {"x": new_x, "k": STR}, ["x"] if new_req else None)},
    )


X = f"{A}/properties/x"

CASES = [
    pytest.param(
        {"A": obj("both", {"k": STR}), "B": {"type": "string"}},
        {"A": obj("both", {"k": STR})},
        [("component-removed", E, "/components/schemas/B")],
        id="component-removed",
    ),
    pytest.param(
        {"A": obj("both", {"k": STR})},
        {"A": obj("both", {"k": STR}), "B": STR},
        [("component-added", I, "/components/schemas/B")],
        id="component-added",
    ),
    pytest.param(
        {"A": obj("response", {"k": STR, "x": STR})},
        {"A": obj("response", {"k": STR})},
        [("property-removed", E, X)],
        id="property-removed-response",
    ),
    pytest.param(
        {"A": obj("request", {"k": STR, "x": STR})},
        {"A": obj("request", {"k": STR})},
        [("property-removed", E, X)],
        id="property-removed-request",
    ),
    pytest.param(
        {"A": obj("both", {"k": STR})},
        {"A": obj("both", {"k": STR, "x": STR})},
        [("property-added", I, X)],
        id="property-added",
    ),
    pytest.param(
        {"A": obj("request", {"k": STR})},
        {"A": obj("request", {"k": STR, "x": STR}, ["x"])},
        [("required-property-added", E, X)],
        id="required-added-request",
    ),
    pytest.param(
        {"A": obj("response", {"k": STR})},
        {"A": obj("response", {"k": STR, "x": STR}, ["x"])},
        [("required-property-added", I, X)],
        id="required-added-response",
    ),
    pytest.param(
        *pair("request", STR, STR, new_req=True),
        [("optional-made-required", E, X)],
        id="optional-made-required-request",
    ),
    pytest.param(
        *pair("both", STR, STR, new_req=True),
        [("optional-made-required", E, X)],
        id="optional-made-required-both",
    ),
    pytest.param(
        *pair("response", STR, STR, new_req=True),
        [("optional-made-required", I, X)],
        id="optional-made-required-response",
    ),
    pytest.param(
        *pair("response", STR, STR, old_req=True),
        [("required-removed", E, X)],
        id="required-removed-response",
    ),
    pytest.param(
        *pair("request", STR, STR, old_req=True),
        [("required-removed", I, X)],
        id="required-removed-request",
    ),
    pytest.param(
        *pair("both", STR, INT), [("property-type-changed", E, f"{X}/type")], id="type-changed"
    ),
    pytest.param(
        *pair("response", INT, {"type": "number"}),
        [("property-type-changed", E, f"{X}/type")],
        id="type-widened-response",
    ),
    pytest.param(
        *pair("request", INT, {"type": "number"}),
        [("property-type-changed", I, f"{X}/type")],
        id="type-widened-request",
    ),
    pytest.param(
        *pair("request", {"type": ["string", "null"]}, STR),
        [("nullable-removed", E, X)],
        id="nullable-removed-request",
    ),
    pytest.param(
        *pair("response", {"type": ["string", "null"]}, STR),
        [("nullable-removed", I, X)],
        id="nullable-removed-response",
    ),
    pytest.param(
        *pair("response", STR, {"type": ["string", "null"]}),
        [("nullable-added", E, X)],
        id="nullable-added-response",
    ),
    pytest.param(
        *pair("request", STR, {"type": ["string", "null"]}),
        [("nullable-added", I, X)],
        id="nullable-added-request",
    ),
    pytest.param(
        *pair("response", {"enum": ["a", "b"]}, {"enum": ["a"]}),
        [("enum-value-removed", E, f"{X}/enum")],
        id="enum-value-removed",
    ),
    pytest.param(
        *pair("response", {"enum": ["a"]}, {"enum": ["a", "b"]}),
        [("enum-value-added", W, f"{X}/enum")],
        id="enum-value-added-response",
    ),
    pytest.param(
        *pair("request", {"enum": ["a"]}, {"enum": ["a", "b"]}),
        [("enum-value-added", I, f"{X}/enum")],
        id="enum-value-added-request",
    ),
    pytest.param(
        *pair("request", {"type": "string", "maxLength": 10}, {"type": "string", "maxLength": 5}),
        [("constraint-tightened", E, f"{X}/maxLength")],
        id="max-length-tightened-request",
    ),
    pytest.param(
        *pair("response", {"type": "string", "maxLength": 10}, {"type": "string", "maxLength": 5}),
        [("constraint-tightened", I, f"{X}/maxLength")],
        id="max-length-tightened-response",
    ),
    pytest.param(
        *pair("both", {"type": "integer", "minimum": 0}, {"type": "integer", "minimum": 1}),
        [("constraint-tightened", E, f"{X}/minimum")],
        id="minimum-tightened",
    ),
    pytest.param(
        *pair("request", STR, {"type": "string", "pattern": "^[a-z]+$"}),
        [("constraint-tightened", E, f"{X}/pattern")],
        id="pattern-added",
    ),
    pytest.param(
        *pair("response", {"type": "string", "maxLength": 5}, {"type": "string", "maxLength": 10}),
        [("constraint-loosened", E, f"{X}/maxLength")],
        id="max-length-loosened-response",
    ),
    pytest.param(
        *pair("request", {"type": "string", "maxLength": 5}, STR),
        [("constraint-loosened", I, f"{X}/maxLength")],
        id="max-length-dropped-request",
    ),
    pytest.param(
        *pair(
            "both", {"type": "string", "format": "date-time"}, {"type": "string", "format": "date"}
        ),
        [("format-changed", E, f"{X}/format")],
        id="format-changed",
    ),
    pytest.param(
        *pair("request", STR, {"type": "string", "format": "uuid"}),
        [("format-changed", E, f"{X}/format")],
        id="format-added-request",
    ),
    pytest.param(
        {"A": obj("request", {"k": STR})},
        {"A": obj("request", {"k": STR}, additionalProperties=False)},
        [("additional-properties-closed", E, f"{A}/additionalProperties")],
        id="additional-properties-closed",
    ),
    pytest.param(
        {"A": obj("both", {"k": STR}, additionalProperties=False)},
        {"A": obj("both", {"k": STR})},
        [("additional-properties-opened", I, f"{A}/additionalProperties")],
        id="additional-properties-opened",
    ),
    pytest.param(
        *pair("response", {"anyOf": [STR, INT]}, {"anyOf": [STR, INT, {"type": "boolean"}]}),
        [("composition-changed", E, f"{X}/anyOf")],
        id="anyof-member-added-response",
    ),
    pytest.param(
        *pair(
            "both",
            {"type": "object", "propertyNames": {"maxLength": 3}},
            {"type": "object", "propertyNames": {"maxLength": 4}},
        ),
        [("schema-changed", E, f"{X}/propertyNames")],
        id="unclassified",
    ),
    pytest.param(
        {"A": obj("both", {"b": {"$ref": "#/components/schemas/B"}}), "B": obj("both", {"y": STR})},
        {"A": obj("both", {"b": {"$ref": "#/components/schemas/B"}}), "B": obj("both", {"y": INT})},
        [("property-type-changed", E, "/components/schemas/B/properties/y/type")],
        id="nested-change-reported-once",
    ),
    pytest.param(
        {
            "A": obj(
                "both", {"b": {"anyOf": [{"$ref": "#/components/schemas/B"}, {"type": "null"}]}}
            ),
            "B": obj("both", {"y": STR}),
        },
        {"A": obj("both", {"b": {"$ref": "#/components/schemas/B"}}), "B": obj("both", {"y": STR})},
        [("nullable-removed", E, f"{A}/properties/b")],
        id="nullable-ref-removed",
    ),
    pytest.param(
        *pair("request", {"type": "string", "maxLength": 8}, {"enum": ["active", "paused"]}),
        [("constraint-tightened", E, f"{X}/enum")],
        id="enum-replaces-max-length-narrows",
    ),
    pytest.param(
        *pair("response", {"type": "string", "maxLength": 3}, {"enum": ["active", "paused"]}),
        [("constraint-tightened", I, f"{X}/enum"), ("constraint-loosened", E, f"{X}/maxLength")],
        id="enum-values-beyond-the-old-max-length-loosen",
    ),
    pytest.param(
        *pair("request", {"type": "integer"}, {}),
        [("property-type-changed", I, f"{X}/type")],
        id="type-dropped-widens-only",
    ),
    pytest.param(
        {
            "A": obj("response", {"b": {"$ref": "#/components/schemas/B"}}),
            "B": obj("both", {"y": STR}),
        },
        {
            "A": obj(
                "response",
                {
                    "b": {
                        "oneOf": [
                            {"$ref": "#/components/schemas/B"},
                            {"$ref": "#/components/schemas/C"},
                        ]
                    }
                },
            ),
            "B": obj("both", {"y": STR}),
            "C": obj("both", {"z": STR}),
        },
        [
            ("composition-changed", E, f"{A}/properties/b/oneOf"),
            ("component-added", I, "/components/schemas/C"),
        ],
        id="ref-became-one-member-of-a-union",
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), CASES)
def test_each_rule(
    tmp_path: Path, old: dict[str, Any], new: dict[str, Any], expected: list[tuple[str, str, str]]
) -> None:
    assert _changes(_compare(tmp_path, old, new)) == sorted(expected)


@pytest.mark.parametrize(("old", "new", "expected"), CASES)
def test_every_finding_is_a_registered_breaking_rule(
    tmp_path: Path, old: dict[str, Any], new: dict[str, Any], expected: list[tuple[str, str, str]]
) -> None:
    findings = _compare(tmp_path, old, new)
    assert {f.rule for f in findings} >= {rule for rule, _, _ in expected}
    for finding in findings:
        assert RULES[finding.rule].kind == "breaking"


NESTED = {
    "type": "object",
    "description": "nested",
    "properties": {"y": STR, "z": INT},
    "required": ["y"],
}

UNCHANGED = [
    pytest.param(
        {"A": obj("both", {"n": NESTED}), "B": obj("both", {"y": STR, "z": INT}, ["y"])},
        {
            "A": obj("both", {"n": {"$ref": "#/components/schemas/B", "description": "now a ref"}}),
            "B": obj("both", {"y": STR, "z": INT}, ["y"]),
        },
        id="inline-to-ref-refactor",
    ),
    pytest.param(
        {"A": obj("both", {"x": STR, "k": INT, "e": {"enum": ["a", "b", "c"]}}, ["x", "k"])},
        {"A": obj("both", {"e": {"enum": ["c", "a", "b"]}, "k": INT, "x": STR}, ["k", "x"])},
        id="reordering",
    ),
    pytest.param(
        {
            "A": obj(
                "both",
                {"x": {"type": "string", "description": "old", "title": "X", "examples": ["a"]}},
                description="old",
            )
        },
        {
            "A": obj(
                "both",
                {"x": {"type": "string", "description": "new words", "examples": ["b"]}},
                description="new",
            )
        },
        id="description-and-example-edits",
    ),
    pytest.param(
        {"A": obj("both", {"x": {"type": ["string", "null"]}, "c": {"const": "Bearer"}})},
        {
            "A": obj(
                "both",
                {
                    "x": {"anyOf": [STR, {"type": "null"}]},
                    "c": {"enum": ["Bearer"], "type": "string"},
                },
            )
        },
        id="null-union-and-const-spellings",
    ),
    pytest.param(
        {"A": obj("both", {"m": {"type": "number", "minimum": 0}})},
        {"A": obj("both", {"m": {"type": "number", "minimum": 0.0}})},
        id="zero-as-float",
    ),
]


@pytest.mark.parametrize(("old", "new"), UNCHANGED)
def test_changes_that_are_not_reported(
    tmp_path: Path, old: dict[str, Any], new: dict[str, Any]
) -> None:
    assert _compare(tmp_path, old, new) == []


def test_moving_a_component_to_another_file_is_not_reported(tmp_path: Path) -> None:
    components = {
        "A": obj("both", {"b": {"$ref": "#/components/schemas/B"}}),
        "B": obj("both", {"y": STR}),
    }
    moved = copy.deepcopy(components)
    moved["A"]["properties"]["b"] = {"$ref": "./b.yaml#/components/schemas/B"}
    assert _compare(tmp_path, components, moved, split_new=True) == []


BREAK = ({"A": obj("response", {"k": STR, "x": STR})}, {"A": obj("response", {"k": STR})})
ADD = ({"A": obj("both", {"k": STR})}, {"A": obj("both", {"k": STR, "x": STR})})
LOOSEN = pair("request", {"type": "string", "maxLength": 5}, {"type": "string", "maxLength": 6})


def _version(findings: list[Finding]) -> list[tuple[str, str]]:
    return [(f.severity.value, f.message) for f in findings if f.rule == "version-bump"]


def test_breaking_change_without_major_bump_fails(tmp_path: Path) -> None:
    findings = _compare(tmp_path, *BREAK, new_version="1.1.0")
    assert _version(findings) == [
        (
            E,
            "1 breaking change(s) need a major version bump: set info.version to 2.0.0 (it is 1.1.0)",
        )
    ]


def test_breaking_change_with_major_bump_is_information(tmp_path: Path) -> None:
    findings = _compare(tmp_path, *BREAK, new_version="2.0.0")
    assert _version(findings) == []
    assert [(f.rule, f.severity.value) for f in findings] == [("property-removed", I)]
    assert "allowed by the major bump to 2.0.0" in findings[0].message


def test_compatible_addition_suggests_minor(tmp_path: Path) -> None:
    assert _version(_compare(tmp_path, *ADD)) == [
        (I, "compatible changes: bump info.version to 1.1.0 (minor: compatible additions)")
    ]


def test_other_compatible_change_suggests_patch(tmp_path: Path) -> None:
    assert _version(_compare(tmp_path, *LOOSEN)) == [
        (I, "compatible changes: bump info.version to 1.0.1 (patch: compatible changes)")
    ]


def test_bumped_compatible_change_needs_nothing(tmp_path: Path) -> None:
    assert _version(_compare(tmp_path, *ADD, new_version="1.1.0")) == []


def test_version_going_backwards(tmp_path: Path) -> None:
    findings = _compare(tmp_path, *ADD, old_version="1.2.0", new_version="1.1.0")
    assert _version(findings) == [(E, "info.version went backwards from 1.2.0 to 1.1.0")]


def test_cli_against_dir(cli: CLI, tmp_path: Path) -> None:
    old = _write(tmp_path / "old", BREAK[0], "1.0.0")
    new = _write(tmp_path / "new", BREAK[1], "1.0.0")
    run = cli("breaking", "--against-dir", old, "--schemas", new, "--format", "json")
    assert run.code == 1
    assert sorted((f["rule"], f["severity"]) for f in run.json()["findings"]) == [
        ("property-removed", E),
        ("version-bump", E),
    ]
    assert cli("breaking", "--against-dir", new, "--schemas", new).code == 0


def test_shared_schemas_against_themselves_are_clean(cli: CLI) -> None:
    run = cli("breaking", "--against-dir", SCHEMAS, "--schemas", SCHEMAS, "--format", "json")
    assert run.code == 0
    assert run.json()["findings"] == []


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copytree(SCHEMAS, root / "schemas")
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "contracts 1.0.0")
    monkeypatch.chdir(root)
    return root


def test_against_head_on_an_unchanged_tree_is_clean(
    cli: CLI, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    run = cli("breaking", "--against", "HEAD", "--format", "json")
    assert run.code == 0, run.err
    assert run.json()["findings"] == []


def test_against_head_reports_uncommitted_breaking_change(
    cli: CLI, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    path = repo / "schemas" / "errors.yaml"
    document = yaml.safe_load(path.read_text())
    del document["components"]["schemas"]["ErrorResponse"]["properties"]["request_id"]
    document["components"]["schemas"]["ErrorResponse"]["required"].remove("request_id")
    del document["components"]["schemas"]["ErrorCode"]
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    run = cli("breaking", "--against", "HEAD", "--format", "json")
    assert run.code == 1
    found = {(f["rule"], f["pointer"], f["location"]) for f in run.json()["findings"]}
    assert found == {
        (
            "property-removed",
            "/components/schemas/ErrorResponse/properties/request_id",
            "schemas/errors.yaml",
        ),
        ("component-removed", "/components/schemas/ErrorCode", "HEAD:schemas/errors.yaml"),
        ("version-bump", "/info/version", "schemas/audit.yaml"),
    }


def test_against_an_older_commit_from_a_subdirectory(
    cli: CLI, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = repo / "schemas" / "health.yaml"
    path.write_text(
        path.read_text().replace(
            "enum: [healthy, degraded, unhealthy]", "enum: [healthy, degraded, unhealthy, starting]"
        )
    )
    _git(repo, "commit", "-q", "-am", "add starting")
    monkeypatch.chdir(repo / "schemas")
    run = cli("breaking", "--against", "HEAD~1", "--schemas", ".", "--format", "json")
    assert run.code == 0, run.err
    rules = sorted((f["rule"], f["severity"]) for f in run.json()["findings"])
    assert rules == [("enum-value-added", W), ("version-bump", I)]


@pytest.mark.parametrize(
    ("ref", "phrase"),
    [("no-such-ref", "unknown git revision"), ("--output=x", "not a git revision")],
)
def test_bad_revisions(
    cli: CLI, repo: Path, monkeypatch: pytest.MonkeyPatch, ref: str, phrase: str
) -> None:
    monkeypatch.chdir(repo)
    run = cli("breaking", f"--against={ref}")
    assert run.code == 2
    assert phrase in run.err


def test_outside_a_repository(cli: CLI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    schemas = tmp_path / "plain" / "schemas"
    shutil.copytree(SCHEMAS, schemas)
    monkeypatch.chdir(schemas.parent)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    run = cli("breaking", "--against", "HEAD")
    assert run.code == 2
    assert "not inside a git repository" in run.err


@pytest.mark.parametrize("output", ["text", "junit", "json", "markdown"])
def test_every_format_shows_and_counts_breaking_findings(
    cli: CLI, tmp_path: Path, output: str
) -> None:
    old = _write(tmp_path / "old", BREAK[0], "1.0.0")
    new = _write(tmp_path / "new", BREAK[1], "1.0.0")
    run = cli(
        "breaking", "--against-dir", old, "--schemas", new, "--format", output, "--color", "never"
    )
    assert run.code == 1
    if output == "text":
        assert "property-removed" in run.out
        assert "2 errors" in run.out
    elif output == "junit":
        assert 'failures="0"' not in run.out
        assert "property-removed" in run.out
    elif output == "json":
        (summary,) = run.json()["summary"]["services"]
        assert summary["errors"] == 2
    else:
        assert "property-removed" in run.out
