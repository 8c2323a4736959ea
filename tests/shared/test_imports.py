"""The runtime imports none of the conformance tooling or its validators (the `cli` extra)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

TOOLING = (
    "yaml",
    "jsonschema",
    "openapi_spec_validator",
    "referencing",
    "opsconductor_conformance",
)

PROBE = f"""
import sys
from opsconductor_shared import ServiceSettings, create_service_app
from opsconductor_shared.auth import AuthSettings, install_auth
app = create_service_app("probe-service", "1.0.0", ServiceSettings(), configure_logging=False)
install_auth(app, AuthSettings(hs256_secret="x" * 32))
app.openapi()
print(sorted(name for name in {TOOLING!r} if name in sys.modules))
"""


def test_importing_the_runtime_and_creating_an_app_imports_no_tooling() -> None:
    run = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=False, cwd=ROOT
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def test_the_probe_sees_an_import_when_there_is_one() -> None:
    run = subprocess.run(
        [sys.executable, "-c", "import opsconductor_conformance\n" + PROBE],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr
    assert "opsconductor_conformance" in run.stdout
    assert "yaml" in run.stdout
