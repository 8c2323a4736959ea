"""The corpus of real public OpenAPI documents: its manifest, its files, and a capped runner.

`tests/fixtures/real/SOURCES.md` is the manifest: every document with its repository, commit,
path, licence, size and sha256; the pairs for `breaking`; the multi-file roots; our synthetic
documents. `read_sources` parses it (the corpus test and this module's driver share it).

The real documents are not in this repository: what the `fetch` tool brings out of public
repositories is not committed by developers (see `tests/fixtures/real/README.md`).
`find_documents` looks for the directory that holds them, in this order: `$OPSCONDUCTOR_REAL_CORPUS`,
`tests/fixtures/real/documents/` (git-ignored), `shared/openapi-corpus/` beside the checkout.

`python -m bench.corpus` runs today's `opsconductor-contracts validate FILE --format json` on
every document and `breaking OLD NEW` on every pair, one at a time, niced, each under a wall-clock and
an address-space cap, and prints the table of `tests/fixtures/real/BASELINE.md` (exit code,
wall time, peak RSS, findings, the exception line of any traceback). Not part of `make bench`.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime as dt
import hashlib
import io
import json
import lzma
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.common import ROOT

CORPUS = ROOT / "tests" / "fixtures" / "real"
SOURCES = CORPUS / "SOURCES.md"
SYNTHETIC = CORPUS / "synthetic"
LICENCES = "licenses"
ENV_VAR = "OPSCONDUCTOR_REAL_CORPUS"
ALLOWED_LICENCES = frozenset(
    {"MIT", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "CC0-1.0", "CC-BY-4.0"}
)
DEFAULT_WALL_S = 120.0
DEFAULT_MEMORY_BYTES = 3 * 2**30
DEFAULT_NICE = 10
_TRACEBACK = "Traceback (most recent call last):"
GNU_TIME = Path("/usr/bin/time")
_REPORT_S = 5.0  # how long GNU time may take to report on a command killed at its cap


@dataclass(frozen=True, kw_only=True)
class Document:
    """One real document of the corpus, as SOURCES.md lists it."""

    file: str
    repository: str
    commit: str
    path: str
    licence: str
    licence_copy: str
    size: int
    sha256: str
    openapi: str
    format: str

    @property
    def is_tree(self) -> bool:
        """A multi-file specification, kept as one `.tar.xz` of its directory tree."""
        return self.file.endswith(".tar.xz")


@dataclass(frozen=True, kw_only=True)
class Pair:
    """Two versions of one API, for `breaking`."""

    old: str
    new: str
    change: str


@dataclass(frozen=True, kw_only=True)
class Sources:
    """Everything SOURCES.md lists."""

    documents: tuple[Document, ...]
    roots: Mapping[str, str]
    pairs: tuple[Pair, ...]
    synthetic: tuple[str, ...]
    licence_copies: tuple[str, ...]

    def document(self, file: str) -> Document:
        """The listed document named `file`."""
        for document in self.documents:
            if document.file == file:
                return document
        raise KeyError(file)


def _cell(text: str) -> str:
    return text.strip().strip("`").strip()


def read_tables(markdown: str) -> dict[str, list[dict[str, str]]]:
    """Each `## heading`'s first table, as rows keyed by the lower-cased column names."""
    tables: dict[str, list[dict[str, str]]] = {}
    heading = ""
    header: list[str] | None = None
    for line in markdown.splitlines():
        if line.startswith("## "):
            heading, header = line[3:].strip().lower(), None
            continue
        if not line.startswith("|"):
            header = None
            continue
        cells = [_cell(c) for c in line.strip().strip("|").split("|")]
        if header is None:
            header = [c.lower() for c in cells]
            tables.setdefault(heading, [])
        elif not all(set(c) <= set("-: ") for c in cells):
            tables[heading].append(dict(zip(header, cells, strict=True)))
    return tables


def read_sources(path: Path = SOURCES) -> Sources:
    """Parse SOURCES.md (its tables: documents, multi-file roots, pairs, synthetic, licences)."""
    tables = read_tables(path.read_text(encoding="utf-8"))
    documents = tuple(
        Document(
            file=row["file"],
            repository=row["repository"],
            commit=row["commit"],
            path=row["path"],
            licence=row["licence"],
            licence_copy=row["licence copy"],
            size=int(row["size"].replace(",", "")),
            sha256=row["sha256"],
            openapi=row["openapi"],
            format=row["format"],
        )
        for row in tables["documents"]
    )
    return Sources(
        documents=documents,
        roots={row["file"]: row["root"] for row in tables["multi-file specifications"]},
        pairs=tuple(
            Pair(old=row["old"], new=row["new"], change=row["change"])
            for row in tables["pairs for breaking"]
        ),
        synthetic=tuple(row["file"] for row in tables["synthetic documents"]),
        licence_copies=tuple(row["copy"] for row in tables["licence texts"]),
    )


def find_documents(environ: Mapping[str, str] = os.environ) -> Path | None:
    """The directory holding the real documents, or None when this machine has none."""
    if environ.get(ENV_VAR):
        return Path(environ[ENV_VAR])
    for candidate in (CORPUS / "documents", ROOT.parent / "shared" / "openapi-corpus"):
        if candidate.is_dir():
            return candidate
    return None


def decompress(document: Document, directory: Path) -> bytes:
    """The document's original bytes (for a tree: the tar archive)."""
    return lzma.decompress((directory / document.file).read_bytes())


def digest(data: bytes) -> str:
    """The sha256 that SOURCES.md records for `data`."""
    return hashlib.sha256(data).hexdigest()


def unpack(sources: Sources, document: Document, directory: Path, dest: Path, name: str) -> Path:
    """Write the document into `dest` as `name` (a tree: its root file) and return that path."""
    data = decompress(document, directory)
    if not document.is_tree:
        target = dest / name
        target.write_bytes(data)
        return target
    tree = dest / name
    tree.mkdir()
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(tree, filter="data")
    return tree / sources.roots[document.file]


@dataclass(kw_only=True)
class Capped:
    """What one capped run of a command did."""

    code: int | None
    wall_s: float
    cpu_s: float
    peak_rss_bytes: int
    timed_out: bool
    stdout: str = field(repr=False)
    stderr: str = field(repr=False)


def run_capped(
    argv: Sequence[str],
    *,
    cwd: Path,
    wall_s: float = DEFAULT_WALL_S,
    memory_bytes: int = DEFAULT_MEMORY_BYTES,
    niceness: int = DEFAULT_NICE,
) -> Capped:
    """Run `argv` niced, under an address-space cap, killed after `wall_s`; measure it.

    `nice` and `prlimit` exec in place. Linux carries a process's RSS high-water mark across
    `exec`, so a child forked from this driver starts with the driver's RSS as its peak: where
    GNU time (`/usr/bin/time`) is installed, it runs the command as its own child (forked from
    a process of 2 MiB) and its `%M` is the command's peak RSS; without it, `ru_maxrss` from
    `wait4` is an upper bound that includes the driver's RSS at fork.
    """
    capped = ["nice", "-n", str(niceness), "prlimit", f"--as={memory_bytes}", "--"]
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile(prefix="rss-") as rss,
    ):
        if GNU_TIME.is_file():
            capped += [str(GNU_TIME), "--format=%M", f"--output={rss.name}"]
        capped += argv
        start = time.perf_counter()
        process = subprocess.Popen(capped, cwd=cwd, stdout=out, stderr=err, start_new_session=True)
        deadline = start + wall_s
        timed_out = False
        pid = 0
        try:
            while True:
                pid, status, usage = os.wait4(process.pid, os.WNOHANG)
                if pid:
                    break
                if time.perf_counter() >= deadline:
                    timed_out = True
                    break
                time.sleep(0.02)
        finally:
            if not pid:  # past the deadline, or the driver itself was interrupted
                pid, status, usage = _stop(process.pid)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Capped(
            code=None if timed_out else process.returncode,
            wall_s=wall,
            cpu_s=usage.ru_utime + usage.ru_stime,
            peak_rss_bytes=_measured_rss(Path(rss.name)) or usage.ru_maxrss * 1024,
            timed_out=timed_out,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
        )


def _stop(pid: int) -> tuple[int, int, resource.struct_rusage]:
    """Kill a capped run and reap it. GNU time's child is killed first and time given a moment
    to reap it, so what the command used until then is still reported; then the whole group."""
    with contextlib.suppress(OSError, ValueError):
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            os.kill(int(child), signal.SIGKILL)
    deadline = time.perf_counter() + _REPORT_S
    while True:
        reaped, status, usage = os.wait4(pid, os.WNOHANG)
        if reaped or time.perf_counter() >= deadline:
            break
        time.sleep(0.02)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    if not reaped:
        reaped, status, usage = os.wait4(pid, 0)
    return reaped, status, usage


def _measured_rss(path: Path) -> int | None:
    """GNU time's `%M` (KiB) in bytes; None when it wrote none (the run was killed)."""
    lines = path.read_text(encoding="utf-8", errors="replace").split()
    return int(lines[-1]) * 1024 if lines and lines[-1].isdigit() else None


@dataclass(kw_only=True)
class Result:
    """One baseline row."""

    command: str
    subject: str
    size: int
    code: int | None
    wall_s: float
    cpu_s: float
    peak_rss_mib: float
    timed_out: bool
    findings: int | None
    by_severity: dict[str, int]
    by_rule: dict[str, int]
    traceback: str | None
    stderr_first_line: str | None


def _summarise(command: str, subject: str, size: int, run: Capped, scratch: Path) -> Result:
    findings: int | None = None
    by_severity: dict[str, int] = {}
    by_rule: dict[str, int] = {}
    with contextlib.suppress(ValueError, TypeError, KeyError):
        report = json.loads(run.stdout)
        items = report["findings"]
        findings = len(items)
        by_severity = dict(collections.Counter(str(f.get("severity")) for f in items))
        by_rule = dict(collections.Counter(str(f.get("rule")) for f in items))
    stderr = run.stderr.replace(str(scratch), "$TMP")
    lines = [line for line in stderr.splitlines() if line.strip()]
    traceback = None
    if any(line.startswith(_TRACEBACK) for line in lines):
        traceback = lines[-1].strip()
    return Result(
        command=command,
        subject=subject,
        size=size,
        code=run.code,
        wall_s=round(run.wall_s, 2),
        cpu_s=round(run.cpu_s, 2),
        peak_rss_mib=round(run.peak_rss_bytes / 2**20, 1),
        timed_out=run.timed_out,
        findings=findings,
        by_severity=by_severity,
        by_rule=by_rule,
        traceback=traceback,
        stderr_first_line=lines[0].strip() if lines else None,
    )


def _cli() -> str:
    return str(Path(sys.executable).with_name("opsconductor-contracts"))


def _subjects(sources: Sources, only: frozenset[str]) -> Iterator[tuple[str, int, Document | Path]]:
    for document in sources.documents:
        if not only or document.file in only:
            yield document.file, document.size, document
    for name in sources.synthetic:
        if not only or name in only:
            path = SYNTHETIC / name
            yield f"synthetic/{name}", path.stat().st_size, path


def measure(
    sources: Sources, directory: Path, *, wall_s: float, memory_bytes: int, only: frozenset[str]
) -> list[Result]:
    """Validate every document (and synthetic one), then `breaking` on every pair."""
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="corpus-") as scratch:
        work = Path(scratch)
        cwd = work / "cwd"
        cwd.mkdir()
        for label, size, subject in _subjects(sources, only):
            if isinstance(subject, Document):
                dest = work / "validate"
                dest.mkdir()
                name = subject.file.removesuffix(".xz").removesuffix(".tar")
                target = unpack(sources, subject, directory, dest, name)
                # a multi-file specification is validated from its top directory, as CI would
                here = dest / name if subject.is_tree else cwd
            else:
                dest, target, here = None, subject, cwd
            run = run_capped(
                [_cli(), "validate", str(target), "--format", "json"],
                cwd=here,
                wall_s=wall_s,
                memory_bytes=memory_bytes,
            )
            results.append(_summarise("validate", label, size, run, work))
            print(_line(results[-1]), file=sys.stderr, flush=True)
            if dest is not None:
                shutil.rmtree(dest)
        for pair in sources.pairs:
            if only and pair.old not in only and pair.new not in only:
                continue
            old, new = sources.document(pair.old), sources.document(pair.new)
            extension = Path(new.file.removesuffix(".xz")).suffix
            sides = {}
            for side, document in (("old", old), ("new", new)):
                (work / "breaking" / side).mkdir(parents=True)
                sides[side] = unpack(
                    sources, document, directory, work / "breaking" / side, f"openapi{extension}"
                )
            run = run_capped(
                [_cli(), "breaking", str(sides["old"]), str(sides["new"]), "--format", "json"],
                cwd=cwd,
                wall_s=wall_s,
                memory_bytes=memory_bytes,
            )
            label = f"{pair.old} -> {pair.new}"
            results.append(_summarise("breaking", label, old.size + new.size, run, work))
            print(_line(results[-1]), file=sys.stderr, flush=True)
            shutil.rmtree(work / "breaking")
    return results


def _line(result: Result) -> str:
    code = "killed" if result.timed_out else str(result.code)
    return (
        f"{result.command} {result.subject}: exit {code}, {result.wall_s} s wall, "
        f"{result.cpu_s} s CPU, {result.peak_rss_mib} MiB"
    )


def _outcome(result: Result) -> str:
    if result.timed_out:
        return "killed at the wall-clock cap, nothing printed"
    if result.traceback:
        return f"traceback: `{result.traceback}`"
    if result.findings is None and result.stderr_first_line:
        return f"stderr: `{result.stderr_first_line}`"
    return ""


def table(results: Sequence[Result]) -> str:
    """The markdown table of BASELINE.md."""
    lines = [
        "| command | document | size (bytes) | exit | wall (s) | CPU (s) | peak RSS (MiB) | findings (error/warning/info) | findings by rule | outcome |",
        "|---|---|---:|---|---:|---:|---:|---|---|---|",
    ]
    for r in results:
        code = "killed" if r.timed_out else str(r.code)
        if r.findings is None:
            findings, rules = "-", "-"
        else:
            counts = "/".join(str(r.by_severity.get(s, 0)) for s in ("error", "warning", "info"))
            findings = f"{r.findings} ({counts})"
            rules = ", ".join(f"{k} {v}" for k, v in sorted(r.by_rule.items())) or "none"
        lines.append(
            f"| {r.command} | `{r.subject}` | {r.size:,} | {code} | {r.wall_s:.2f} | {r.cpu_s:.2f} | {r.peak_rss_mib:.0f} | {findings} | {rules} | {_outcome(r)} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=Path, help="directory of the real documents")
    parser.add_argument("--wall", type=float, default=DEFAULT_WALL_S, help="seconds per run")
    parser.add_argument("--memory-gib", type=float, default=DEFAULT_MEMORY_BYTES / 2**30)
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("only", nargs="*", help="file names to measure (default: all)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so a running child is killed too
    directory = args.documents or find_documents()
    if directory is None:
        parser.error(f"no corpus directory found; set {ENV_VAR} or pass --documents")
    sources = read_sources()
    started = dt.datetime.now(dt.UTC)
    load_before = os.getloadavg()
    results = measure(
        sources,
        directory,
        wall_s=args.wall,
        memory_bytes=int(args.memory_gib * 2**30),
        only=frozenset(args.only),
    )
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    if args.json:
        meta = {
            "started": started.isoformat(timespec="seconds"),
            "commit": commit,
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "wall_cap_s": args.wall,
            "memory_cap_gib": args.memory_gib,
            "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "load_average_before": load_before,
            "load_average_after": os.getloadavg(),
        }
        payload = {"meta": meta, "results": [asdict(r) for r in results]}
        args.json.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    print(table(results), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
