"""`breaking` on any service's API: two documents or directories (3.0 and 3.1, JSON and YAML),
paths and operations, directions from use, FastAPI's artefacts, `--against REF FILE` in a git
repository, and every output format listing the same findings (tests/fixtures/breaking/)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from opsconductor_conformance.report import FORMATS

from tests.conftest import ROOT

from .conftest import CLI

FIXTURES = ROOT / "tests" / "fixtures" / "breaking"
E, W, I = "error", "warning", "info"  # noqa: E741
USERS = "/paths/~1users/get"


def _pair(case: str) -> tuple[Path, Path]:
    directory = FIXTURES / case
    if (directory / "old").is_dir():
        return directory / "old" / "openapi.yaml", directory / "new" / "openapi.yaml"
    old = next(directory.glob("old.*"))
    return old, directory / f"new{old.suffix}"


CASES = {
    "fastapi-split": (
        0,
        {
            ("component-split", I, "/components/schemas/Item-Input"),
            ("component-split", I, "/components/schemas/Item-Output"),
            ("version-bump", I, "/info/version"),
        },
    ),
    "nullable-ref-3.1": (
        1,
        {
            ("nullable-added", E, "/components/schemas/Pet/properties/owner"),
            ("version-bump", E, "/info/version"),
        },
    ),
    "nullable-ref-3.0": (
        1,
        {
            ("nullable-removed", E, "/components/schemas/PetIn/properties/owner"),
            ("version-bump", E, "/info/version"),
        },
    ),
    "enum-replaces-max-length": (
        1,
        {
            (
                "constraint-tightened",
                E,
                "/paths/~1campaigns/post/requestBody/content/application~1x-www-form-urlencoded/schema/properties/Status/enum",
            ),
            ("component-added", I, "/components/schemas/campaign_enum_status"),
            ("version-bump", E, "/info/version"),
        },
    ),
    "operations": (
        1,
        {
            ("required-property-added", E, "/components/schemas/UserIn/properties/email"),
            ("constraint-loosened", I, "/components/schemas/UserIn/properties/name/maxLength"),
            ("property-removed", E, "/components/schemas/UserOut/properties/email"),
            ("enum-value-added", W, "/components/schemas/UserOut/properties/role/enum"),
            ("parameter-removed", E, USERS),
            ("constraint-tightened", E, f"{USERS}/parameters/0/schema/maximum"),
            ("required-parameter-added", E, f"{USERS}/parameters/1"),
            ("parameter-added", I, f"{USERS}/parameters/2"),
            ("response-removed", E, f"{USERS}/responses"),
            ("path-removed", E, "/paths/~1legacy/get"),
            ("operation-removed", E, "/paths/~1users~1{user_id}/delete"),
            ("path-added", I, "/paths/~1teams/get"),
            ("version-bump", I, "/info/version"),
        },
    ),
    "multi-file": (
        0,
        {
            (
                "enum-value-added",
                W,
                "/paths/~1droplets/get/responses/200/content/application~1json/schema/properties/droplets/items/properties/status/enum",
            ),
            (
                "property-added",
                I,
                "/paths/~1droplets/get/responses/200/content/application~1json/schema/properties/droplets/items/properties/region",
            ),
        },
    ),
}


def test_every_fixture_is_synthetic_and_has_a_case() -> None:
    cases = {p.name for p in FIXTURES.iterdir() if p.is_dir()}
    assert cases == set(CASES)
    for path in FIXTURES.rglob("*"):
        if path.is_file():
            assert "SYNTHETIC" in path.read_text(encoding="utf-8").splitlines()[0], path


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_fixture(cli: CLI, case: str) -> None:
    code, expected = CASES[case]
    old, new = _pair(case)
    run = cli("breaking", old, new, "--format", "json")
    assert run.code == code, run.err
    found = {(f["rule"], f["severity"], f["pointer"]) for f in run.json()["findings"]}
    assert found == expected


def test_the_request_side_and_the_response_side_break_in_opposite_directions(cli: CLI) -> None:
    old, new = _pair("operations")
    findings = cli("breaking", old, new, "--format", "json").json()["findings"]
    messages = {f["pointer"]: f["message"] for f in findings}
    assert "UserIn (request)" in messages["/components/schemas/UserIn/properties/name/maxLength"]
    assert "UserOut (response)" in messages["/components/schemas/UserOut/properties/email"]
    # Reversed, the same edits break the other way: the loosened request is now a tightening.
    back = cli("breaking", new, old, "--format", "json").json()["findings"]
    by_pointer = {f["pointer"]: (f["rule"], f["severity"]) for f in back}
    assert by_pointer["/components/schemas/UserIn/properties/name/maxLength"] == (
        "constraint-tightened",
        E,
    )
    assert by_pointer["/components/schemas/UserOut/properties/role/enum"] == (
        "enum-value-removed",
        E,
    )
    assert by_pointer["/components/schemas/UserIn/properties/email"] == ("property-removed", E)


def test_a_merge_of_input_and_output_is_not_a_removal(cli: CLI) -> None:
    old, new = _pair("fastapi-split")
    run = cli("breaking", new, old, "--format", "json")
    assert run.code == 0, run.out
    assert {f["rule"] for f in run.json()["findings"]} == {"component-split", "version-bump"}


def test_a_directory_of_json_documents(cli: CLI, tmp_path: Path) -> None:
    old, new = _pair("nullable-ref-3.0")
    for side, source in (("a", old), ("b", new)):
        (tmp_path / side).mkdir()
        shutil.copy(source, tmp_path / side / "openapi.json")
    run = cli("breaking", tmp_path / "a", tmp_path / "b", "--format", "json")
    assert run.code == 1
    (finding,) = [f for f in run.json()["findings"] if f["rule"] == "nullable-removed"]
    assert finding["location"] == "b/openapi.json"


def _identities(fmt: str, out: str) -> list[tuple[str, str]]:
    """(rule id, pointer) of every finding an output lists, as that format writes it."""
    if fmt == "json":
        return [(f["rule"], f["pointer"]) for f in json.loads(out)["findings"]]
    if fmt == "sarif":
        results = json.loads(out)["runs"][0]["results"]
        return [(r["ruleId"], r["properties"]["pointer"]) for r in results]
    if fmt == "text":
        return re.findall(r"^  (?:error|warning|info)\s+(\S+)  (\S+)$", out, re.MULTILINE)
    if fmt == "github":
        return [
            (m[0], m[1])
            for m in re.findall(r"^::\w+ .*?title=([\w-]+) \(.*?\)::(.*?): ", out, re.MULTILINE)
        ]
    if fmt == "markdown":
        return re.findall(r"^\| \S+ \w+ \| `([\w-]+)` \| `(.*?)` \|", out, re.MULTILINE)
    root = ET.fromstring(out)
    found = []
    for case in root.iter("testcase"):
        for element in (case.find("failure"), case.find("system-out")):
            for line in (element.text or "").splitlines() if element is not None else []:
                found.append((str(case.get("name")), line.split(" ", 2)[1].removesuffix(":")))
    return found


def _counts(fmt: str, out: str) -> tuple[int, int]:
    """(errors, warnings) as the format's summary states them."""
    if fmt == "json":
        summary = json.loads(out)["summary"]
        return summary["errors"], summary["warnings"]
    if fmt == "sarif":
        summary = json.loads(out)["runs"][0]["properties"]
        return summary["errors"], summary["warnings"]
    if fmt == "text":
        header = re.search(r"^\S.*: (\d+) errors?, (\d+) warnings?$", out, re.MULTILINE)
        footer = re.search(r"^breaking \w+: (\d+) errors?, (\d+) warnings?", out, re.MULTILINE)
        assert header, out
        assert footer, out
        assert header.groups() == footer.groups(), "the header and the footer disagree"
        return int(footer[1]), int(footer[2])
    if fmt == "markdown":
        row = re.search(r"^\| [^|]+ \| `[^`]*` \| (\d+) \| (\d+) \|", out, re.MULTILINE)
        assert row, out
        return int(row[1]), int(row[2])
    if fmt == "github":
        return out.count("::error "), out.count("::warning ")
    root = ET.fromstring(out)
    errors = sum(
        (case.findtext("failure") or "").count("\nerror ")
        + (case.findtext("failure") or "").startswith("error ")
        for case in root.iter("testcase")
    )
    warnings = sum(
        ((case.findtext("system-out") or "") + "\n" + (case.findtext("failure") or "")).count(
            "warning "
        )
        for case in root.iter("testcase")
    )
    return errors, warnings


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_format_lists_every_finding(cli: CLI, case: str) -> None:
    old, new = _pair(case)
    reference = cli("breaking", old, new, "--format", "json").json()
    expected = sorted((f["rule"], f["pointer"]) for f in reference["findings"])
    summary = reference["summary"]
    for fmt in FORMATS:
        run = cli("breaking", old, new, "--format", fmt, "--color", "never")
        assert run.code == CASES[case][0], (fmt, run.err)
        assert sorted(_identities(fmt, run.out)) == expected, fmt
        assert _counts(fmt, run.out) == (summary["errors"], summary["warnings"]), fmt


def test_junit_fails_a_removed_component(cli: CLI, tmp_path: Path) -> None:
    old, new = _pair("fastapi-split")
    document = json.loads(new.read_text())
    del document["components"]["schemas"]["Tag"]
    for schema in document["components"]["schemas"].values():
        schema.get("properties", {}).pop("parent", None)
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(document))
    run = cli("breaking", old, changed, "--format", "junit")
    assert run.code == 1
    case = ET.fromstring(run.out).find(".//testcase[@name='component-removed']")
    assert case is not None
    failure = case.find("failure")
    assert failure is not None
    assert "component Tag removed" in (failure.text or "")


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@pytest.fixture
def service_repo(tmp_path: Path) -> Path:
    """A service's repository with the old API committed and the new one in the work tree."""
    root = tmp_path / "service"
    (root / "api").mkdir(parents=True)
    old, new = _pair("operations")
    shutil.copy(old, root / "api" / "openapi.yaml")
    shutil.copytree(FIXTURES / "multi-file" / "old", root / "spec")
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "v1")
    shutil.copy(new, root / "api" / "openapi.yaml")
    shutil.rmtree(root / "spec")
    shutil.copytree(FIXTURES / "multi-file" / "new", root / "spec")
    return root


def test_against_a_git_ref_reads_the_same_path_there(
    cli: CLI, service_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(service_repo / "api")
    run = cli("breaking", "--against", "HEAD", "openapi.yaml", "--format", "json")
    assert run.code == 1, run.err
    found = {(f["rule"], f["pointer"], f["location"]) for f in run.json()["findings"]}
    assert ("path-removed", "/paths/~1legacy/get", "HEAD:api/openapi.yaml") in found
    assert (
        "required-parameter-added",
        f"{USERS}/parameters/1",
        "openapi.yaml",
    ) in found
    old, new = _pair("operations")
    direct = cli("breaking", old, new, "--format", "json").json()["findings"]
    assert len(run.json()["findings"]) == len(direct)


def test_against_a_git_ref_follows_relative_references(
    cli: CLI, service_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(service_repo)
    run = cli("breaking", "--against", "HEAD", "spec/openapi.yaml", "--format", "json")
    assert run.code == 0, run.err
    assert {f["rule"] for f in run.json()["findings"]} == {"enum-value-added", "property-added"}


def test_against_a_git_ref_on_an_unchanged_file_is_clean(
    cli: CLI, service_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _git(service_repo, "commit", "-q", "-am", "v2")
    monkeypatch.chdir(service_repo)
    run = cli("breaking", "--against", "HEAD", "api/openapi.yaml", "--format", "json")
    assert run.code == 0, run.err
    assert [f["rule"] for f in run.json()["findings"]] == []


@pytest.mark.parametrize(
    ("ref", "path", "phrase"),
    [
        ("no-such-ref", "api/openapi.yaml", "unknown git revision"),
        ("HEAD", "api/new.yaml", "does not exist at HEAD"),
        ("HEAD", "nowhere/openapi.yaml", "no such file or directory"),
    ],
)
def test_against_a_git_ref_says_what_is_wrong(
    cli: CLI,
    service_repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    ref: str,
    path: str,
    phrase: str,
) -> None:
    shutil.copy(service_repo / "api" / "openapi.yaml", service_repo / "api" / "new.yaml")
    monkeypatch.chdir(service_repo)
    run = cli("breaking", "--against", ref, path)
    assert run.code == 2
    assert phrase in run.err
    assert run.err.count("\n") == 1


def test_against_a_git_ref_outside_a_repository(
    cli: CLI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    old, _ = _pair("operations")
    shutil.copy(old, plain / "openapi.yaml")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    monkeypatch.chdir(plain)
    run = cli("breaking", "--against", "HEAD", "openapi.yaml")
    assert run.code == 2
    assert "not inside a git repository" in run.err


def test_a_directory_without_documents_or_with_a_name_twice(cli: CLI, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    old, _ = _pair("operations")
    run = cli("breaking", tmp_path / "empty", old)
    assert run.code == 2
    assert "no OpenAPI documents" in run.err
    twice = tmp_path / "twice"
    twice.mkdir()
    shutil.copy(old, twice / "a.yaml")
    shutil.copy(old, twice / "b.yaml")
    run = cli("breaking", twice, old)
    assert run.code == 2
    assert "names must be unique across the files of a directory" in run.err
    assert run.err.count("\n") == 1


def test_each_half_of_a_split_keeps_its_own_direction(cli: CLI, tmp_path: Path) -> None:
    old, new = _pair("fastapi-split")
    document = json.loads(new.read_text())
    for half in ("Item-Input", "Item-Output"):
        document["components"]["schemas"][half]["properties"]["name"]["maxLength"] = 100
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(document))
    run = cli("breaking", old, changed, "--format", "json")
    loosened = {
        f["pointer"]: f["severity"]
        for f in run.json()["findings"]
        if f["rule"] == "constraint-loosened"
    }
    assert loosened == {
        "/components/schemas/Item-Input/properties/name/maxLength": I,
        "/components/schemas/Item-Output/properties/name/maxLength": E,
    }


@pytest.mark.parametrize(
    ("required", "expected"),
    [(False, ("request-body-added", I)), (True, ("request-body-made-required", E))],
)
def test_a_request_body_where_there_was_none(
    cli: CLI, tmp_path: Path, required: bool, expected: tuple[str, str]
) -> None:
    old, _ = _pair("nullable-ref-3.0")
    document = json.loads(old.read_text())
    operation = document["paths"]["/pets"]["post"]
    body = operation.pop("requestBody")
    (tmp_path / "old.json").write_text(json.dumps(document))
    operation["requestBody"] = {**body, "required": required}
    (tmp_path / "new.json").write_text(json.dumps(document))
    run = cli("breaking", tmp_path / "old.json", tmp_path / "new.json", "--format", "json")
    found = [
        (f["rule"], f["severity"]) for f in run.json()["findings"] if f["rule"] != "version-bump"
    ]
    assert found == [expected]


def test_against_a_git_ref_follows_references_above_the_document(
    cli: CLI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "repo"
    (root / "spec").mkdir(parents=True)
    tree = FIXTURES / "multi-file"
    text = (tree / "old" / "openapi.yaml").read_text().replace("schemas/", "../schemas/")
    (root / "spec" / "openapi.yaml").write_text(text)
    shutil.copytree(tree / "old" / "schemas", root / "schemas")
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "v1")
    shutil.copy(tree / "new" / "schemas" / "droplet.yaml", root / "schemas" / "droplet.yaml")
    monkeypatch.chdir(root)  # as CI runs it: from the repository's top
    run = cli("breaking", "--against", "HEAD", "spec/openapi.yaml", "--format", "json")
    assert run.code == 0, run.err
    assert {f["rule"] for f in run.json()["findings"]} == {
        "enum-value-added",
        "property-added",
        "version-bump",
    }


def test_against_dir_with_a_new_path(cli: CLI) -> None:
    tree = FIXTURES / "multi-file"
    run = cli("breaking", "--against-dir", tree / "old", tree / "new", "--format", "json")
    assert run.code == 0, run.err
    assert {f["rule"] for f in run.json()["findings"]} == {"enum-value-added", "property-added"}
