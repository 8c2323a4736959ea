"""`opsconductor-contracts`: the command line of the contract tooling."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ._lint import lint_schema_dir
from ._shipped import shared_schema_dir

__all__ = ["main"]

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2


def _lint(args: argparse.Namespace) -> int:
    directory = Path(args.directory) if args.directory else shared_schema_dir()
    if not directory.is_dir():
        print(f"opsconductor-contracts: {directory} is not a directory", file=sys.stderr)
        return EXIT_USAGE
    findings = lint_schema_dir(directory)
    for finding in findings:
        print(finding)
    if findings:
        print(f"{len(findings)} finding(s) in {directory}", file=sys.stderr)
        return EXIT_FINDINGS
    print(f"{directory}: clean")
    return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="opsconductor-contracts",
        description="Check OpenAPI documents and schemas against the OpsConductor contracts.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    lint = commands.add_parser("lint", help="lint a directory of contract schemas")
    lint.add_argument(
        "directory", nargs="?", help="schema directory (default: the shipped shared schemas)"
    )
    lint.set_defaults(handler=_lint)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (0 clean, 1 findings, 2 bad usage)."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
