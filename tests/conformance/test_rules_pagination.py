"""The pagination rule finds list operations by structure, whatever the array is called (issue 14).

A response object whose one array property holds the resources, with offset or cursor query
parameters or page metadata (totals, cursors, links) beside it, is a page; so are the legacy
shapes `{data, meta}` and `{data, count}`. Each finding names the shape found and the shared one.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import CLI, OPENAPI_FIXTURES

BASE = yaml.safe_load((OPENAPI_FIXTURES / "pagination-items-without-meta.yaml").read_text())
AT = "/paths/~1targets/get/responses/200/content/application~1json/schema"
TARGETS = {"type": "array", "items": {"$ref": "#/components/schemas/Target"}}


def _query(*names: str) -> list[dict[str, Any]]:
    return [{"name": n, "in": "query", "schema": {"type": "integer"}} for n in names]


def _document(tmp_path: Path, page: dict[str, Any], params: list[dict[str, Any]]) -> Path:
    document = copy.deepcopy(BASE)
    document["components"]["schemas"]["TargetList"] = page
    document["paths"]["/targets"]["get"]["parameters"] = params
    path = tmp_path / "openapi.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def _object(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


CASES = {
    "fastapi-template-data-count": (
        _object(data=TARGETS, count={"type": "integer"}),
        _query("skip", "limit"),
        ["{data: [...], count}", "legacy", "skip, limit"],
    ),
    "legacy-data-meta": (
        _object(data=TARGETS, meta=_object(total={"type": "integer"})),
        [],
        ["{data: [...], meta}", "legacy"],
    ),
    "named-array-alone": (_object(projects=TARGETS), [], ["{projects: [...]}"]),
    "named-array-with-totals": (
        _object(results=TARGETS, total_entries={"type": "integer"}),
        [],
        ["{results: [...], total_entries}"],
    ),
    "cursor-parameters": (
        _object(entries=TARGETS, object={"type": "string"}),
        _query("starting_after", "limit"),
        ["{entries: [...], object}", "starting_after"],
    ),
    "twilio-style-meta": (
        _object(
            messages=TARGETS,
            meta=_object(page={"type": "integer"}, next_page_url={"type": "string"}),
        ),
        _query("PageSize", "Page"),
        ["{messages: [...], meta}"],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_wrapped_list_is_a_page_named_by_its_shape(cli: CLI, tmp_path: Path, case: str) -> None:
    page, params, phrases = CASES[case]
    run = cli("validate", _document(tmp_path, page, params), "--format", "json")
    found = [f for f in run.json()["findings"] if f["rule"] == "pagination"]
    shapes = [f for f in found if f["pointer"] == AT]
    assert len(shapes) == 1, found
    message = shapes[0]["message"]
    for phrase in [*phrases, "PaginatedResponse", "items", "pagination"]:
        assert phrase in message, message


NOT_PAGES = {
    "one-array-among-fields-no-paging": (
        _object(name={"type": "string"}, tags={"type": "array", "items": {"type": "string"}}),
        [],
    ),
    "two-arrays": (_object(a=TARGETS, b=TARGETS, total={"type": "integer"}), _query("page")),
}


@pytest.mark.parametrize("case", sorted(NOT_PAGES))
def test_an_object_that_merely_has_an_array_is_not_a_page(
    cli: CLI, tmp_path: Path, case: str
) -> None:
    page, params = NOT_PAGES[case]
    run = cli("validate", _document(tmp_path, page, params), "--format", "json")
    assert [f for f in run.json()["findings"] if f["rule"] == "pagination"] == []


LEGACY_PAGES = {
    "fastapi-template-data-count": (
        _object(data=TARGETS, count={"type": "integer"}),
        _query("skip", "limit"),
        "{data, count}",
    ),
    "legacy-data-meta": (
        _object(data=TARGETS, meta=_object(total={"type": "integer"})),
        [],
        "{data, meta}",
    ),
    "plural-total": (
        _object(targets=TARGETS, total={"type": "integer"}),
        _query("page", "per_page"),
        "{targets, total}",
    ),
}


@pytest.mark.parametrize("case", sorted(LEGACY_PAGES))
def test_a_legacy_page_is_named_by_both_rules_alike(cli: CLI, tmp_path: Path, case: str) -> None:
    page, params, shape = LEGACY_PAGES[case]
    findings = cli("validate", _document(tmp_path, page, params), "--format", "json").json()[
        "findings"
    ]
    legacy = [f for f in findings if f["rule"] == "legacy-page"]
    assert [f["pointer"] for f in legacy] == ["/components/schemas/TargetList"], findings
    for phrase in [shape, "PaginatedResponse", "items", "pagination", "next_page_token"]:
        assert phrase in legacy[0]["message"], legacy[0]["message"]
    # The pagination rule sees the same shape, and leaves the migration to legacy-page.
    shapes = [f for f in findings if f["rule"] == "pagination" and f["pointer"] == AT]
    assert [f["severity"] for f in shapes] == ["warning"], shapes
    assert "legacy" in shapes[0]["message"]


@pytest.mark.parametrize("case", ["named-array-alone", "named-array-with-totals"])
def test_a_wrapped_list_of_no_legacy_shape_is_no_legacy_page(
    cli: CLI, tmp_path: Path, case: str
) -> None:
    page, params, _ = CASES[case]
    findings = cli("validate", _document(tmp_path, page, params), "--format", "json").json()[
        "findings"
    ]
    assert [f for f in findings if f["rule"] == "legacy-page"] == []
    assert [
        f["severity"] for f in findings if f["rule"] == "pagination" and f["pointer"] == AT
    ] == ["error"]
