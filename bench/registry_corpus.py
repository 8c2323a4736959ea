"""The registry corpus: real public OpenAPI documents taken from pinned package archives.

Developers do not commit documents fetched out of public repositories (tests/fixtures/real/
README.md), and CI has no such copy. Package registries are reachable from every machine, CI
included, so this half of the corpus comes from there: `REGISTRY.md` pins each package archive
(npm or PyPI) by version and sha256 and lists the documents inside it, each with its own size
and sha256. `python -m bench.registry_corpus fetch` downloads the archives (kept in a cache),
checks them, and writes each document xz-compressed, as the rest of the corpus is kept, into
`tests/fixtures/real/registry/` (git-ignored), with each package's licence in `licenses/`. A
directory of the archive (a multi-file specification) becomes one `.tar.xz` with fixed
metadata, so its digest is the same on every machine.

`read_registry()` returns the manifest as a `bench.corpus.Sources`, so `bench.corpus.measure`
and the corpus tests treat both halves of the corpus alike. `python -m bench.registry_corpus
measure` runs `bench.corpus`'s capped runner on it and prints the per-document table (exit,
wall and CPU time, peak RSS, findings) that docs/cli.md shows.
"""

from __future__ import annotations

import argparse
import io
import lzma
import os
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.corpus import (
    CORPUS,
    DEFAULT_MEMORY_BYTES,
    DEFAULT_WALL_S,
    LICENCES,
    Document,
    Pair,
    Sources,
    digest,
    measure,
    read_tables,
    table,
)

REGISTRY = CORPUS / "REGISTRY.md"
ENV_VAR = "OPSCONDUCTOR_REGISTRY_CORPUS"
DEFAULT_DIRECTORY = CORPUS / "registry"
ARCHIVES = ".archives"
NPM_TARBALL = "https://registry.npmjs.org/{name}/-/{base}-{version}.tgz"
DOWNLOAD_TIMEOUT_S = 120.0
_XZ_PRESET = 3  # a local cache: quick to write; the digest is of the original bytes anyway


class FetchError(Exception):
    """An archive could not be downloaded, or is not the pinned one."""


@dataclass(frozen=True, kw_only=True)
class Package:
    """One pinned package archive."""

    name: str
    registry: str
    version: str
    archive: str
    sha256: str
    licence: str
    licence_file: str

    @property
    def licence_copy(self) -> str:
        return f"{self.registry}--{self.name.replace('/', '--')}--LICENSE.txt"


@dataclass(frozen=True, kw_only=True)
class Registry:
    """What REGISTRY.md lists: the packages, and the corpus inside them."""

    packages: Mapping[str, Package]
    paths: Mapping[str, str]
    """Each document's file name -> its member path in its package's archive."""
    expected_exit: Mapping[str, int]
    """Each document's file name -> the exit code `validate` must give on it."""
    sources: Sources


def read_registry(path: Path = REGISTRY) -> Registry:
    """Parse REGISTRY.md (packages, documents, multi-file roots, pairs for breaking)."""
    tables = read_tables(path.read_text(encoding="utf-8"))
    packages = {
        row["package"]: Package(
            name=row["package"],
            registry=row["registry"],
            version=row["version"],
            archive=row["archive"],
            sha256=row["sha256"],
            licence=row["licence"],
            licence_file=row["licence file"],
        )
        for row in tables["packages"]
    }
    documents = []
    paths: dict[str, str] = {}
    expected: dict[str, int] = {}
    for row in tables["documents"]:
        package = packages[row["package"]]
        documents.append(
            Document(
                file=row["file"],
                repository=f"{package.registry}:{package.name}",
                commit=package.version,
                path=row["path"],
                licence=package.licence,
                licence_copy=package.licence_copy,
                size=int(row["size"].replace(",", "")),
                sha256=row["sha256"],
                openapi=row["openapi"],
                format=row["format"],
            )
        )
        paths[row["file"]] = row["path"]
        expected[row["file"]] = int(row["validate exit"])
    sources = Sources(
        documents=tuple(documents),
        roots={row["file"]: row["root"] for row in tables["multi-file specifications"]},
        pairs=tuple(
            Pair(old=row["old"], new=row["new"], change=row["change"])
            for row in tables["pairs for breaking"]
        ),
        synthetic=(),
        licence_copies=tuple(sorted({p.licence_copy for p in packages.values()})),
    )
    return Registry(packages=packages, paths=paths, expected_exit=expected, sources=sources)


def find_registry(environ: Mapping[str, str] = os.environ) -> Path | None:
    """The directory holding the fetched registry corpus, or None when it was not fetched."""
    if environ.get(ENV_VAR):
        return Path(environ[ENV_VAR])
    return DEFAULT_DIRECTORY if DEFAULT_DIRECTORY.is_dir() else None


def _download_npm(package: Package, dest: Path) -> None:
    base = package.name.rsplit("/", 1)[-1]
    url = NPM_TARBALL.format(name=package.name, base=base, version=package.version)
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
            dest.write_bytes(response.read())
    except OSError as exc:
        raise FetchError(f"cannot download {url}: {exc}") from exc


def _download_pypi(package: Package, dest: Path) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        argv = [
            sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
            "--no-binary", ":all:", "--dest", scratch, f"{package.name}=={package.version}",
        ]  # fmt: skip
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        got = Path(scratch) / package.archive
        if done.returncode != 0 or not got.is_file():
            raise FetchError(
                f"pip could not download {package.name}=={package.version}'s sdist: "
                f"{done.stderr.strip().splitlines()[-1:] or done.returncode}"
            )
        dest.write_bytes(got.read_bytes())


def archive(package: Package, cache: Path) -> bytes:
    """The package's archive, from the cache or the registry; always the pinned bytes."""
    path = cache / package.archive
    if not (path.is_file() and digest(path.read_bytes()) == package.sha256):
        cache.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(path.suffix + ".part")
        {"npm": _download_npm, "pypi": _download_pypi}[package.registry](package, partial)
        partial.replace(path)
    data = path.read_bytes()
    if digest(data) != package.sha256:
        raise FetchError(
            f"{package.archive} is not the pinned archive: sha256 {digest(data)}, "
            f"REGISTRY.md pins {package.sha256}"
        )
    return data


def tree_archive(tar: tarfile.TarFile, prefix: str) -> bytes:
    """The files under `prefix` as an uncompressed tar with fixed metadata, sorted by name."""
    out = io.BytesIO()
    members = sorted(
        (m for m in tar.getmembers() if m.isfile() and m.name.startswith(prefix)),
        key=lambda m: m.name,
    )
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tree:
        for member in members:
            data = _read(tar, member.name)
            info = tarfile.TarInfo(member.name.removeprefix(prefix))
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tree.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _read(tar: tarfile.TarFile, name: str) -> bytes:
    handle = tar.extractfile(name)
    if handle is None:
        raise FetchError(f"{name} is not a file in its archive")
    return handle.read()


def original_bytes(tar: tarfile.TarFile, document: Document, path: str) -> bytes:
    """A listed document's bytes as REGISTRY.md records them (a tree: its tar archive)."""
    return tree_archive(tar, path) if document.is_tree else _read(tar, path)


def fetch(directory: Path, registry: Registry | None = None) -> list[str]:
    """Write every listed document into `directory`; return what was written."""
    registry = registry or read_registry()
    cache = directory / ARCHIVES
    (directory / LICENCES).mkdir(parents=True, exist_ok=True)
    written = []
    for package in registry.packages.values():
        data = archive(package, cache)
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            licence = _read(tar, package.licence_file)
            (directory / LICENCES / package.licence_copy).write_bytes(licence)
            for document in registry.sources.documents:
                if document.repository != f"{package.registry}:{package.name}":
                    continue
                original = original_bytes(tar, document, registry.paths[document.file])
                if len(original) != document.size or digest(original) != document.sha256:
                    raise FetchError(
                        f"{document.file}: {len(original)} bytes, sha256 {digest(original)}; "
                        f"REGISTRY.md records {document.size} bytes, {document.sha256}"
                    )
                target = directory / document.file
                target.write_bytes(lzma.compress(original, preset=_XZ_PRESET))
                written.append(document.file)
    return written


def _measure(directory: Path, wall_s: float, memory_gib: float, only: frozenset[str]) -> int:
    if not directory.is_dir():
        print(f"registry corpus: nothing in {directory}; run make corpus first", file=sys.stderr)
        return 2
    results = measure(
        read_registry().sources,
        directory,
        wall_s=wall_s,
        memory_bytes=int(memory_gib * 2**30),
        only=only,
    )
    print(table(results), end="")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    fetch_cmd = commands.add_parser("fetch", help="download the pinned archives, write the corpus")
    fetch_cmd.add_argument("--directory", type=Path, default=None)
    measure_cmd = commands.add_parser(
        "measure", help="validate every document and breaking on every pair; print the table"
    )
    measure_cmd.add_argument("--directory", type=Path, default=None)
    measure_cmd.add_argument("--wall", type=float, default=DEFAULT_WALL_S, help="seconds per run")
    measure_cmd.add_argument("--memory-gib", type=float, default=DEFAULT_MEMORY_BYTES / 2**30)
    measure_cmd.add_argument("only", nargs="*", help="file names to measure (default: all)")
    args = parser.parse_args(argv)
    directory = args.directory or find_registry() or DEFAULT_DIRECTORY
    if args.command == "measure":
        return _measure(directory, args.wall, args.memory_gib, frozenset(args.only))
    try:
        written = fetch(directory)
    except FetchError as exc:
        print(f"registry corpus: {exc}", file=sys.stderr)
        return 2
    print(f"registry corpus: {len(written)} documents in {directory}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
