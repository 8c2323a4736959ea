"""Where a request's microseconds go in uvicorn: the stacks of the production route, in process.

Each app is driven through uvicorn's own HTTP protocol (`HttpToolsProtocol`, the one
`--http httptools` serves with) on a uvloop event loop, over a fake transport: the request's
bytes go in through `data_received`, the response comes out through `transport.write`. So
everything uvicorn does per request is counted (parsing, the scope, the task, validating and
writing every response header) and nothing of the kernel's socket work, which is the same for
every stack. The access log goes to `/dev/null` through its real file descriptor, so its
`write` system call is counted too.

The stacks take turns, round after round; each round serves `requests` keep-alive requests
on one connection. Reported: µs per request (median of rounds) and what each layer adds to
bare FastAPI serving the same route. With `--profile NAME`, one stack runs under cProfile
and the top functions by own time are printed.

    python bench/bench_breakdown.py [--quick] [--profile production]
    python bench/bench_breakdown.py --instructions [STACK ...]
    python bench/bench_breakdown.py --ablation
    python bench/bench_breakdown.py --parts [PART ...]

`--ablation` counts the instructions of the `ABLATION` stacks, each one behaviour apart;
`--parts` those of each piece in `breakdown_parts` on its own, per call.

`--instructions` counts CPU instructions per request instead of timing them, with valgrind's
callgrind: each stack serves `INSTRUCTION_COUNTS` requests in two runs of its own process, and
the difference of the runs' totals over the difference of the counts is the per-request
figure (start-up, imports and warm-up cancel out). Instructions do not depend on the machine's
load, so the figures can be compared across runs and machines of one architecture; they are
not time (a cache miss costs more than an add), but they say which layer does how much work.
It takes a few minutes per stack (callgrind runs Python about 50x slower).
"""

from __future__ import annotations

import asyncio
import cProfile
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, Row, cpu_prefix, row

STACKS = {
    "bare_model": "bare FastAPI",
    "runtime_model": "runtime stack",
    "runtime_auth": "runtime stack + local auth (cache hit)",
    "production": "runtime stack + local auth (cache hit) + rate limit",
}
LAST_RESULTS: dict[str, Any] = {}
# `--ablation`: each stack adds one thing to the one before it (or takes one away, where the
# figure is the difference), so each difference is what that behaviour costs.
ABLATION = {
    "bare_model": "bare FastAPI (the route, its 5-field model)",
    "bare_dependency": "bare FastAPI + one trivial dependency (for scale)",
    "runtime_model_without_access_log": "runtime stack with LOG__ACCESS=false",
    "runtime_model_without_hsts": "runtime stack without HSTS (one header fewer)",
    "runtime_model": "runtime stack",
    "runtime_auth_no_dependency": "+ local auth in the middleware, the route without a dependency",
    "runtime_auth": "+ the route declaring get_verified_token",
    "production": "production route (+ the in-memory rate limiter)",
}


class _Transport:
    """The part of `asyncio.Transport` uvicorn's protocol uses; keeps the bytes written."""

    def __init__(self) -> None:
        self.written = 0
        self.closed = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8000)}.get(
            name, default
        )

    def write(self, data: bytes) -> None:
        self.written += len(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


class _Connection:
    """One keep-alive connection into uvicorn's protocol serving `app`."""

    def __init__(self, app: Any, request: bytes) -> None:
        from uvicorn.config import Config
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
        from uvicorn.server import ServerState

        config = Config(app, http="httptools", access_log=False, lifespan="off", log_config=None)
        config.load()
        self.protocol = HttpToolsProtocol(config, ServerState(), {}, _loop=asyncio.get_event_loop())
        self.transport = _Transport()
        self.protocol.connection_made(self.transport)  # type: ignore[arg-type]
        self.request = request
        self._done: asyncio.Future[None] | None = None
        served = self.protocol.on_response_complete

        def on_response_complete() -> None:
            served()
            if self._done is not None and not self._done.done():
                self._done.set_result(None)

        self.protocol.on_response_complete = on_response_complete  # type: ignore[method-assign]

    async def serve(self, count: int) -> float:
        """µs per request over `count` requests, one after the other."""
        loop = asyncio.get_running_loop()
        start = time.perf_counter()
        for _ in range(count):
            self._done = loop.create_future()
            self.protocol.data_received(self.request)
            await self._done
        return (time.perf_counter() - start) / count * 1e6


async def _lifespan(app: Any) -> Any:
    """Start `app`'s lifespan; returns the coroutine's task and the shutdown trigger."""
    messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    started: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    await messages.put({"type": "lifespan.startup"})

    async def send(message: dict[str, Any]) -> None:
        if message["type"].startswith("lifespan.startup") and not started.done():
            started.set_result(None)

    task = asyncio.create_task(app({"type": "lifespan", "state": {}}, messages.get, send))
    await started
    return task, messages


def _request(token: str) -> bytes:
    return (
        "GET /items/42 HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nUser-Agent: bench\r\n"
        f"Accept: */*\r\nAuthorization: Bearer {token}\r\n\r\n"
    ).encode()


async def _measure(rounds: int, requests: int, profile: str | None) -> dict[str, list[float]]:
    from bench import http_apps

    request = _request(os.environ[http_apps.TOKEN_VARIABLE])
    apps = {name: getattr(http_apps, name)() for name in STACKS}
    lifespans = [await _lifespan(app) for app in apps.values()]
    connections = {name: _Connection(app, request) for name, app in apps.items()}
    for connection in connections.values():
        await connection.serve(max(50, requests // 10))  # warm up: caches, first-use paths
    if profile is not None:
        profiler = cProfile.Profile()
        profiler.enable()
        await connections[profile].serve(requests * rounds)
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats(
            os.environ.get("BENCH_SORT", "tottime")
        ).print_stats(int(os.environ.get("BENCH_TOP", "30")))
    samples: dict[str, list[float]] = {name: [] for name in STACKS}
    names = list(STACKS)
    for index in range(rounds):
        for name in names if index % 2 == 0 else reversed(names):
            samples[name].append(await connections[name].serve(requests))
    for task, messages in lifespans:
        await messages.put({"type": "lifespan.shutdown"})
        await task
    return samples


def _child(output: str, quick: bool, profile: str | None) -> None:
    import uvloop

    rounds, requests = (3, 1_000) if quick else (9, 5_000)
    samples = uvloop.run(_measure(rounds, requests, profile))
    Path(output).write_text(json.dumps({"samples": samples, "requests": requests}))


def measure(quick: bool, profile: str | None = None) -> dict[str, Any]:
    """Run the measurement in a child process pinned to CPU 0, its standard output at
    /dev/null (where the access log goes)."""
    from bench import http_apps

    with tempfile.TemporaryDirectory() as folder:
        output = str(Path(folder) / "samples.json")
        command = [*cpu_prefix(0), sys.executable, __file__, "--child", output]
        command += ["--quick"] if quick else []
        command += ["--profile", profile] if profile else []
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            http_apps.TOKEN_VARIABLE: http_apps.production_token(),
        }
        subprocess.run(command, env=env, stdout=subprocess.DEVNULL, check=True, cwd=ROOT)
        result: dict[str, Any] = json.loads(Path(output).read_text())
    return result


INSTRUCTION_COUNTS = (300, 1_300)


async def _serve_only(name: str, count: int) -> None:
    from bench import http_apps

    app = getattr(http_apps, name)()
    lifespan, messages = await _lifespan(app)
    connection = _Connection(app, _request(os.environ[http_apps.TOKEN_VARIABLE]))
    await connection.serve(100)  # warm up: caches, first-use paths
    await connection.serve(count)
    await messages.put({"type": "lifespan.shutdown"})
    await lifespan


def _instructions_of(name: str, count: int, folder: str) -> int:
    """Total instructions of one process serving `count` requests of stack `name`."""
    return _callgrind_total(
        ["--serve-only", name, str(count)], Path(folder) / f"callgrind.{name}.{count}"
    )


def _callgrind_total(arguments: list[str], out: Path) -> int:
    from bench import http_apps

    command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
               sys.executable, __file__, *arguments]  # fmt: skip
    # One hash seed: set and dict layouts (and so instruction counts) then repeat from run to
    # run; with random seeds two runs of one stack differed by up to 8,000 instructions.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": "0",
           http_apps.TOKEN_VARIABLE: http_apps.production_token()}  # fmt: skip
    subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=True, cwd=ROOT)  # fmt: skip
    for line in out.read_text(errors="replace").splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise RuntimeError(f"no instruction total in {out}")


PART_CALLS = (2_000, 12_000)


def _call_only(name: str, count: int) -> None:
    from bench.breakdown_parts import PARTS

    call = PARTS[name]()
    for _ in range(200):  # warm up
        call()
    for _ in range(count):
        call()


def part_instructions(names: list[str]) -> dict[str, float]:
    """Instructions per call of each part of `breakdown_parts`, the loop's own cost taken off."""
    low, high = PART_CALLS
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        for name in ["nothing", *names]:
            totals = [
                _callgrind_total(
                    ["--call-only", name, str(count)], Path(folder) / f"{name}.{count}"
                )
                for count in (low, high)
            ]
            figures[name] = (totals[1] - totals[0]) / (high - low)
            if name != "nothing":
                figures[name] -= figures["nothing"]
                print(f"{name:36} {figures[name]:10,.0f} instructions per call", flush=True)
    return figures


def ablation() -> dict[str, float]:
    """Instructions per request of the `ABLATION` stacks, each with what it adds or saves."""
    figures = instructions(list(ABLATION))
    bare = figures["bare_model"]
    print("\n| stack | instructions per request | vs bare | throughput if time followed |")
    print("| --- | ---: | ---: | ---: |")
    for name, label in ABLATION.items():
        figure = figures[name]
        print(f"| {label} | {figure:,.0f} | {figure - bare:+,.0f} | {bare / figure:.2f}x |")
    return figures


def instructions(names: list[str]) -> dict[str, float]:
    """Instructions per request of each stack (see the module docstring)."""
    low, high = INSTRUCTION_COUNTS
    figures = {}
    with tempfile.TemporaryDirectory() as folder:
        for name in names:
            total_low = _instructions_of(name, low, folder)
            total_high = _instructions_of(name, high, folder)
            figures[name] = (total_high - total_low) / (high - low)
            print(f"{name:16} {figures[name]:12,.0f} instructions per request", flush=True)
    return figures


def run(quick: bool) -> list[Row]:
    result = measure(quick)
    samples = result["samples"]
    medians = {name: statistics.median(values) for name, values in samples.items()}
    LAST_RESULTS.clear()
    LAST_RESULTS.update({"us_per_request": medians, "samples": samples, "stacks": STACKS})
    bare = medians["bare_model"]
    rows = []
    previous = "bare_model"
    for name in list(STACKS)[1:]:
        rounds = len(samples[name])
        low, high = min(samples[name]), max(samples[name])
        rows.append(
            row("breakdown", f"µs per request in uvicorn's protocol: {STACKS[name]} vs bare FastAPI",
                baseline=STACKS["bare_model"], contender=STACKS[name], baseline_value=bare,
                contender_value=medians[name], unit="µs",
                notes=f"adds {medians[name] - bare:.1f} µs to bare, {medians[name] - medians[previous]:.1f} µs "
                      f"to the previous stack; median of {rounds} rounds of {result['requests']} requests "
                      f"(range {low:.1f}-{high:.1f} µs); fake transport, no socket")
        )  # fmt: skip
        previous = name
    return rows


if __name__ == "__main__":
    if "--serve-only" in sys.argv:
        import uvloop

        at = sys.argv.index("--serve-only")
        uvloop.run(_serve_only(sys.argv[at + 1], int(sys.argv[at + 2])))
    elif "--call-only" in sys.argv:
        at = sys.argv.index("--call-only")
        _call_only(sys.argv[at + 1], int(sys.argv[at + 2]))
    elif "--parts" in sys.argv:
        from bench.breakdown_parts import PARTS

        chosen = sys.argv[sys.argv.index("--parts") + 1 :] or [
            name for name in PARTS if name != "nothing"
        ]
        part_instructions(chosen)
    elif "--ablation" in sys.argv:
        ablation()
    elif "--instructions" in sys.argv:
        chosen = sys.argv[sys.argv.index("--instructions") + 1 :] or list(STACKS)
        instructions(chosen)
    elif "--child" in sys.argv:
        _child(
            sys.argv[sys.argv.index("--child") + 1],
            "--quick" in sys.argv,
            sys.argv[sys.argv.index("--profile") + 1] if "--profile" in sys.argv else None,
        )
    elif "--profile" in sys.argv:
        measure("--quick" in sys.argv, sys.argv[sys.argv.index("--profile") + 1])
    else:
        print(json.dumps(run(quick="--quick" in sys.argv), indent=2, ensure_ascii=False))
