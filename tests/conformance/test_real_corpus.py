"""The real-document corpus: SOURCES.md and the files agree, and every file is what it says.

The synthetic documents are committed and always checked. The real documents are not committed
(tests/fixtures/real/README.md); their checks skip, saying why, on a machine without them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bench.corpus import (
    ALLOWED_LICENCES,
    ENV_VAR,
    LICENCES,
    SOURCES,
    SYNTHETIC,
    Result,
    Sources,
    decompress,
    digest,
    find_documents,
    measure,
    read_sources,
    unpack,
)

SHA256 = re.compile(r"[0-9a-f]{64}")
COMMIT = re.compile(r"[0-9a-f]{40}")
SYNTHETIC_MARK = "# SYNTHETIC, written for opsconductor-shared"


@pytest.fixture(scope="module")
def sources() -> Sources:
    return read_sources(SOURCES)


@pytest.fixture(scope="module")
def documents() -> Path:
    directory = find_documents()
    if directory is None:
        pytest.skip(
            "the real documents are not on this machine (not committed: see "
            f"tests/fixtures/real/README.md; set {ENV_VAR} to their directory)"
        )
    if not directory.is_dir():
        pytest.fail(f"{ENV_VAR} names {directory}, which is not a directory")
    return directory


def test_the_corpus_covers_what_issue_14_asks(sources: Sources) -> None:
    assert len(sources.documents) >= 24
    assert sources.roots, "a multi-file specification"
    assert len(sources.pairs) >= 2
    files = {d.file for d in sources.documents}
    assert len(files) == len(sources.documents), "file names are unique"
    assert {d.openapi[:3] for d in sources.documents} >= {"3.0", "3.1"}
    assert {d.format for d in sources.documents} == {"JSON", "YAML"}


def test_every_row_is_complete(sources: Sources) -> None:
    for document in sources.documents:
        assert document.file.endswith(".xz"), document.file
        assert COMMIT.fullmatch(document.commit), document.file
        assert SHA256.fullmatch(document.sha256), document.file
        assert document.licence in ALLOWED_LICENCES, document.file
        assert document.licence_copy in sources.licence_copies, document.file
        assert document.size > 0, document.file
        assert "/" in document.repository, document.file


def test_pairs_and_roots_name_listed_documents(sources: Sources) -> None:
    files = {d.file for d in sources.documents}
    for pair in sources.pairs:
        assert {pair.old, pair.new} <= files, pair
        assert pair.old != pair.new
    for file in sources.roots:
        assert file in files
        assert sources.document(file).is_tree
    assert {d.file for d in sources.documents if d.is_tree} == set(sources.roots)


def test_every_synthetic_document_is_listed_and_marked(sources: Sources) -> None:
    assert sorted(p.name for p in SYNTHETIC.iterdir()) == sorted(sources.synthetic)
    for name in sources.synthetic:
        text = (SYNTHETIC / name).read_text(encoding="utf-8")
        assert text.startswith(SYNTHETIC_MARK), name
        document = yaml.safe_load(text)
        assert isinstance(document, dict), name
        assert str(document["openapi"]).startswith("3."), name


def test_every_real_document_is_there_and_intact(sources: Sources, documents: Path) -> None:
    for document in sources.documents:
        data = decompress(document, documents)
        assert len(data) == document.size, document.file
        assert digest(data) == document.sha256, document.file


def test_every_file_there_is_listed(sources: Sources, documents: Path) -> None:
    listed = {d.file for d in sources.documents}
    present = {p.name for p in documents.iterdir() if p.name != LICENCES}
    assert present == listed
    assert sorted(p.name for p in (documents / LICENCES).iterdir()) == sorted(
        sources.licence_copies
    )


def test_a_tree_unpacks_to_its_root(sources: Sources, documents: Path, tmp_path: Path) -> None:
    for file, root in sources.roots.items():
        name = file.removesuffix(".tar.xz")
        path = unpack(sources, sources.document(file), documents, tmp_path, name)
        assert path == tmp_path / name / root
        assert yaml.safe_load(path.read_text(encoding="utf-8"))["openapi"].startswith("3.")


# Issue 14's bounds for every committed document; CPU time rather than wall time, so that a
# loaded CI machine does not fail the run (the wall-clock cap only stops a runaway).
MAX_CPU_S = 30.0
MAX_RSS_BYTES = int(1.5 * 2**30)
WALL_CAP_S = 240.0


def _assert_sound(results: list[Result]) -> None:
    problems = []
    for r in results:
        if r.timed_out or r.code not in (0, 1, 2) or r.traceback:
            problems.append(
                f"{r.command} {r.subject}: exit {r.code}, {r.traceback or r.stderr_first_line}"
            )
        elif r.cpu_s > MAX_CPU_S or r.peak_rss_mib * 2**20 > MAX_RSS_BYTES:
            problems.append(f"{r.command} {r.subject}: {r.cpu_s} s CPU, {r.peak_rss_mib} MiB")
    assert not problems, "\n".join(problems)


def test_validate_on_every_synthetic_document(sources: Sources, tmp_path: Path) -> None:
    results = measure(
        sources,
        tmp_path,
        wall_s=WALL_CAP_S,
        memory_bytes=3 * 2**30,
        only=frozenset(sources.synthetic),
    )
    assert len(results) == len(sources.synthetic)
    _assert_sound(results)


def test_validate_and_breaking_on_every_real_document(sources: Sources, documents: Path) -> None:
    results = measure(
        sources, documents, wall_s=WALL_CAP_S, memory_bytes=3 * 2**30, only=frozenset()
    )
    assert len(results) == len(sources.documents) + len(sources.synthetic) + len(sources.pairs)
    _assert_sound(results)
