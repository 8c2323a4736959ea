"""`opsconductor-contracts rules | head` ends quietly: a reader that closes the pipe early is
no error of the command (no BrokenPipeError traceback), and the exit code says what happened."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.parametrize("arguments", [["rules"], ["lint", "schemas"]])
def test_a_closed_pipe_ends_the_command_quietly(arguments: list[str]) -> None:
    # What `| head -1` does: read a line, then close the pipe while the command still writes
    # (repeated, so that the output outgrows the pipe's buffer whatever its size).
    code = (
        "import sys\n"
        "from opsconductor_conformance.cli import main\n"
        "sys.argv[0] = 'opsconductor-contracts'\n"
        "for _ in range(200):\n"
        "    status = main(sys.argv[1:])\n"
        "    if status != 0: sys.exit(status)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code, *arguments],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    assert process.stdout.readline()
    process.stdout.close()
    _, err = process.communicate(timeout=60)
    assert b"BrokenPipeError" not in err
    assert b"Traceback" not in err
    assert process.returncode == 141  # 128 + SIGPIPE, as a command killed by it


def test_a_whole_pipe_is_the_usual_exit() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "opsconductor_conformance", "rules"],
        cwd=ROOT,
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0
    assert b"operation-id" in result.stdout
