"""`opsconductor-service`: the command line of the scaffold.

    opsconductor-service new NAME [--dest DIR] [--source SOURCE] [--data KEY=VALUE ...] [--defaults]

Exit codes: 0 created, 2 bad usage or the service cannot be made (one line on stderr).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ._scaffold import SOURCE_ENV_VAR, ScaffoldError, new_service

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="opsconductor-service", description="Start a new OpsConductor service."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    new = commands.add_parser("new", help="a new service repository from the service template")
    new.add_argument("name", help="the service's short name, such as 'jobs' (-> jobs-service)")
    new.add_argument("--dest", type=Path, help="the directory to create (default: NAME-service)")
    new.add_argument(
        "--source",
        help=f"where its `make test` installs opsconductor-shared from: a path, a git URL or a "
        f"wheel (default: ${SOURCE_ENV_VAR}, or where this library was installed from)",
    )
    new.add_argument(
        "--data",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="answer a template question (description, resource, port); repeatable",
    )
    new.add_argument(
        "--defaults",
        action="store_true",
        help="ask nothing, take every default (the default when stdin is not a terminal)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    answers: dict[str, str] = {}
    for item in args.data:
        key, sep, value = item.partition("=")
        if not sep or not key:
            print(f"opsconductor-service: --data wants KEY=VALUE, not {item!r}", file=sys.stderr)
            return 2
        answers[key] = value
    destination = args.dest or Path(f"{args.name}-service")
    interactive = not args.defaults and sys.stdin.isatty()
    try:
        new_service(
            args.name, destination, source=args.source, answers=answers, interactive=interactive
        )
    except ScaffoldError as exc:
        print(f"opsconductor-service: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("opsconductor-service: interrupted", file=sys.stderr)
        return 130
    print(f"created {destination}: cd {destination} && make test")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
