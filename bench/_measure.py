"""Shared helpers of the benchmarks: interleaved rounds, medians, and the row shape."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as `python bench/bench_x.py`: the tests' helpers are reused
    sys.path.insert(0, str(ROOT))


def row(
    *,
    group: str,
    name: str,
    baseline: str,
    contender: str,
    baseline_value: float,
    contender_value: float,
    unit: str,
    target: str,
    met: bool,
    notes: str = "",
) -> dict[str, Any]:
    return {
        "group": group,
        "name": name,
        "baseline": baseline,
        "contender": contender,
        "baseline_value": round(baseline_value, 3),
        "contender_value": round(contender_value, 3),
        "unit": unit,
        "ratio": round(contender_value / baseline_value, 3) if baseline_value else float("inf"),
        "target": target,
        "met": bool(met),
        "notes": notes,
    }


async def per_call_us(func: Callable[[], Awaitable[Any]], iterations: int) -> float:
    """Mean microseconds per awaited call over `iterations` calls."""
    start = time.perf_counter()
    for _ in range(iterations):
        await func()
    return (time.perf_counter() - start) / iterations * 1e6


def sync_per_call_us(func: Callable[[], Any], iterations: int) -> float:
    start = time.perf_counter()
    for _ in range(iterations):
        func()
    return (time.perf_counter() - start) / iterations * 1e6


async def interleaved(
    baseline: Callable[[], Awaitable[float]],
    contender: Callable[[], Awaitable[float]],
    rounds: int,
) -> tuple[float, float]:
    """Medians of `rounds` measurements of each, alternating which goes first."""
    base, cont = [], []
    for index in range(rounds):
        if index % 2 == 0:
            base.append(await baseline())
            cont.append(await contender())
        else:
            cont.append(await contender())
            base.append(await baseline())
    return statistics.median(base), statistics.median(cont)
