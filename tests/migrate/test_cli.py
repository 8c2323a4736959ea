"""The command line: diff, --write, --format json, exit codes, and bad input without a traceback."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from opsconductor_migrate.cli import EXIT_BAD_INPUT, EXIT_MANUAL, EXIT_OK, main

OLD = 'from fastapi import HTTPException\n\n\ndef f():\n    raise HTTPException(404, "gone")\n'
NEW = 'from opsconductor_shared import NotFoundError\n\n\ndef f():\n    raise NotFoundError(detail="gone")\n'
MANUAL = "from fastapi import HTTPException\n\n\ndef f(s):\n    raise HTTPException(s)\n"


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_shows_a_diff_and_writes_nothing(tmp_path: Path) -> None:
    file = tmp_path / "app.py"
    file.write_text(OLD)
    code, out, err = run(str(file))
    assert code == EXIT_OK
    assert out.startswith(f"--- a/{file}\n+++ b/{file}\n")
    assert '+    raise NotFoundError(detail="gone")\n' in out
    assert file.read_text() == OLD
    assert "1 of 1 files to change (+2 -2 lines); 1 rewrites (exception 1); 0 manual steps" in err


def test_write_then_nothing_is_left(tmp_path: Path) -> None:
    file = tmp_path / "app.py"
    file.write_text(OLD)
    assert run("--write", str(tmp_path))[0] == EXIT_OK
    assert file.read_text() == NEW
    code, out, _ = run(str(tmp_path))
    assert (code, out) == (EXIT_OK, "")


def test_manual_steps_exit_1_and_are_listed(tmp_path: Path) -> None:
    file = tmp_path / "app.py"
    file.write_text(MANUAL)
    code, out, err = run(str(file))
    assert code == EXIT_MANUAL
    assert out == ""
    assert f"{file}:5: HTTPException with a status that is not a literal — raise" in err


def test_json_format(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(OLD)
    (tmp_path / "b.py").write_text(MANUAL)
    code, out, _ = run("--format", "json", str(tmp_path))
    document = json.loads(out)
    assert code == document["exit_code"] == EXIT_MANUAL
    assert [(Path(f["path"]).name, f["changed"]) for f in document["files"]] == [
        ("a.py", True),
        ("b.py", False),
    ]
    assert document["files"][0]["rewrites"] == {"exception": 1}
    assert document["files"][0]["diff"].startswith("--- a/")
    (step,) = document["manual_steps"]
    assert (Path(step["path"]).name, step["line"]) == ("b.py", 5)
    assert document["summary"] == {
        "files": 2,
        "files_changed": 1,
        "lines_added": 2,
        "lines_removed": 2,
        "rewrites": {"exception": 1},
        "manual_steps": 1,
        "errors": 0,
    }


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "syntax.py",
            b"def f(:\n    pass\n",
            "line 1, column 7: not valid Python (invalid syntax)",
        ),
        ("latin1.py", "x = 'caf\xe9'\n".encode("latin-1"), "not valid utf-8 text (byte 0xe9"),
        ("nul.py", b"x = 1\x00\n", "contains NUL bytes"),
        ("cookie.py", b"# -*- coding: klingon -*-\nx = 1\n", "encoding declaration is invalid"),
        ("huge.py", b"x = 1\n" * 300_000, "over the limit of 1000000"),
    ],
)
def test_bad_files_are_reported_and_the_others_still_migrate(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    (tmp_path / name).write_bytes(content)
    good = tmp_path / "good.py"
    good.write_text(OLD)
    code, _, err = run("--write", str(tmp_path))
    assert code == EXIT_BAD_INPUT
    assert f"error: {tmp_path / name}: " in err
    assert message in err
    assert "Traceback" not in err
    assert good.read_text() == NEW
    assert (tmp_path / name).read_bytes() == content


def test_a_declared_encoding_is_kept(tmp_path: Path) -> None:
    file = tmp_path / "legacy.py"
    text = "# -*- coding: latin-1 -*-\n" + OLD.replace('"gone"', '"d\xe9j\xe0 vu"')
    file.write_bytes(text.encode("latin-1"))
    assert run("--write", str(file))[0] == EXIT_OK
    assert 'NotFoundError(detail="d\xe9j\xe0 vu")' in file.read_bytes().decode("latin-1")


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing", "no such file or directory"),
        ("empty", "the directory holds no Python files"),
    ],
)
def test_bad_paths(tmp_path: Path, setup: str, message: str) -> None:
    target = tmp_path / setup
    if setup == "empty":
        target.mkdir()
        (target / "README.md").write_text("no code here\n")
    code, _, err = run(str(target))
    assert code == EXIT_BAD_INPUT
    assert f"error: {target}: {message}" in err


def test_skips_virtualenvs_and_excluded_paths(tmp_path: Path) -> None:
    for directory in (".venv/lib", "vendor/shared", "service"):
        (tmp_path / directory).mkdir(parents=True)
        (tmp_path / directory / "m.py").write_text(OLD)
    code, out, _ = run("--exclude", "vendor", str(tmp_path))
    assert code == EXIT_OK
    assert [line for line in out.splitlines() if line.startswith("+++")] == [
        f"+++ b/{tmp_path / 'service' / 'm.py'}"
    ]


def test_the_console_script_runs(tmp_path: Path) -> None:
    file = tmp_path / "app.py"
    file.write_text(OLD)
    script = Path(sys.executable).parent / "opsconductor-migrate"
    result = subprocess.run(
        [str(script), "--format", "json", str(file)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == EXIT_OK, result.stderr
    assert json.loads(result.stdout)["summary"]["rewrites"] == {"exception": 1}


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--format", "xml", "x.py"])
    assert exit_info.value.code == EXIT_BAD_INPUT
    assert "invalid choice" in capsys.readouterr().err


def test_form_feed_indentation_is_refused_not_mangled(tmp_path: Path) -> None:
    """libcst drops a form feed in indentation; such a file is bad input, left as it is."""
    file = tmp_path / "paged.py"
    content = b"from fastapi import HTTPException\nif True:\n\x0c raise HTTPException(404)\n"
    file.write_bytes(content)
    code, _, err = run("--write", str(file))
    assert code == EXIT_BAD_INPUT
    assert "indentation contains form feeds" in err
    assert file.read_bytes() == content
