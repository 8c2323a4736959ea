"""Schemathesis against both reference services, live: uvicorn processes on loopback.

Every check (schemathesis 4 runs all of them unless told otherwise; `--checks all` on the
command line would override the per-operation exceptions), positive and negative data (`--mode all`), all phases: the
examples, the coverage phase (every boundary and every constraint broken once), random
fuzzing, and stateful sequences over the links schemathesis infers (create a target, then
read, change and delete it by the id it returned). The targets service runs on each store.
Exceptions to the checks are in `schemathesis.toml`, each with its reason.

Bounded in `make test` (`FUZZ_MAX_EXAMPLES`, default 5 per operation); `make fuzz` runs the
long one (`FUZZ_MAX_EXAMPLES=200`, `FUZZ_MAX_TIME` seconds per service).

The auth service's revocations run last, in a run of their own: the fuzzer calls them with the
run's own token (and finds the admin's id in the schema's examples), and once that token is
revoked every other operation is fuzzed unauthenticated only (`make fuzz` found its runs so).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.examples.conftest import PASSWORDS
from tests.examples.live import TARGETS_SERVICE_SECRET, LiveServices, live_services

pytestmark = [pytest.mark.slow, pytest.mark.integration]
CONFIG = Path(__file__).with_name("schemathesis.toml")
MAX_EXAMPLES = os.environ.get("FUZZ_MAX_EXAMPLES", "5")
MAX_TIME = os.environ.get("FUZZ_MAX_TIME")
EXCLUDED = os.environ.get("FUZZ_EXCLUDE_CHECKS", "")
# The operations that revoke tokens: `POST /auth/revoke` (the caller's) and an admin's
# `POST /auth/users/{user_id}/revoke`.
REVOCATIONS = r"^POST /auth/(users/\{user_id\}/)?revoke$"
# Their run's share of the time: two operations, and the test's whole run within its timeout.
REVOCATIONS_MAX_TIME = 30


def schemathesis(
    url: str, token: str, workdir: Path, *filters: str, max_time: int | None = None
) -> subprocess.CompletedProcess[str]:
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--no-color",
        "--config-file",
        str(CONFIG),
        "run",
        f"{url}/openapi.json",
        "--mode", "all",
        "--workers", "1",
        "--max-examples", MAX_EXAMPLES,
        "--suppress-health-check", "all",
        "--request-timeout", "30",
        "-H", f"Authorization: Bearer {token}",
    ]  # fmt: skip
    if EXCLUDED:
        command += ["--exclude-checks", EXCLUDED]
    if MAX_TIME:
        limit = int(MAX_TIME) if max_time is None else min(int(MAX_TIME), max_time)
        command += ["--max-time", str(limit)]
    command += filters
    return subprocess.run(command, cwd=workdir, capture_output=True, text=True, check=False)


def _secrets_in_logs(live: LiveServices) -> list[str]:
    secrets = [
        *live.tokens.values(),
        *PASSWORDS.values(),
        "live-cursor-secret",
        TARGETS_SERVICE_SECRET,
    ]
    lines = [*live.targets.log_lines(), *live.auth.log_lines()]
    return [line for line in lines if any(secret in line for secret in secrets)]


def _report(result: subprocess.CompletedProcess[str]) -> str:
    return f"schemathesis exited with {result.returncode}\n{result.stdout[-20000:]}\n{result.stderr[-4000:]}"


@pytest.mark.parametrize("store", ["memory", "postgres"])
def test_targets_service(tmp_path: Path, store: str) -> None:
    with live_services(tmp_path, store=store) as live:
        result = schemathesis(live.targets.url, live.tokens["admin"], tmp_path)
        errors = [line for line in live.targets.log_lines() if '"level":"error"' in line]
    leaked = _secrets_in_logs(live)  # once stopped: every buffered line is written
    print(result.stdout[-3000:])
    assert result.returncode == 0, _report(result)
    assert errors == []
    assert leaked == []


def test_auth_service(tmp_path: Path) -> None:
    with live_services(tmp_path) as live:
        token = live.tokens["admin"]
        result = schemathesis(live.auth.url, token, tmp_path, "--exclude-name-regex", REVOCATIONS)
        # The token held for the whole run: every operation was fuzzed authenticated too.
        me = httpx.get(f"{live.auth.url}/auth/me", headers=live.headers("admin"), timeout=10)
        revocations = schemathesis(
            live.auth.url,
            token,
            tmp_path,
            "--include-name-regex",
            REVOCATIONS,
            max_time=REVOCATIONS_MAX_TIME,
        )
        errors = [line for line in live.auth.log_lines() if '"level":"error"' in line]
    leaked = _secrets_in_logs(live)  # once stopped: every buffered line is written
    print(result.stdout[-3000:])
    print(revocations.stdout[-1500:])
    assert result.returncode == 0, _report(result)
    assert me.status_code == 200, me.text
    assert revocations.returncode == 0, _report(revocations)
    assert errors == []
    assert leaked == []
