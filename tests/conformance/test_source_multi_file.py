"""Multi-file specifications (issue 14): relative external `$ref`s are read as given, bounded.

Files next to the document (in its directory tree) are loaded and bundled into it; a reference
out of the tree, a remote one, a missing file or a dangling fragment is a clear exit 2.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from opsconductor_conformance import bundle, load_source

from .conftest import CLI

ROOT = """\
openapi: 3.0.3
info: {title: multi, version: 1.0.0}
paths:
  /things:
    get:
      operationId: list_things
      responses:
        '200':
          description: things
          content:
            application/json:
              schema: {$ref: 'schemas/things.yaml#/ThingList'}
        '404': {$ref: 'shared/responses.yaml#/not_found'}
"""
THINGS = """\
ThingList:
  type: object
  properties:
    things: {type: array, items: {$ref: '#/Thing'}}
    total: {type: integer}
Thing:
  type: object
  properties:
    name: {type: string}
    owner: {$ref: '../shared/owner.yaml'}
"""
RESPONSES = """\
not_found:
  description: not found
  content:
    application/json:
      schema: {$ref: 'owner.yaml'}
"""
OWNER = "type: object\nproperties:\n  id: {type: string}\n"


def _tree(tmp_path: Path, **overrides: str) -> Path:
    files = {
        "openapi.yaml": ROOT,
        "schemas/things.yaml": THINGS,
        "shared/responses.yaml": RESPONSES,
        "shared/owner.yaml": OWNER,
        **{name.replace("__", "/"): text for name, text in overrides.items()},
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path / "openapi.yaml"


def test_relative_refs_across_files_are_resolved(cli: CLI, tmp_path: Path) -> None:
    source = load_source(str(_tree(tmp_path)))
    assert set(source.document[bundle.BUNDLE_KEY]) == {
        "schemas/things.yaml",
        "shared/responses.yaml",
        "shared/owner.yaml",
    }
    run = cli("validate", tmp_path / "openapi.yaml", "--format", "json")
    assert run.code == 1, run.err
    rules = {f["rule"] for f in run.json()["findings"]}
    assert "pagination" in rules  # {things: [...], total} was read through two files
    assert "error-envelope" in rules  # the 404 in shared/responses.yaml


@pytest.mark.parametrize(
    ("overrides", "phrase"),
    [
        ({"shared__owner.yaml": "$ref: '../../outside.yaml'\n"}, "points outside"),
        ({"shared__owner.yaml": "$ref: 'https://example.com/owner.yaml'\n"}, "is remote"),
        ({"shared__owner.yaml": "$ref: 'gone.yaml'\n"}, "no such file"),
        ({"shared__owner.yaml": "$ref: 'responses.yaml#/missing'\n"}, "does not resolve"),
        ({"shared__owner.yaml": "type: [\n"}, "owner.yaml"),
    ],
    ids=["outside-the-tree", "remote", "missing-file", "dangling-fragment", "broken-file"],
)
def test_a_reference_that_cannot_be_followed_is_exit_2(
    cli: CLI, tmp_path: Path, overrides: dict[str, str], phrase: str
) -> None:
    run = cli("validate", _tree(tmp_path, **overrides))
    assert run.code == 2, run.err
    assert run.err.count("\n") == 1, run.err
    assert phrase in run.err


def test_the_number_of_files_is_bounded(
    cli: CLI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bundle, "MAX_FILES", 2)
    run = cli("validate", _tree(tmp_path))
    assert run.code == 2, run.err
    assert "more than 2 files" in run.err


def _split_petstore(top: Path) -> Path:
    """A root in spec/ whose schemas sit in a sibling directory (openapi-spec-validator's layout)."""
    (top / "spec").mkdir(parents=True)
    (top / "common").mkdir()
    (top / "spec" / "openapi.yaml").write_text(
        ROOT.replace("schemas/things.yaml#/ThingList", "../common/things.yaml#/ThingList").replace(
            "shared/responses.yaml#/not_found", "../common/responses.yaml#/not_found"
        )
    )
    (top / "common" / "things.yaml").write_text(
        THINGS.replace("../shared/owner.yaml", "owner.yaml")
    )
    (top / "common" / "responses.yaml").write_text(RESPONSES)
    (top / "common" / "owner.yaml").write_text(OWNER)
    return top / "spec" / "openapi.yaml"


def test_references_above_the_root_resolve_inside_the_working_directory(
    cli: CLI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _split_petstore(tmp_path)
    monkeypatch.chdir(tmp_path)
    run = cli("validate", "spec/openapi.yaml", "--format", "json")
    assert run.code == 1, run.err
    assert "pagination" in {f["rule"] for f in run.json()["findings"]}
    assert set(load_source(str(root)).document[bundle.BUNDLE_KEY]) == {
        "common/things.yaml",
        "common/responses.yaml",
        "common/owner.yaml",
    }


def test_outside_the_working_directory_the_boundary_is_the_roots_directory(
    cli: CLI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _split_petstore(tmp_path / "tree")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    run = cli("validate", root)
    assert run.code == 2, run.err
    assert "points outside" in run.err
    assert "working directory" in run.err  # says how to widen the boundary
