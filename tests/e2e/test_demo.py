"""`make demo` runs its walkthrough against both services and exits 0, keeping the logs it
names; `make serve` listens where asked, and moves to a free port (and says so) when the one
asked for is taken."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from examples.demo import demo, parse_ports

pytestmark = [pytest.mark.slow, pytest.mark.integration]
ROOT = Path(__file__).resolve().parents[2]


def test_demo_walks_through_and_validates(capsys: pytest.CaptureFixture[str]) -> None:
    assert demo() == 0
    out = capsys.readouterr().out
    for step in (
        "1. Log in",
        "3. A paginated list",
        "4. A 404",
        "5. A 422",
        "6. A viewer",
        "7. Who created web-01: the targets service asks the auth service as itself",
        "   ...the same lookup with a user's token is refused",
        "8. Health",
        "9. Validate",
    ):
        assert step in out, step
    assert "validate passed: 0 errors, 0 warnings" in out
    assert "Demo complete" in out
    # The log folder it names is still there afterwards, with both services' logs in it.
    match = re.search(r"logs in (\S+?)\)", out)
    assert match is not None, out[:500]
    logs = Path(match.group(1))
    try:
        assert f"their logs are kept in {logs}" in out
        for name in ("auth-service.log", "targets-service.log"):
            assert (logs / name).stat().st_size > 0, name
    finally:
        shutil.rmtree(logs, ignore_errors=True)


def test_ports_are_parsed_with_a_clear_error() -> None:
    assert parse_ports("9001,9002") == (9001, 9002)
    assert parse_ports(" 0 , 9002 ") == (0, 9002)
    for bad in ("9001", "a,b", "9001,70000", "1,2,3"):
        with pytest.raises(ValueError, match="two ports"):
            parse_ports(bad)


def test_serve_moves_off_a_taken_port_and_says_so(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        process = subprocess.Popen(
            [
                sys.executable, "-m", "examples.demo", "--serve",
                "--ports", f"{busy},0", "--workdir", str(tmp_path),
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
        lines: list[str] = []
        try:
            deadline = time.monotonic() + 60
            assert process.stdout is not None
            while time.monotonic() < deadline:
                line = process.stdout.readline()
                if not line:
                    break
                lines.append(line)
                if line.startswith("targets service:"):
                    break
            out = "".join(lines)
            assert f"port {busy} is in use" in out, out
            urls = dict(re.findall(r"^(auth|targets) service:\s+(\S+)/docs$", out, re.M))
            assert set(urls) == {"auth", "targets"}, out
            assert not urls["auth"].endswith(f":{busy}")
            for url in urls.values():
                assert httpx.get(f"{url}/health/live", timeout=5).status_code == 200
        finally:
            process.send_signal(signal.SIGINT)
            process.communicate(timeout=30)
