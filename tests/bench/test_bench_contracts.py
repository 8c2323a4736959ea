"""The contract-tooling benchmark: its synthetic document is compliant, and `run` reports rows."""

from __future__ import annotations

import importlib.util
from types import ModuleType

import pytest
from opsconductor_conformance import document_source, validate_sources

from tests.conftest import ROOT

ROW_KEYS = {
    "group",
    "name",
    "baseline",
    "contender",
    "baseline_value",
    "contender_value",
    "unit",
    "ratio",
    "target",
    "met",
    "notes",
}


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bench_contracts", ROOT / "bench" / "bench_contracts.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_synthetic_document_is_large_and_compliant() -> None:
    document = _bench().build_synthetic_document(operations=200, components=300)
    assert sum(len(item) for item in document["paths"].values()) == 202
    assert len(document["components"]["schemas"]) >= 300
    report = validate_sources([document_source(document)])
    assert report.findings == ()


@pytest.mark.slow
def test_run_reports_rows() -> None:
    rows = _bench().run(quick=True)
    names = [row["name"] for row in rows]
    assert "validate start-up on a 1 KB document" in names
    assert "validate Stripe-class document" in names
    for row in rows:
        assert set(row) == ROW_KEYS
        assert row["group"] == "conformance"
        if row["baseline_value"] and row["met"] is not None:
            assert row["ratio"] == pytest.approx(
                row["contender_value"] / row["baseline_value"], rel=0.01
            )
