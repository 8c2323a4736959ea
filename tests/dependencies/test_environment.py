"""The suite owns the environment of the processes it launches: with `DATABASE_URL`,
`REDIS_URL` and service-prefixed variables pointing at servers that do not answer, the
end-to-end and demo tests still pass (their services' storage is what their launcher says)
and the PostgreSQL tests skip, saying why, instead of failing (issue 19: 2 failed, 4
errors). The fuzz tests build their apps in process with `database=None`, explicitly."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from opsconductor_shared.testing import closed_port

from examples.launcher import ROOT, isolated_environment

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def _unreachable() -> dict[str, str]:
    port = closed_port()
    return {
        "DATABASE_URL": f"postgresql://postgres:pw@127.0.0.1:{port}/nowhere",
        "REDIS_URL": f"redis://127.0.0.1:{port}/0",
        "TARGETS_SERVICE_DATABASE__DSN": f"postgresql://postgres@127.0.0.1:{port}/nowhere",
        "TARGETS_SERVICE_RATE_LIMIT__STORAGE": "redis",
        "TARGETS_SERVICE_RATE_LIMIT__REDIS__URL": f"redis://127.0.0.1:{port}/0",
        "TARGETS_SERVICE_AUTH__JWKS_URL": f"http://127.0.0.1:{port}/jwks",
        "AUTH_SERVICE_ENVIRONMENT": "production",
        "JOBS_SERVICE_LOG__LEVEL": "nonsense",
    }


def test_a_launched_service_never_inherits_storage_or_service_settings() -> None:
    base = {"PATH": "/usr/bin", "HOME": "/root", **_unreachable()}
    env = isolated_environment({"TARGETS_SERVICE_LOG__FORMAT": "json"}, base)
    assert env == {
        "PATH": "/usr/bin",
        "HOME": "/root",
        "PYTHONPATH": str(ROOT),
        "TARGETS_SERVICE_LOG__FORMAT": "json",
    }


@pytest.mark.timeout(900)  # a pytest run of its own, on a loaded machine
def test_the_suites_launches_pass_or_skip_with_unreachable_servers_in_the_environment() -> None:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key != "CI" and not key.startswith("PYTEST_")
    }
    environment.update(_unreachable())
    tests = [
        "tests/e2e/test_services.py::test_walkthrough",
        "tests/e2e/test_demo.py::test_serve_moves_off_a_taken_port_and_says_so",
        "tests/examples/test_targets_service.py::test_crud_and_optimistic_locking",
    ]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:randomly",
         "-p", "no:cacheprovider", *tests],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=840,
        check=False,
    )  # fmt: skip
    out = run.stdout + run.stderr
    assert run.returncode == 0, out[-5000:]
    summary = out.strip().splitlines()[-1]
    assert "failed" not in summary, out[-5000:]
    assert "error" not in summary, out[-5000:]
    assert "PostgreSQL is not reachable at postgresql://127.0.0.1:" in out, out[-5000:]
    assert "pw@" not in out  # the skip reason shows no password
