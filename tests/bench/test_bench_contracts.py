"""The contract-tooling benchmark: its synthetic document is compliant, and `run` reports rows."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest
from opsconductor_conformance import document_source, validate_sources

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
    return importlib.import_module("bench.bench_contracts")


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


def _corpora(tmp_path: Path, *, git: bool, registry: bool) -> dict[str, str]:
    bench = _bench()
    git_dir, registry_dir = tmp_path / "git", tmp_path / "registry"
    git_dir.mkdir()
    registry_dir.mkdir()
    if git:
        (git_dir / bench.STRIPE_DOCUMENT).write_bytes(b"")
    if registry:
        (registry_dir / bench.REGISTRY_STRIPE_DOCUMENT).write_bytes(b"")
    return {
        "OPSCONDUCTOR_REAL_CORPUS": str(git_dir),
        "OPSCONDUCTOR_REGISTRY_CORPUS": str(registry_dir),
    }


@pytest.mark.parametrize("registry", [True, False])
def test_the_stripe_document_is_the_git_corpus_one_when_present(
    tmp_path: Path, registry: bool
) -> None:
    bench = _bench()
    found = bench.find_stripe_document(_corpora(tmp_path, git=True, registry=registry))
    assert found is not None
    assert found.document.file == bench.STRIPE_DOCUMENT
    assert found.directory == tmp_path / "git"
    assert found.corpus.startswith("git corpus")
    assert found.document.repository == "stripe/openapi"


def test_the_stripe_document_is_the_registry_one_without_the_git_corpus(tmp_path: Path) -> None:
    bench = _bench()
    found = bench.find_stripe_document(_corpora(tmp_path, git=False, registry=True))
    assert found is not None
    assert found.document.file == bench.REGISTRY_STRIPE_DOCUMENT
    assert found.directory == tmp_path / "registry"
    assert found.corpus.startswith("registry corpus")
    # The registry entry is a Stripe-class document: Stripe's spec, megabytes, OpenAPI 3.
    assert found.document.path == "package/api/stripe.com.json"
    assert found.document.size > 2_000_000
    assert found.document.openapi.startswith("3.")


def test_no_stripe_document_without_either_corpus(tmp_path: Path) -> None:
    assert _bench().find_stripe_document(_corpora(tmp_path, git=False, registry=False)) is None


def test_the_stripe_rows_say_what_to_fetch_without_a_corpus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in _corpora(tmp_path, git=False, registry=False).items():
        monkeypatch.setenv(name, value)
    rows = _bench()._stripe_rows(quick=True)
    assert [r["met"] for r in rows] == [None]
    assert "make corpus" in rows[0]["notes"]
