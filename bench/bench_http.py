"""HTTP throughput and latency of four stacks serving the same route (see `http_apps`).

Each stack runs in uvicorn (1 worker, httptools, uvloop) pinned to CPU 0; wrk, pinned to CPU
1, drives it with fixed connections for a fixed duration. The stacks take turns, round after
round, and medians are reported with ratios to bare FastAPI. Targets: the runtime's
stack keeps at least 75% of bare FastAPI's requests per second and at least twice the peer
stack's.
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Row, cpu_prefix, row, uvicorn_server

STACKS = {
    "bare": "bare FastAPI",
    "runtime": "runtime stack",
    "runtime_ratelimit": "runtime stack + rate limiting",
    "peer": "peer stack (asgi-correlation-id, secure, slowapi, structlog in BaseHTTPMiddleware)",
    "basehttp": "runtime behaviour in BaseHTTPMiddleware",
}
CONNECTIONS = 32
LAST_RESULTS: dict[str, Any] = {}
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if match is None:
        raise ValueError(f"cannot read the wrk latency {value!r}")
    number, unit = match.groups()
    return float(number) * _UNITS[unit]


def wrk(url: str, *, seconds: int, connections: int = CONNECTIONS) -> dict[str, float]:
    """Requests per second, p50 and p99 latency (ms) of one wrk run."""
    command = [*cpu_prefix(1), "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if "Requests/sec" not in output or "50%" not in output:
        raise RuntimeError(f"unexpected wrk output for {url}:\n{output}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s*50%\s+(\S+)", output, re.MULTILINE).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s*99%\s+(\S+)", output, re.MULTILINE).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        raise RuntimeError(f"wrk saw {errors.group(1)} error responses from {url}")
    return {"rps": rps, "p50_ms": p50, "p99_ms": p99}


def run(quick: bool) -> list[Row]:
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (make bench installs it: apt-get install wrk)")
    rounds, seconds = (2, 2) if quick else (5, 5)
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in STACKS}
    with ExitStack() as stack:
        urls = {
            name: stack.enter_context(uvicorn_server(f"bench.http_apps:{name}", cpu=0))
            + "/items/42"
            for name in STACKS
        }
        for url in urls.values():
            wrk(url, seconds=1)  # warm up
        names = list(STACKS)
        for index in range(rounds):
            for name in names if index % 2 == 0 else reversed(names):
                samples[name].append(wrk(urls[name], seconds=seconds))
    medians = {
        name: {key: statistics.median(s[key] for s in runs) for key in ("rps", "p50_ms", "p99_ms")}
        for name, runs in samples.items()
    }
    LAST_RESULTS.clear()
    LAST_RESULTS.update(
        {
            "medians": medians,
            "stacks": STACKS,
            "rounds": rounds,
            "seconds": seconds,
            "connections": CONNECTIONS,
        }
    )
    bare, peer = medians["bare"], medians["peer"]
    rows = []
    for name in ("runtime", "runtime_ratelimit"):
        ours = medians[name]
        rows.append(
            row("http", f"requests/s: {STACKS[name]} vs bare FastAPI", baseline=STACKS["bare"], contender=STACKS[name],
                baseline_value=bare["rps"], contender_value=ours["rps"], unit="req/s", target=">= 0.75x",
                met=ours["rps"] >= 0.75 * bare["rps"])
        )  # fmt: skip
    ours = medians["runtime_ratelimit"]
    rows.append(
        row("http", "requests/s: runtime stack + rate limiting vs peer stack", baseline=STACKS["peer"],
            contender=STACKS["runtime_ratelimit"], baseline_value=peer["rps"], contender_value=ours["rps"],
            unit="req/s", target=">= 2x", met=ours["rps"] >= 2 * peer["rps"],
            notes="both stacks rate limit in memory; the peer stack with slowapi")
    )  # fmt: skip
    for name in ("peer", "basehttp"):
        rows.append(
            row("http", f"requests/s: {STACKS[name]} vs bare FastAPI", baseline=STACKS["bare"], contender=STACKS[name],
                baseline_value=bare["rps"], contender_value=medians[name]["rps"], unit="req/s")
        )  # fmt: skip
    for name in ("runtime", "runtime_ratelimit", "peer", "basehttp"):
        for key, label in (("p50_ms", "p50"), ("p99_ms", "p99")):
            rows.append(
                row("http", f"{label} latency: {STACKS[name]} vs bare", baseline=STACKS["bare"], contender=STACKS[name],
                    baseline_value=bare[key], contender_value=medians[name][key], unit="ms",
                    notes=f"{CONNECTIONS} connections")
            )  # fmt: skip
    return rows


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
