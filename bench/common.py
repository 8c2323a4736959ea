"""Shared helpers of the benchmarks: rows, interleaved rounds, medians, loopback servers.

Every benchmark module exposes `run(quick: bool) -> list[Row]`. A row compares a contender
with a baseline measured in the same run, side by side (interleaved rounds, medians), so a
noisy machine moves both alike and the ratio stays meaningful.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as `python bench/bench_x.py`
    sys.path.insert(0, str(ROOT))
Row = dict[str, Any]


def row(
    group: str,
    name: str,
    baseline: str,
    contender: str,
    baseline_value: float,
    contender_value: float,
    unit: str,
    target: str | None = None,
    met: bool | None = None,
    notes: str = "",
    rounds: int | None = None,
    range: list[float] | None = None,  # noqa: A002 - the field's name in results.json
    rounds_disagree: bool | None = None,
) -> Row:
    """One result row; `ratio` is contender / baseline.

    Rows measured over rounds also carry `rounds`, `range` (the lowest and highest per-round
    ratio) and `rounds_disagree` (too noisy to claim a target: `met` is then None).
    """
    ratio = contender_value / baseline_value if baseline_value else float("inf")
    return {
        "group": group,
        "name": name,
        "baseline": baseline,
        "contender": contender,
        "baseline_value": baseline_value,
        "contender_value": contender_value,
        "unit": unit,
        "ratio": ratio,
        "target": target,
        "met": met,
        "notes": notes,
        **({} if rounds is None else {"rounds": rounds, "range": range}),
        **({} if rounds_disagree is None else {"rounds_disagree": rounds_disagree}),
    }


def interleaved_medians(rounds: int, measures: dict[str, Callable[[], float]]) -> dict[str, float]:
    """Run each measure once per round, alternating their order, and return the medians."""
    samples: dict[str, list[float]] = {name: [] for name in measures}
    names = list(measures)
    for index in range(rounds):
        order = names if index % 2 == 0 else list(reversed(names))
        for name in order:
            samples[name].append(measures[name]())
    return {name: statistics.median(values) for name, values in samples.items()}


def sync_per_call_us(function: Callable[[], Any], iterations: int) -> float:
    """Mean microseconds per call of `function` over `iterations` calls."""
    start = time.perf_counter()
    for _ in range(iterations):
        function()
    return (time.perf_counter() - start) / iterations * 1e6


async def per_call_us(function: Callable[[], Awaitable[Any]], iterations: int) -> float:
    """Mean microseconds per awaited call of `function` over `iterations` calls."""
    start = time.perf_counter()
    for _ in range(iterations):
        await function()
    return (time.perf_counter() - start) / iterations * 1e6


async def interleaved_calls(
    baseline: Callable[[int], Awaitable[Any]],
    contender: Callable[[int], Awaitable[Any]],
    *,
    rounds: int,
    count: int,
) -> tuple[float, float]:
    """Medians of microseconds per call of each over `rounds` rounds of `count` calls, after a
    warm-up; each call gets its index (0 .. count-1)."""

    async def timed(call: Callable[[int], Awaitable[Any]], calls: int) -> float:
        start = time.perf_counter()
        for index in range(calls):
            await call(index)
        return (time.perf_counter() - start) / calls * 1e6

    await timed(baseline, max(1, count // 10))
    await timed(contender, max(1, count // 10))
    base, cont = [], []
    for _ in range(rounds):
        base.append(await timed(baseline, count))
        cont.append(await timed(contender, count))
    return statistics.median(base), statistics.median(cont)


async def interleaved_call_rounds(
    baseline: Callable[[int], Awaitable[Any]],
    contender: Callable[[int], Awaitable[Any]],
    *,
    rounds: int,
    count: int,
    clock: Callable[[], float] = time.perf_counter,
) -> tuple[list[float], list[float]]:
    """Microseconds per call of each, one figure per round of `count` calls, after a warm-up;
    the two take turns, the order reversed every other round, so a drift of the machine
    moves both alike. Each call gets its index (0 .. count-1). `clock=time.process_time`
    counts only this process's CPU time (for pure CPU work on a shared machine: time spent
    preempted is not counted); the default is wall time (anything waiting on I/O)."""

    async def timed(call: Callable[[int], Awaitable[Any]], calls: int) -> float:
        start = clock()
        for index in range(calls):
            await call(index)
        return (clock() - start) / calls * 1e6

    await timed(baseline, max(1, count // 10))
    await timed(contender, max(1, count // 10))
    base: list[float] = []
    cont: list[float] = []
    for index in range(rounds):
        if index % 2 == 0:
            base.append(await timed(baseline, count))
            cont.append(await timed(contender, count))
        else:
            cont.append(await timed(contender, count))
            base.append(await timed(baseline, count))
    return base, cont


def added_cost_row(
    base: list[float],
    cont: list[float],
    *,
    limit: float | None = None,
    notes: str = "",
    **fields: Any,
) -> Row:
    """A row of what the contender adds to the baseline (us), from per-round figures: the
    medians side by side, `rounds`, `range` (the per-round ratios), and in the notes the
    median and range of the per-round difference; `met` (against `limit`, us added) compares
    the median difference, paired round by round."""
    added = sorted(c - b for b, c in zip(base, cont, strict=True))
    ratios = [c / b for b, c in zip(base, cont, strict=True) if b]
    median_added = statistics.median(added)
    detail = (
        f"added {median_added:.3f} us (median of {len(added)} interleaved rounds, "
        f"per-round {added[0]:.3f} to {added[-1]:.3f} us)"
    )
    return row(
        **fields,
        baseline_value=statistics.median(base),
        contender_value=statistics.median(cont),
        met=None if limit is None else median_added < limit,
        notes="; ".join(filter(None, [detail, notes])),
        rounds=len(added),
        range=[round(min(ratios), 4), round(max(ratios), 4)],
    )


def quiet_run(main: Callable[[], Awaitable[list[Row]]], *, level: str = "WARNING") -> list[Row]:
    """Run a benchmark's `main` with the service logs going to /dev/null (stdout carries the
    rows), then put the logging back to stderr."""
    from opsconductor_shared import setup_service_logging

    with open(os.devnull, "w") as sink:
        setup_service_logging("bench", level=level, json=True, stream=sink)
        try:
            return asyncio.run(main())
        finally:
            setup_service_logging("bench", level="WARNING", json=True)


async def interleaved(
    baseline: Callable[[], Awaitable[float]],
    contender: Callable[[], Awaitable[float]],
    rounds: int,
) -> tuple[float, float]:
    """Medians of `rounds` measurements of each, alternating which goes first."""
    base, cont = [], []
    for index in range(rounds):
        first, second = (baseline, contender) if index % 2 == 0 else (contender, baseline)
        one, two = await first(), await second()
        base.append(one if first is baseline else two)
        cont.append(two if first is baseline else one)
    return statistics.median(base), statistics.median(cont)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cpu_prefix(cpu: int | None) -> list[str]:
    """`taskset -c CPU` when pinning is possible (two or more cores), else nothing."""
    if cpu is None or (os.cpu_count() or 1) < 2 or shutil.which("taskset") is None:
        return []
    return ["taskset", "-c", str(cpu)]


@contextlib.contextmanager
def uvicorn_server(
    factory: str,
    *,
    cpu: int | None = 0,
    env: dict[str, str] | None = None,
    ready_path: str = "/health/live",
) -> Iterator[str]:
    """A uvicorn process (1 worker, httptools, uvloop) serving `factory` on loopback; yields its URL."""
    port = free_port()
    command = [
        *cpu_prefix(cpu),
        sys.executable,
        "-m",
        "uvicorn",
        factory,
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--http",
        "httptools",
        "--loop",
        "uvloop",
        "--no-access-log",
        "--no-server-header",
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"{factory} exited: {process.stderr.read().decode() if process.stderr else ''}"
                )
            try:
                if httpx.get(url + ready_path, timeout=0.5).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{factory} did not start on {url}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
