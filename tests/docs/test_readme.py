"""The README tells the truth: its service runs as written, its test passes, it validates.

The service (`jobs_service.py`) and its test (`test_jobs.py`) are the README's code blocks
tagged with those titles; the commands are the README's own lines (`uvicorn ...`,
`opsconductor-contracts validate ...`), run with a free port and a fake auth service's JWKS.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from opsconductor_shared.testing import FakeAuthService, wait_until

from examples.launcher import free_port

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
BIN = Path(sys.executable).parent
_BLOCK = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
_TITLE = re.compile(r'title="([^"]+)"')
_LINK = re.compile(r"\]\(([^)\s]+)\)")


def code_blocks(text: str) -> list[tuple[str, str | None, str]]:
    """Every fenced block of a Markdown text: (language, title or None, code)."""
    blocks = []
    for language, info, code in _BLOCK.findall(text):
        title = _TITLE.search(info)
        blocks.append((language, title.group(1) if title else None, code))
    return blocks


def readme_files() -> dict[str, str]:
    return {title: code for _, title, code in code_blocks(README.read_text()) if title}


def readme_command(program: str) -> list[str]:
    """The first line of the README's shell blocks that runs `program`, as arguments."""
    for language, _, code in code_blocks(README.read_text()):
        if language != "sh":
            continue
        for line in code.splitlines():
            words = shlex.split(line, comments=True)
            if words and words[0] == program:
                return words
    raise AssertionError(f"the README runs no {program!r}")


@pytest.fixture(scope="module")
def service_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("readme")
    for name, code in readme_files().items():
        (directory / name).write_text(code)
    return directory


@pytest.fixture(scope="module")
def jwks() -> Iterator[FakeAuthService]:
    fake = FakeAuthService()
    with fake.serve():
        yield fake


def _environment(fake: FakeAuthService) -> dict[str, str]:
    jwks_url = fake.local_settings().jwks_url
    assert jwks_url is not None
    return {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "JOBS_SERVICE_AUTH__JWKS_URL": str(jwks_url),
        "JOBS_SERVICE_LOG__LEVEL": "WARNING",
    }


def test_the_readme_is_short_and_names_every_extra() -> None:
    text = README.read_text()
    assert len(text.splitlines()) < 200
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    for extra in set(extras) - {"dev", "bench"}:
        assert f"| `{extra}` |" in text, f"the README's extras table lacks {extra!r}"
    assert "make test" in text
    assert {"jobs_service.py", "test_jobs.py"} <= set(readme_files())


def test_the_readme_links_lead_somewhere() -> None:
    # The docs site's own links are checked by `make docs` (mkdocs --strict); GitHub renders these.
    links = [link for link in _LINK.findall(README.read_text()) if "://" not in link]
    assert links
    broken = [link for link in links if not (ROOT / link.split("#")[0]).exists()]
    assert not broken, f"the README links to files that do not exist: {broken}"


@pytest.mark.integration
def test_the_readme_service_runs_under_uvicorn(service_dir: Path, jwks: FakeAuthService) -> None:
    command = readme_command("uvicorn")
    port = free_port()
    command[command.index("--port") + 1] = str(port)
    url = f"http://127.0.0.1:{port}"
    log = service_dir / "uvicorn.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=service_dir, env=_environment(jwks), stdout=output, stderr=output
        )
    try:

        def answers() -> bool:
            assert process.poll() is None, log.read_text()
            try:
                return httpx.get(f"{url}/health/live", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(answers, timeout=60)
        operator = jwks.tokens.auth_headers("operator")
        viewer = jwks.tokens.auth_headers("viewer")
        with httpx.Client(base_url=url, timeout=10) as client:
            created = client.post("/jobs", json={"name": "backup"}, headers=operator)
            assert created.status_code == 201, created.text
            assert created.json() == {"name": "backup", "id": 1}
            page = client.get("/jobs", headers=viewer).json()
            assert page["items"] == [created.json()]
            missing = client.get("/jobs/9", headers=viewer)
            assert missing.status_code == 404
            assert missing.headers["content-type"] == "application/problem+json"
            assert missing.json()["code"] == "NOT_FOUND"
            assert client.post("/jobs", json={"name": "x"}, headers=viewer).status_code == 403
            assert client.get("/jobs").status_code == 401
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


@pytest.mark.integration
def test_the_readme_test_passes(service_dir: Path, jwks: FakeAuthService) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_jobs.py"],
        cwd=service_dir,
        env=_environment(jwks),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_the_readme_service_validates(service_dir: Path, jwks: FakeAuthService) -> None:
    result = subprocess.run(
        readme_command("opsconductor-contracts"),
        cwd=service_dir,
        env=_environment(jwks),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 errors, 0 warnings" in result.stdout
