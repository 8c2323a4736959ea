"""The fleet view (issue 17 §5): `validate` on several services prints one row per service
(errors, warnings, migration findings, contracts version) in text and Markdown, and
`--format html` writes one self-contained page with the table, a progress bar of the
services migrated and the findings grouped by rule."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from opsconductor_conformance.cli import main

from .test_validate_legacy import base, compat_mode, counted_page, skip_limit


def write(path: Path, doc: dict[str, object], title: str) -> Path:
    doc["info"] = {**doc["info"], "title": title}  # type: ignore[dict-item]
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture
def fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Three services: migrated, legacy-shaped (two migration findings, no contracts version),
    and migrated but with the compatibility mode still on."""
    monkeypatch.chdir(tmp_path)
    legacy = base()
    counted_page(legacy)
    skip_limit(legacy)
    del legacy["info"]["x-opsconductor-contracts"]
    compat = base()
    compat_mode(compat)
    return [
        write(tmp_path / "auth.json", base(), "auth-service"),
        write(tmp_path / "jobs.json", legacy, "jobs-service"),
        write(tmp_path / "users.json", compat, "user-service"),
    ]


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str]:
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().out


def test_text_has_one_row_per_service(
    fleet: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(capsys, "validate", *fleet, "--color", "never")
    table = out.split("\n\n", 1)[0].splitlines()
    assert table[0].split() == [
        "service",
        "errors",
        "warnings",
        "migration",
        "contracts",
        "migrated",
    ]
    rows = {line.split()[0]: line.split()[1:] for line in table[2:-1]}
    assert rows["auth-service"] == ["0", "0", "0", "1.0.0", "yes"]
    assert rows["jobs-service"][2:] == ["2", "-", "no"]
    assert rows["user-service"][2:] == ["1", "1.0.0", "no"]
    assert table[-1] == "migrated: 1 of 3 services (33%)"
    # The usual report follows.
    assert "jobs-service" in out.split("\n\n", 1)[1]
    # Warnings, not errors: the missing contracts version, the two migration findings (the
    # old page, skip/limit) and the pagination rule's own finding on the old page.
    assert rows["jobs-service"][:2] == ["0", "4"]
    assert code == 0


def test_one_service_prints_the_usual_report(
    fleet: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, out = run(capsys, "validate", fleet[0], "--color", "never")
    assert "migrated:" not in out


def test_markdown_has_the_table(fleet: list[Path], capsys: pytest.CaptureFixture[str]) -> None:
    _, out = run(capsys, "validate", *fleet, "--format", "markdown")
    assert "**1 of 3 services migrated (33%)**" in out
    assert "| jobs-service | " in out
    assert re.search(r"\| user-service \| 0 \| 1 \| 1 \| 1\.0\.0 \| ⏳ \|", out)
    assert "## " in out.split("## Migration: fleet", 1)[1]  # the usual report follows


def test_html_is_one_self_contained_page(
    fleet: list[Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    page_path = tmp_path / "migration.html"
    code, out = run(capsys, "validate", *fleet, "--format", "html", "-o", page_path)
    assert out == ""
    assert code == 0  # only warnings in the fleet
    page = page_path.read_text()
    assert page.startswith("<!DOCTYPE html>")
    for external in ("<script", "<link", "src=", "href=", "@import", "url("):
        assert external not in page
    assert 'aria-valuenow="1"' in page
    assert 'aria-valuemax="3"' in page
    assert 'style="width: 33%"' in page
    for service in ("auth-service", "jobs-service", "user-service"):
        assert f"<td>{service}</td>" in page
    # Findings grouped by rule, migration rules first.
    rules = re.findall(r"<summary><code>([a-z-]+)</code>", page)
    assert rules[:3] == ["legacy-compat-mode", "legacy-page", "legacy-skip-limit"]
    assert "contracts-version" in rules  # jobs-service declares none
    assert len(rules) == len(set(rules))


def test_html_escapes_what_the_documents_say(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkey = base()
    path = write(tmp_path / "x.json", monkey, "<script>alert(1)</script>")
    _, out = run(capsys, "validate", path, "--format", "html")
    assert "<script>" not in out
    assert "&lt;script&gt;" in out


def test_html_is_for_validate_only(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "breaking", "--against-dir", ".", "--format", "html")[0] == 2
