"""The command line as a process: what each kind of source imports, `python -m`, and `rules`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from opsconductor_conformance import RULES

from tests.conftest import ROOT

from .conftest import OPENAPI_FIXTURES

# What `validate` on a file or URL must never import: FastAPI and the runtime are only for a
# `module:app` source; the validators only for checking a schema directory whole.
HEAVY = (
    "fastapi",
    "starlette",
    "pydantic",
    "opsconductor_shared",
    "opsconductor_contracts",
    "jsonschema",
    "openapi_spec_validator",
    "referencing",
)

PROBE = """
import json, sys
from opsconductor_conformance.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "imported": sorted(m for m in HEAVY if m in sys.modules)}))
"""

SERVE_AND_PROBE = """
import http.server, threading
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = open(DOCUMENT, "rb").read()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
sys.argv[1:] = ["validate", f"http://127.0.0.1:{server.server_address[1]}/openapi.yaml", "--no-config"]
"""

APP_MODULE = """
from fastapi import FastAPI
app = FastAPI(title="probe-service")
"""


def _probe(*argv: str, cwd: Path, prelude: str = "") -> dict[str, object]:
    code = f"import sys\nHEAVY = {HEAVY!r}\n{prelude}\n{PROBE}"
    run = subprocess.run(
        [sys.executable, "-c", code, *argv],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )
    assert run.stdout, run.stderr
    result: dict[str, object] = json.loads(run.stdout.splitlines()[-1])
    return result


def test_a_file_source_imports_neither_fastapi_nor_the_runtime(tmp_path: Path) -> None:
    result = _probe("validate", str(OPENAPI_FIXTURES / "compliant.yaml"), cwd=tmp_path)
    assert result == {"code": 0, "imported": []}


def test_a_url_source_imports_neither_fastapi_nor_the_runtime(tmp_path: Path) -> None:
    document = OPENAPI_FIXTURES / "compliant.yaml"
    prelude = f"DOCUMENT = {str(document)!r}\n{SERVE_AND_PROBE}"
    assert _probe(cwd=tmp_path, prelude=prelude) == {"code": 0, "imported": []}


def test_a_module_app_source_is_what_imports_fastapi(tmp_path: Path) -> None:
    (tmp_path / "probe_app.py").write_text(APP_MODULE)
    result = _probe("validate", "probe_app:app", cwd=tmp_path)
    assert result["code"] == 1
    assert "fastapi" in result["imported"]  # type: ignore[operator]


def test_python_m_lists_every_rule_by_command(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "opsconductor_conformance", "rules"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    sections: dict[str, list[str]] = {}
    for line in run.stdout.splitlines():
        if not line.startswith(" "):
            sections[line.rstrip(":")] = []
        else:
            sections[list(sections)[-1]].append(line.split()[0])
    assert sections == {
        kind: [known.id for known in RULES.rules(kind)] for kind in ("validate", "breaking", "lint")
    }
    assert all(sections.values())


def test_without_the_cli_extra_the_package_says_what_to_install() -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.modules['openapi_spec_validator'] = None\nimport opsconductor_conformance",
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert run.returncode == 1
    assert "ModuleNotFoundError" in run.stderr
    assert "pip install 'opsconductor-shared[cli]'" in run.stderr.splitlines()[-1]


@pytest.mark.parametrize("argv", [["--help"], ["validate", "--help"]])
def test_help_from_the_console_script(argv: list[str]) -> None:
    script = Path(sys.executable).parent / "opsconductor-contracts"
    run = subprocess.run([script, *argv], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert "opsconductor-contracts" in run.stdout
