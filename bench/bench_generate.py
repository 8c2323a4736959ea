"""`make generate` wall time against its 15 s target (the generator, the checks around it,
formatting and the import check), measured as a whole command."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, Row, row

TARGET_SECONDS = 15.0


def run(quick: bool) -> list[Row]:
    rounds = 1 if quick else 3
    times = []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            subprocess.run(
                [
                    sys.executable,
                    "scripts/generate.py",
                    "--output",
                    str(Path(tmp) / "opsconductor_contracts"),
                ],
                cwd=ROOT,
                check=True,
                capture_output=True,
            )
            times.append(time.perf_counter() - start)
    median = statistics.median(times)
    return [
        row(
            "contracts",
            "make generate wall time vs target",
            baseline="target 15 s",
            contender="scripts/generate.py (check, generate, format, import)",
            baseline_value=TARGET_SECONDS,
            contender_value=median,
            unit="s",
            target="< 15 s",
            met=median < TARGET_SECONDS,
        )
    ]


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
