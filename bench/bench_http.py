"""HTTP throughput and latency of the production route, served by seven stacks (see `http_apps`).

Each stack runs in uvicorn (1 worker, httptools, uvloop) pinned to CPU 0; wrk, pinned to CPU
1, drives it with fixed connections for a fixed duration, every request carrying the same
bearer token. The stacks take turns, round after round (the order reversed every other
round), so each round compares stacks measured within seconds of each other.

Every row reports the median over the rounds, the number of rounds and the range of the
per-round ratio (the contender's figure over the baseline's in the same round). When the
rounds disagree by more than `MAX_SPREAD` (the range's width over the median ratio), the
machine was too noisy to decide: the row says so and claims no target.

Each round also runs bare FastAPI and the production route paced (each connection waits a
random think time of `PACE_MS` on average before each request, so both get nearly the same
offered load, under either's capacity): the latency compared at equal load, next to the one
at saturation.

Targets (issue 16): the runtime stack >= 0.90x of bare FastAPI's requests per second, the
production route (stack + local auth, a cache hit, + in-memory rate limit) >= 0.85x with a p99
latency <= 1.2x bare's, and >= 5x the peer stack with its own auth and slowapi. Issue 12: the
stack with the rate limiter (no auth) must not fall below the 0.56x measured before the redesign.
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Row, cpu_prefix, row, uvicorn_server
from bench.http_apps import production_token

STACKS = {
    "bare_model": "bare FastAPI",
    "runtime_model": "runtime stack",
    "runtime_ratelimit": "runtime stack + rate limit (no auth)",
    "runtime_auth": "runtime stack + local auth",
    "production": "production route (stack + local auth cache hit + rate limit)",
    "peer_production": "peer stack (asgi-correlation-id, secure, structlog, PyJWT dependency, slowapi)",
    "basehttp": "runtime behaviour in BaseHTTPMiddleware",
}
CONNECTIONS = 32
# The paced runs: each connection waits this long on average before each request (a random
# think time, so the connections do not line up into bursts), so both stacks are
# offered the same load, about CONNECTIONS / PACE_MS requests per millisecond (3,200 req/s,
# well under either's capacity): latency compared at equal load, not at saturation, where
# the p99 of a closed loop only mirrors the throughput.
PACE_MS = 10
PACED = ("bare_model", "production")
MAX_SPREAD = 0.15
LAST_RESULTS: dict[str, Any] = {}
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if match is None:
        raise ValueError(f"cannot read the wrk latency {value!r}")
    number, unit = match.groups()
    return float(number) * _UNITS[unit]


def wrk(
    url: str,
    *,
    seconds: int,
    connections: int = CONNECTIONS,
    token: str | None = None,
    pace_ms: int | None = None,
) -> dict[str, float]:
    """Requests per second, p50 and p99 latency (ms) of one wrk run; with `pace_ms`, each
    connection waits a random 0 to 2 x `pace_ms` ms before each request (wrk's `delay` hook),
    `pace_ms` on average."""
    command = [*cpu_prefix(1), "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if token is not None:
        command += ["-H", f"Authorization: Bearer {token}"]
    with ExitStack() as files:
        if pace_ms is not None:
            # A random think time (uniform, mean `pace_ms`): a fixed one lines the connections
            # up, and their requests then arrive in bursts of all of them at once.
            script = files.enter_context(tempfile.NamedTemporaryFile("w", suffix=".lua"))
            script.write(f"function delay() return math.random(0, {2 * int(pace_ms)}) end\n")
            script.flush()
            command += ["-s", script.name]
        output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    if "Requests/sec" not in output or "50%" not in output:
        raise RuntimeError(f"unexpected wrk output for {url}:\n{output}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s*50%\s+(\S+)", output, re.MULTILINE).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s*99%\s+(\S+)", output, re.MULTILINE).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        raise RuntimeError(f"wrk saw {errors.group(1)} error responses from {url}")
    return {"rps": rps, "p50_ms": p50, "p99_ms": p99}


def _compare(
    samples: dict[str, list[dict[str, float]]],
    baseline: str,
    contender: str,
    key: str,
    *,
    name: str,
    unit: str,
    target: str | None = None,
    passes: Callable[[float], bool] | None = None,
    notes: str = "",
) -> Row:
    """One row: medians of `key`, and the range of the per-round ratios."""
    base = [s[key] for s in samples[baseline]]
    cont = [s[key] for s in samples[contender]]
    ratios = [c / b for b, c in zip(base, cont, strict=True) if b]
    ratio = statistics.median(cont) / statistics.median(base)
    low, high = min(ratios), max(ratios)
    spread = (high - low) / statistics.median(ratios)
    met = None if passes is None else passes(ratio)
    detail = f"median of {len(ratios)} interleaved rounds, per-round ratio {low:.2f}x-{high:.2f}x"
    if passes is not None and spread > MAX_SPREAD:
        met = None
        detail += (
            f"; the rounds disagree by {spread:.0%} (over {MAX_SPREAD:.0%}): too noisy to "
            "claim the target either way"
        )
    return row(
        "http", name, baseline=STACKS[baseline], contender=STACKS[contender],
        baseline_value=statistics.median(base), contender_value=statistics.median(cont),
        unit=unit, target=target, met=met, notes="; ".join(filter(None, [detail, notes])),
        rounds=len(ratios), range=[round(low, 4), round(high, 4)],
        rounds_disagree=spread > MAX_SPREAD,
    )  # fmt: skip


def run(quick: bool) -> list[Row]:
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (make bench installs it: apt-get install wrk)")
    rounds, seconds = (2, 2) if quick else (6, 4)
    token = production_token()
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in STACKS}
    paced: dict[str, list[dict[str, float]]] = {name: [] for name in PACED}
    with ExitStack() as stack:
        urls = {
            name: stack.enter_context(uvicorn_server(f"bench.http_apps:{name}", cpu=0))
            + "/items/42"
            for name in STACKS
        }
        for url in urls.values():
            wrk(url, seconds=1, token=token)  # warm up
        names = list(STACKS)
        for index in range(rounds):
            for name in names if index % 2 == 0 else reversed(names):
                samples[name].append(wrk(urls[name], seconds=seconds, token=token))
            for name in PACED if index % 2 == 0 else reversed(PACED):
                # Twice as long: a p99 wants more samples than a request rate does.
                paced[name].append(
                    wrk(urls[name], seconds=2 * seconds, token=token, pace_ms=PACE_MS)
                )
    medians = {
        name: {key: statistics.median(s[key] for s in runs) for key in ("rps", "p50_ms", "p99_ms")}
        for name, runs in samples.items()
    }
    LAST_RESULTS.clear()
    LAST_RESULTS.update(
        {
            "medians": medians,
            "samples": samples,
            "paced": paced,
            "pace_ms": PACE_MS,
            "stacks": STACKS,
            "rounds": rounds,
            "seconds": seconds,
            "connections": CONNECTIONS,
        }
    )
    latency = f"{CONNECTIONS} connections"
    rows = [
        _compare(samples, "bare_model", "runtime_model", "rps", unit="req/s",
                 name="requests/s: runtime stack vs bare FastAPI", target=">= 0.90x",
                 passes=lambda r: r >= 0.90),
        _compare(samples, "bare_model", "runtime_ratelimit", "rps", unit="req/s",
                 name="requests/s: runtime stack + rate limit (no auth) vs bare FastAPI",
                 target=">= 0.56x", passes=lambda r: r >= 0.56,
                 notes="issue 12: must not fall below the 0.56x measured before the redesign"),
        _compare(samples, "bare_model", "runtime_auth", "rps", unit="req/s",
                 name="requests/s: runtime stack + local auth (cache hit) vs bare FastAPI"),
        _compare(samples, "bare_model", "production", "rps", unit="req/s",
                 name="requests/s: production route (stack + local auth cache hit + rate limit) vs bare FastAPI",
                 target=">= 0.85x", passes=lambda r: r >= 0.85,
                 notes="the same route and 5-field response_model; bare checks no token"),
        _compare(samples, "bare_model", "production", "p99_ms", unit="ms",
                 name="p99 latency: production route vs bare FastAPI", target="<= 1.2x",
                 passes=lambda r: r <= 1.2, notes=f"{latency}, at saturation"),
        _compare(samples, "peer_production", "production", "rps", unit="req/s",
                 name="requests/s: production route vs peer stack with its own auth and slowapi",
                 target=">= 5x", passes=lambda r: r >= 5,
                 notes="both verify the bearer token (the peer with a PyJWT dependency on every request) and rate limit in memory"),
        _compare(samples, "bare_model", "peer_production", "rps", unit="req/s",
                 name="requests/s: peer stack with its own auth vs bare FastAPI"),
        _compare(samples, "bare_model", "basehttp", "rps", unit="req/s",
                 name="requests/s: runtime behaviour in BaseHTTPMiddleware vs bare FastAPI"),
    ]  # fmt: skip
    served = {name: statistics.median(s["rps"] for s in paced[name]) for name in PACED}
    rows += [
        _compare(paced, "bare_model", "production", "p99_ms", unit="ms",
                 name="p99 latency at equal offered load: production route vs bare FastAPI",
                 target="<= 1.2x", passes=lambda r: r <= 1.2,
                 notes=f"{CONNECTIONS} connections, each waiting {PACE_MS} ms on average (random) before each request: "
                       f"both offered nearly the same load (wrk's delay is think time, so a slower stack is offered a little less: "
                       f"bare served {served['bare_model']:,.0f} req/s, the production route {served['production']:,.0f}), under either's capacity"),
        _compare(paced, "bare_model", "production", "p50_ms", unit="ms",
                 name="p50 latency at equal offered load: production route vs bare FastAPI",
                 notes=f"{CONNECTIONS} connections paced at {PACE_MS} ms on average"),
    ]  # fmt: skip
    for name in ("runtime_model", "runtime_auth", "peer_production"):
        rows.append(
            _compare(samples, "bare_model", name, "p99_ms", unit="ms",
                     name=f"p99 latency: {STACKS[name]} vs bare FastAPI", notes=latency)
        )  # fmt: skip
    for name in ("runtime_model", "production"):
        rows.append(
            _compare(samples, "bare_model", name, "p50_ms", unit="ms",
                     name=f"p50 latency: {STACKS[name]} vs bare FastAPI", notes=latency)
        )  # fmt: skip
    return rows


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
