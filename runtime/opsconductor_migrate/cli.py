"""`opsconductor-migrate`: rewrite a service from the old `shared` package onto the library.

    opsconductor-migrate PATH...                 show the change as a unified diff
    opsconductor-migrate PATH... --write         write it
    opsconductor-migrate PATH... --format json   the diff, counts and manual steps as JSON

Text output: the diff on standard output (so `> change.patch` is a patch), the manual steps
(`path:line: what — step`), input errors and a summary on standard error.

Exit codes:
    0  nothing is left to do by hand (whether or not anything was changed)
    1  manual steps remain (listed); everything else was shown or written
    2  bad input: a path is missing or holds no Python, or a file is not readable,
       not UTF-8 (or its declared encoding), too large, or not valid Python; the other
       files are still migrated and reported
    3  the codemod failed on a file (a bug): that file is left as it is
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from ._run import DEFAULT_MAX_FILE_BYTES, MigrationReport, migrate_paths

__all__ = ["EXIT_BAD_INPUT", "EXIT_INTERNAL", "EXIT_MANUAL", "EXIT_OK", "main"]

EXIT_OK = 0
EXIT_MANUAL = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="opsconductor-migrate",
        description="Rewrite a service from the old `shared` package and plain HTTPExceptions "
        "onto opsconductor-shared. Shows a unified diff unless --write is given.",
        epilog="Exit codes: 0 nothing left by hand, 1 manual steps remain, 2 bad input, "
        "3 the codemod failed on a file. See docs/migration-codemod.md.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files or directories")
    parser.add_argument("--write", action="store_true", help="write the changes to the files")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="GLOB",
        help="skip files and directories matching GLOB (repeatable), such as '*/shared'",
    )
    parser.add_argument(
        "--max-file-size",
        type=int,
        default=DEFAULT_MAX_FILE_BYTES,
        metavar="BYTES",
        help=f"refuse larger files (default {DEFAULT_MAX_FILE_BYTES})",
    )
    return parser


def exit_code(report: MigrationReport) -> int:
    """The exit code of a run (see the module docstring)."""
    if any(error.internal for error in report.errors):
        return EXIT_INTERNAL
    if report.errors:
        return EXIT_BAD_INPUT
    if report.manual:
        return EXIT_MANUAL
    return EXIT_OK


def summary(report: MigrationReport) -> dict[str, Any]:
    """The run's figures: files, lines changed, rewrites by kind, manual steps."""
    added, removed = report.lines_changed()
    return {
        "files": len(report.files),
        "files_changed": sum(1 for f in report.files if f.changed),
        "lines_added": added,
        "lines_removed": removed,
        "rewrites": dict(sorted(report.rewrites.items())),
        "manual_steps": len(report.manual),
        "errors": len(report.errors),
    }


def _text(report: MigrationReport, *, wrote: bool, out: TextIO, err: TextIO) -> None:
    for result in report.files:
        if result.changed and not wrote:
            out.write(result.diff())
        elif result.changed:
            err.write(f"rewrote {result.path}\n")
    for step in report.manual:
        err.write(step.render() + "\n")
    for error in report.errors:
        err.write(f"error: {error.path}: {error.message}\n")
    figures = summary(report)
    kinds = ", ".join(f"{kind} {count}" for kind, count in figures["rewrites"].items())
    err.write(
        f"{figures['files_changed']} of {figures['files']} files "
        f"{'changed' if wrote else 'to change'} (+{figures['lines_added']} "
        f"-{figures['lines_removed']} lines); {sum(figures['rewrites'].values())} rewrites"
        f"{f' ({kinds})' if kinds else ''}; {figures['manual_steps']} manual steps"
        f"{f'; {len(report.errors)} errors' if report.errors else ''}\n"
    )


def _json(report: MigrationReport, code: int, out: TextIO) -> None:
    document = {
        "files": [
            {
                "path": result.path,
                "changed": result.changed,
                "rewrites": dict(sorted(result.rewrites.items())),
                "diff": result.diff(),
            }
            for result in report.files
        ],
        "manual_steps": [
            {"path": s.path, "line": s.line, "what": s.what, "step": s.step} for s in report.manual
        ],
        "errors": [
            {"path": e.path, "error": e.message, "internal": e.internal} for e in report.errors
        ],
        "summary": summary(report),
        "exit_code": code,
    }
    json.dump(document, out, indent=2, ensure_ascii=False)
    out.write("\n")


def main(
    argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run the command line (see the module docstring); returns the exit code."""
    out = out or sys.stdout
    err = err or sys.stderr
    args = _parser().parse_args(argv)
    if args.max_file_size <= 0:
        err.write("error: --max-file-size must be a positive number of bytes\n")
        return EXIT_BAD_INPUT
    report = migrate_paths(args.paths, exclude=args.exclude, max_bytes=args.max_file_size)
    code = exit_code(report)
    if args.write:
        for result in report.files:
            try:
                result.write()
            except OSError as exc:
                err.write(f"error: {result.path}: cannot write it ({exc.strerror or exc})\n")
                code = EXIT_BAD_INPUT
    if args.format == "json":
        _json(report, code, out)
    else:
        _text(report, wrote=args.write, out=out, err=err)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
