"""`make bench`: run every `bench/bench_*.py`, write `bench/results.json`, `bench/results.md`,
the HTTP chart `docs/assets/http.png`, and the table of `docs/benchmarks.md`.

Usage: python bench/run.py [--quick] [--only NAME ...] [--no-readme]
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import importlib.metadata
import json
import math
import os
import platform
import sys
import time
import traceback
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, Row

BENCH = ROOT / "bench"
README = ROOT / "docs" / "benchmarks.md"  # the docs page that carries the table
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
VERSIONS = (
    "fastapi",
    "starlette",
    "pydantic",
    "uvicorn",
    "httpx",
    "structlog",
    "orjson",
    "PyJWT",
    "psycopg",
    "redis",
)


def _machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for name in VERSIONS:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "versions": versions,
    }


def _fmt(value: float, unit: str) -> str:
    if math.isinf(value) or math.isnan(value):
        return str(value)
    digits = 0 if abs(value) >= 100 else 2 if abs(value) >= 1 else 3
    return f"{value:,.{digits}f} {unit}"


def _markdown(rows: list[Row], meta: dict[str, Any]) -> str:
    versions = ", ".join(f"{k} {v}" for k, v in meta["machine"]["versions"].items())
    lines = [
        f"Measured {meta['date']} on {meta['machine']['cpu']} ({meta['machine']['cores']} cores), Python {meta['machine']['python']}; {versions}. "
        f"{'Quick run (fewer, shorter rounds).' if meta['quick'] else 'Full run.'} Every ratio compares two things measured side by side in this run (interleaved rounds, medians).",
        "",
        "| group | comparison | baseline | contender | ratio | target | result |",
        "| --- | --- | ---: | ---: | ---: | --- | --- |",
    ]
    for r in rows:
        result = "" if r.get("met") is None else ("met" if r["met"] else "**missed**")
        if r.get("rounds_disagree") and r.get("target"):
            result = "undecided: rounds disagree"
        ratio = f"{r['ratio']:.2f}x"
        if r.get("range"):
            low, high = r["range"]
            ratio += f" ({low:.2f}-{high:.2f}, {r['rounds']} rounds)"
        lines.append(
            f"| {r['group']} | {r['name']} | {_fmt(r['baseline_value'], r['unit'])} | {_fmt(r['contender_value'], r['unit'])} | {ratio} | {r.get('target') or ''} | {result} |"
        )
    notes = [f"- {r['name']}: {r['notes']}" for r in rows if r.get("notes")]
    if notes:
        lines += ["", "Notes:", *notes]
    failed = meta.get("failed") or {}
    if failed:
        lines += [
            "",
            "Benchmarks that did not run:",
            *(f"- `{name}`: {reason}" for name, reason in failed.items()),
        ]
    return "\n".join(lines) + "\n"


def _chart(http: dict[str, Any], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    medians, labels = http["medians"], http["stacks"]
    names = list(labels)
    short = {
        "bare_model": "bare FastAPI",
        "runtime_model": "runtime",
        "runtime_ratelimit": "runtime +\nrate limit",
        "runtime_auth": "runtime +\nauth",
        "production": "production\n(+ rate limit)",
        "peer_production": "peer stack",
        "basehttp": "BaseHTTPMiddleware",
    }
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    colours = ["#9e9e9e", "#1565c0", "#0d47a1", "#1e88e5", "#42a5f5", "#ef6c00", "#6d4c41"]
    left.bar(
        [short.get(n, n) for n in names],
        [medians[n]["rps"] for n in names],
        color=colours[: len(names)],
    )
    left.set_title("Requests per second (higher is better)")
    left.tick_params(axis="x", rotation=15)
    width = 0.38
    xs = range(len(names))
    right.bar(
        [x - width / 2 for x in xs],
        [medians[n]["p50_ms"] for n in names],
        width,
        label="p50",
        color="#90caf9",
    )
    right.bar(
        [x + width / 2 for x in xs],
        [medians[n]["p99_ms"] for n in names],
        width,
        label="p99",
        color="#1565c0",
    )
    right.set_xticks(list(xs), [short.get(n, n) for n in names], rotation=15)
    right.set_title(f"Latency, ms ({http['connections']} connections; lower is better)")
    right.legend()
    fig.suptitle(
        "uvicorn, 1 worker, httptools; wrk on the other core; medians of interleaved rounds"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _update_readme(markdown: str, chart: bool) -> None:
    if not README.exists():
        return
    text = README.read_text()
    if START not in text or END not in text:
        return
    image = "![HTTP throughput and latency](assets/http.png)\n\n" if chart else ""
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    README.write_text(f"{head}{START}\n{image}{markdown}{END}{tail}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--no-readme", action="store_true")
    args = parser.parse_args(argv)
    modules = sorted(p.stem for p in BENCH.glob("bench_*.py"))
    if args.only:
        modules = [m for m in modules if m.removeprefix("bench_") in args.only or m in args.only]
    rows: list[Row] = []
    failed: dict[str, str] = {}
    extra: dict[str, Any] = {}
    started = time.monotonic()
    for name in modules:
        print(f"== {name}", flush=True)
        try:
            module = importlib.import_module(f"bench.{name}")
            result = module.run(args.quick)
        except Exception as exc:  # a broken benchmark is reported, not hidden
            traceback.print_exc()
            failed[name] = f"{type(exc).__name__}: {exc}"
            continue
        rows.extend(result)
        for r in result:
            print(
                f"   {r['name']}: {r['baseline_value']:.4g} -> {r['contender_value']:.4g} {r['unit']} ({r['ratio']:.2f}x) {'' if r.get('met') is None else ('met' if r['met'] else 'MISSED')}",
                flush=True,
            )
        if hasattr(module, "LAST_RESULTS") and module.LAST_RESULTS:
            extra[name] = module.LAST_RESULTS
    meta = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "quick": args.quick,
        "machine": _machine(),
        "seconds": round(time.monotonic() - started, 1),
        "failed": failed,
    }
    (BENCH / "results.json").write_text(
        json.dumps({"meta": meta, "rows": rows, "raw": extra}, indent=2, default=str) + "\n"
    )
    markdown = _markdown(rows, meta)
    (BENCH / "results.md").write_text(markdown)
    chart = "bench_http" in extra and _chart(
        extra["bench_http"], ROOT / "docs" / "assets" / "http.png"
    )
    if not args.no_readme:
        _update_readme(markdown, chart)
    missed = [r["name"] for r in rows if r.get("met") is False]
    print(
        f"\n{len(rows)} results in {meta['seconds']} s; {len(missed)} target(s) missed; {len(failed)} benchmark(s) failed"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
