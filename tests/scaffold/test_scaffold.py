"""`opsconductor-service new`: a scaffolded service installs, passes its tests and validates.

The slow test does what a new team does: scaffold into a temporary directory with stdin not a
terminal (every default), run the service's own `make test` (its own venv, the library
installed from this checkout's path, recorded at scaffold time; its tests; `validate
--strict`), then start it with `make run` and call it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from opsconductor_scaffold import (
    SOURCE_ENV_VAR,
    TEMPLATE_DIR,
    library_source,
    new_service,
    template_location,
)
from opsconductor_scaffold.cli import main
from opsconductor_shared.testing import wait_until

from examples.launcher import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _scaffold(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "opsconductor-service"), "new", *args],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Jobs", "is not a service name"),
        ("1jobs", "is not a service name"),
        ("jobs_x", "is not a service name"),
        ("jobs-service", "leave '-service' out"),
    ],
)
def test_bad_names_are_refused_with_a_sentence(
    name: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["new", name, "--dest", str(tmp_path / "x")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("opsconductor-service: ")
    assert message in error
    assert not (tmp_path / "x").exists()


def test_a_destination_in_use_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "jobs-service").mkdir()
    (tmp_path / "jobs-service" / "keep.txt").write_text("mine")
    assert main(["new", "jobs", "--dest", str(tmp_path / "jobs-service")]) == 2
    assert "already exists and is not empty" in capsys.readouterr().err
    assert (tmp_path / "jobs-service" / "keep.txt").read_text() == "mine"


def test_a_bad_data_argument_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new", "jobs", "--dest", str(tmp_path / "j"), "--data", "port"]) == 2
    assert "--data wants KEY=VALUE" in capsys.readouterr().err


def test_a_template_that_cannot_be_fetched_is_a_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = f"git+file://{tmp_path}/no-such-repository.git"
    assert main(["new", "jobs", "--dest", str(tmp_path / "j"), "--source", missing]) == 2
    error = capsys.readouterr().err
    assert error.startswith("opsconductor-service: cannot fetch the template from ")
    assert "--source" in error


def test_the_source_is_the_override_or_where_the_library_came_from() -> None:
    assert library_source({SOURCE_ENV_VAR: "/opt/wheels/x.whl"}) == "/opt/wheels/x.whl"
    # This checkout is installed editable from its directory (make venv).
    assert Path(library_source({})).resolve() == ROOT


def test_the_template_comes_from_the_repository_when_the_source_is_one() -> None:
    # A checkout or a git URL: the repository (its root copier.yml), so copier records a commit.
    assert template_location(str(ROOT)) == (str(ROOT), None)
    assert template_location("git+https://git.example.com/o/shared.git@v1.2") == (
        "git+https://git.example.com/o/shared.git",
        "v1.2",
    )
    assert template_location("git+ssh://git@git.example.com/o/shared.git") == (
        "git+ssh://git@git.example.com/o/shared.git",
        None,
    )
    # A wheel or an index: the template inside the installed package.
    assert template_location("/opt/wheels/opsconductor_shared-0.1.0-py3-none-any.whl") == (
        str(TEMPLATE_DIR),
        None,
    )
    assert template_location("opsconductor-shared") == (str(TEMPLATE_DIR), None)


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout


@pytest.mark.slow
def test_a_service_from_a_checkout_pulls_template_changes_with_copier_update(
    tmp_path: Path,
) -> None:
    library = tmp_path / "library"
    _git(tmp_path, "clone", "--quiet", str(ROOT), str(library))  # committed HEAD, clean
    service = new_service("jobs", tmp_path / "jobs-service", source=str(library))
    answers = (service / ".copier-answers.yml").read_text()
    assert f"_src_path: {library}" in answers
    assert "_commit:" in answers
    _git(service, "init", "--quiet")
    _git(service, "add", "-A")
    _git(service, "commit", "--quiet", "-m", "scaffolded")
    readme = library / "runtime/opsconductor_scaffold/template/README.md.jinja"
    readme.write_text(readme.read_text() + "\nA line the template gained later.\n")
    _git(library, "commit", "--quiet", "-am", "template: one more line")
    result = subprocess.run(
        [str(BIN / "copier"), "update", "--defaults", "--skip-answered"],
        cwd=service,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "A line the template gained later." in (service / "README.md").read_text()


def test_the_answers_are_recorded_for_copier_update(tmp_path: Path) -> None:
    destination = new_service(
        "step-libraries",
        tmp_path / "svc",
        source="/opt/wheels/opsconductor_shared-0.1.0-py3-none-any.whl",
        answers={"port": 9000},
    )
    answers = (destination / ".copier-answers.yml").read_text()
    assert "_src_path:" in answers
    assert "shared_source: /opt/wheels/opsconductor_shared-0.1.0-py3-none-any.whl" in answers
    package = destination / "src" / "step_libraries_service"
    assert "class StepLibrary(StepLibraryCreate)" in (package / "models.py").read_text()
    assert '"/step-libraries/{step_library_id}"' in (package / "app.py").read_text()
    makefile = (destination / "Makefile").read_text()
    assert (
        "OPSCONDUCTOR_SHARED_SOURCE ?= /opt/wheels/opsconductor_shared-0.1.0-py3-none-any.whl"
        in makefile
    )
    assert "PORT ?= 9000" in makefile
    for module in package.glob("*.py"):
        compile(module.read_text(), str(module), "exec")  # the generated code is Python


@pytest.mark.parametrize("name", ["jobs", "step-libraries"])
def test_the_scaffolded_code_is_lint_clean_and_formatted(name: str, tmp_path: Path) -> None:
    service = new_service(name, tmp_path / "svc", source="/opt/wheels/x.whl")
    for command in (["check", "--select", "E,F,W,I,B,UP", "."], ["format", "--check", "."]):
        result = subprocess.run(
            [str(BIN / "ruff"), *command],
            cwd=service,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.timeout(1200)
def test_a_scaffolded_service_installs_passes_its_tests_validates_and_runs(
    tmp_path: Path,
) -> None:
    started = time.monotonic()
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {SOURCE_ENV_VAR, "VIRTUAL_ENV", "PYTHONPATH"}
    }
    result = _scaffold(tmp_path, "jobs")
    assert result.returncode == 0, result.stderr
    service = tmp_path / "jobs-service"
    lines = sum(
        len(path.read_text().splitlines())
        for path in service.rglob("*")
        if path.is_file() and ".venv" not in path.parts
    )
    make = ["make", "--no-print-directory", f"PYTHON={sys.executable}"]
    test = subprocess.run(
        [*make, "test"],
        cwd=service,
        env=environment,
        capture_output=True,
        text=True,
        timeout=1000,
        check=False,
    )
    assert test.returncode == 0, test.stdout[-4000:] + test.stderr[-4000:]
    assert "validate passed: 0 errors, 0 warnings" in test.stdout
    assert " passed" in test.stdout
    installed = (service / ".venv").glob(
        "lib/python*/site-packages/opsconductor_shared-*/direct_url.json"
    )
    assert Path(json.loads(next(installed).read_text())["url"].removeprefix("file://")) == ROOT

    port = free_port()
    log = tmp_path / "run.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*make, "run", f"PORT={port}"],
            cwd=service,
            env={**environment, "JOBS_SERVICE_LOG__LEVEL": "WARNING"},
            stdout=output,
            stderr=output,
            start_new_session=True,
        )
    try:

        def answers() -> bool:
            assert process.poll() is None, log.read_text()
            try:
                return httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=1).is_success
            except httpx.TransportError:
                return False

        wait_until(answers, timeout=60)
        running = time.monotonic() - started
        assert httpx.get(f"http://127.0.0.1:{port}/jobs", timeout=5).status_code == 401
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    print(f"scaffolded service: {lines} lines; scaffold to running: {running:.0f} s")
