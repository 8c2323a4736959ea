"""The corpus runner measures the command it runs, not the driver that forks it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bench.corpus import GNU_TIME, run_capped

MIB = 2**20


@pytest.mark.skipif(not GNU_TIME.is_file(), reason="GNU time (/usr/bin/time) is not installed")
def test_peak_rss_is_the_commands_own_not_the_drivers(tmp_path: Path) -> None:
    # Linux carries the RSS high-water mark across exec: a child forked from this process
    # would report at least this process's RSS, whatever it ran itself.
    ballast = bytearray(b"\x01") * (400 * MIB)
    small = run_capped([sys.executable, "-c", "pass"], cwd=tmp_path, niceness=0)
    big = run_capped(
        [sys.executable, "-c", "b = bytearray(b'x') * (200 * 2**20)"], cwd=tmp_path, niceness=0
    )
    assert len(ballast) == 400 * MIB
    assert small.code == 0
    assert small.peak_rss_bytes < 100 * MIB, small.peak_rss_bytes / MIB
    assert 200 * MIB < big.peak_rss_bytes < 300 * MIB, big.peak_rss_bytes / MIB


def test_a_failing_command_keeps_its_exit_code_and_stderr(tmp_path: Path) -> None:
    run = run_capped(
        [sys.executable, "-c", "import sys; sys.stderr.write('no\\n'); sys.exit(3)"],
        cwd=tmp_path,
        niceness=0,
    )
    assert (run.code, run.stderr, run.timed_out) == (3, "no\n", False)
    assert run.peak_rss_bytes > 0


@pytest.mark.skipif(not GNU_TIME.is_file(), reason="GNU time (/usr/bin/time) is not installed")
def test_a_run_killed_at_its_cap_still_reports_what_it_used(tmp_path: Path) -> None:
    hog = "b = bytearray(b'x') * (200 * 2**20)\nwhile True:\n    pass\n"
    run = run_capped([sys.executable, "-c", hog], cwd=tmp_path, wall_s=3.0, niceness=0)
    assert run.timed_out
    assert run.code is None
    assert 3.0 <= run.wall_s < 30.0
    assert run.cpu_s > 0.1
    assert run.peak_rss_bytes > 200 * MIB, run.peak_rss_bytes / MIB
