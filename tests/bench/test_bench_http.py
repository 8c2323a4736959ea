"""The HTTP benchmark: every stack serves the production route to the token wrk sends, and a
row claims a target only when its rounds agree."""

from __future__ import annotations

import importlib
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
