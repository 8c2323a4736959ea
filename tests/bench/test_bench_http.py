"""The HTTP benchmark: every stack serves the production route to the token wrk sends, and a
row claims a target only when its rounds agree."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import warnings
from typing import Any

import pytest
import structlog

from tests.conftest import ROOT

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

pytest.importorskip("slowapi", reason="the bench extra is not installed")
bench_http = importlib.import_module("bench.bench_http")
http_apps = importlib.import_module("bench.http_apps")


@pytest.fixture
def restored_logging() -> Any:
    # The peer stack configures structlog for the whole process, as its users do.
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


@pytest.mark.parametrize("stack", list(bench_http.STACKS))
@pytest.mark.usefixtures("restored_logging")
def test_every_stack_serves_the_production_route(stack: str) -> None:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
        from starlette.testclient import TestClient  # noqa: PLC0415 - quietly, see the plugin

    token = http_apps.production_token()
    with TestClient(getattr(http_apps, stack)()) as client:
        response = client.get("/items/42", headers={"Authorization": f"Bearer {token}"})
        assert client.get("/health/live").status_code == 200
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"id", "name", "owner", "price", "tags"}
    assert body["id"] == 42


@pytest.mark.parametrize(
    ("stack", "limited"),
    [
        ("runtime_model", False),
        ("runtime_ratelimit", True),
        ("runtime_auth", False),
        ("production", True),
    ],
)
@pytest.mark.usefixtures("restored_logging")
def test_the_rate_limited_stacks_and_only_they_rate_limit(stack: str, limited: bool) -> None:
    from starlette.testclient import TestClient  # noqa: PLC0415 - as above

    token = http_apps.production_token()
    with TestClient(getattr(http_apps, stack)()) as client:
        response = client.get("/items/42", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert ("ratelimit-policy" in response.headers) is limited


def _samples(bare: list[float], ours: list[float]) -> dict[str, list[dict[str, Any]]]:
    return {
        "bare_model": [{"rps": value} for value in bare],
        "production": [{"rps": value} for value in ours],
    }


def test_a_row_reports_its_rounds_and_the_range_of_the_per_round_ratio() -> None:
    row = bench_http._compare(
        _samples([1000, 1000, 1000], [900, 880, 910]), "bare_model", "production", "rps",
        name="production", unit="req/s", target=">= 0.85x", passes=lambda r: r >= 0.85,
    )  # fmt: skip
    assert (row["rounds"], row["range"], row["rounds_disagree"]) == (3, [0.88, 0.91], False)
    assert row["met"] is True
    assert {"baseline_value", "contender_value", "ratio", "target", "met"} <= set(row)


def test_rounds_that_disagree_claim_no_target() -> None:
    row = bench_http._compare(
        _samples([1000, 1000, 1000], [900, 600, 910]), "bare_model", "production", "rps",
        name="production", unit="req/s", target=">= 0.85x", passes=lambda r: r >= 0.85,
    )  # fmt: skip
    assert row["rounds_disagree"] is True
    assert row["met"] is None
    assert "disagree" in row["notes"]


_WRK_OUTPUT = """Running 1s test @ http://127.0.0.1:1/items/42
  Latency Distribution
     50%  310.00us
     99%    1.20ms
  3000 requests in 1.00s, 1.00MB read
Requests/sec:   3000.00
"""


def test_a_paced_run_gives_wrk_a_delay_script(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def fake_run(command: list[str], **_: Any) -> Any:
        seen["command"] = command
        if "-s" in command:
            with open(command[command.index("-s") + 1]) as script:
                seen["script"] = script.read()
        return type("Completed", (), {"stdout": _WRK_OUTPUT})()

    monkeypatch.setattr(bench_http.subprocess, "run", fake_run)
    result = bench_http.wrk("http://127.0.0.1:1/items/42", seconds=1, pace_ms=10)
    assert seen["script"].strip() == "function delay() return math.random(0, 20) end"
    assert result == {"rps": 3000.0, "p50_ms": 0.31, "p99_ms": 1.2}
    bench_http.wrk("http://127.0.0.1:1/items/42", seconds=1)
    assert "-s" not in seen["command"]


@pytest.mark.usefixtures("restored_logging")
def test_the_breakdowns_ablation_stacks_drop_what_they_say() -> None:
    from opsconductor_shared.testing import capture_json_logs  # noqa: PLC0415
    from starlette.testclient import TestClient  # noqa: PLC0415 - as above

    token = {"Authorization": f"Bearer {http_apps.production_token()}"}
    for stack, header, lines in [
        ("runtime_model", "strict-transport-security", 1),
        ("runtime_model_without_access_log", "strict-transport-security", 0),
        ("runtime_model_without_hsts", None, 1),
    ]:
        app = getattr(http_apps, stack)()  # configures logging: captured from here on
        with capture_json_logs() as logs, TestClient(app) as client:
            response = client.get("/items/42", headers=token)
        assert response.status_code == 200
        assert len(logs.events("request")) == lines, stack
        if header is None:
            assert "strict-transport-security" not in response.headers
            assert "content-security-policy" in response.headers
        else:
            assert header in response.headers


def test_every_part_of_the_breakdown_runs() -> None:
    # In a process of its own, as the breakdown runs them: the parts configure logging and
    # make event loops for the whole process.
    code = (
        "from bench.breakdown_parts import PARTS\n"
        "from opsconductor_shared import _logging\n"
        "for name, make in PARTS.items():\n"
        "    call = make(); call(); call()\n"
        "print(sorted(PARTS))\n"
        "print([getattr(p, '__name__', type(p).__name__) for p in _logging._STATE.processors])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "'access_line'" in result.stdout
    assert "'floor_access_line'" in result.stdout
    # The processor parts name the pipeline's processors by position.
    assert result.stdout.splitlines()[-1] == str(
        ["_filter_level", "merge_contextvars", "_add_fields", "mask_event", "_UTCTimestamp",
         "_render_json"]
    )  # fmt: skip
