"""`opsconductor-contracts`: the command line of the conformance tooling.

    opsconductor-contracts validate SOURCE... [--format F] [--strict] [--config PATH]
                                      (several sources: the fleet view first; --format html:
                                      the fleet page, see `fleet`)
    opsconductor-contracts breaking OLD NEW | --against REF [NEW] | --against-dir DIR [NEW]
                                      [--schemas DIR]
    opsconductor-contracts lint [DIRECTORY]
    opsconductor-contracts rules

Exit codes: 0 clean, 1 findings that fail the run (errors, or warnings with `--strict`),
2 bad usage or unreadable input, with a one-line reason on stderr, 3 a defect of this tool (an
unexpected exception: one line naming it, and "please report"; never a traceback, and never 1,
so CI can tell a crash from a failed check), 141 when the reader of the output went away
(`opsconductor-contracts rules | head`), quietly, as a command that SIGPIPE ended.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, NoReturn

from .api import load_api, load_api_at_ref
from .breaking import CONTRACTS_SERVICE, compare_apis
from .config import Config, ConfigError, load_config
from .document import SharedContracts
from .fleet import FLEET_FORMATS, render_fleet
from .report import FORMATS, Report, render_report
from .rules import BREAKING, LINT, RULES, VALIDATE, Rule, lint_schema_dir
from .schemaset import SchemaSet, SchemaSetError, load_schema_dir, shared_schema_dir
from .source import DEFAULT_TIMEOUT, SourceError, load_source
from .validate import validate_sources

__all__ = ["CONFIGURABLE_RULES", "main"]

PROG = "opsconductor-contracts"
EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_DEFECT = 3
POSITIONED_FORMATS = frozenset({"sarif", "github"})
"""The formats that show each finding's line and column (so only they pay for finding them)."""
EXIT_BROKEN_PIPE = 128 + 13  # SIGPIPE's number on every POSIX system
CONFIGURABLE_RULES: tuple[Rule, ...] = RULES.rules(VALIDATE, BREAKING)
"""The rules a configuration may name: those of `validate` and `breaking`."""


class _UsageError(Exception):
    """Bad usage or unreadable input: exit 2 with this one-line message."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{message} (see {self.prog} --help)")


def _timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(
            f"must be a positive finite number of seconds, such as 10 (not {text!r})"
        )
    return value


def _config(args: argparse.Namespace) -> Config:
    if args.no_config:
        return Config()
    return load_config(args.config, known_rules=[known.id for known in CONFIGURABLE_RULES])


def _use_color(args: argparse.Namespace, stream: IO[str]) -> bool:
    if args.color != "auto":
        return bool(args.color == "always")
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb" or args.output:
        return False
    return stream.isatty()


def _emit(report: Report, args: argparse.Namespace, text: str | None = None) -> int:
    if text is None:
        text = render_report(report, args.format, color=_use_color(args, sys.stdout))
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise _UsageError(f"cannot write {args.output}: {exc.strerror or exc}") from exc
    else:
        sys.stdout.write(text)
    return EXIT_OK if report.passed else EXIT_FINDINGS


def _schemas(directory: str | None, *, default_local: bool) -> tuple[SchemaSet, Path]:
    if directory:
        path = Path(directory)
    elif default_local and Path("schemas").is_dir():
        path = Path("schemas")
    else:
        path = shared_schema_dir()
    try:
        return load_schema_dir(path), path
    except SchemaSetError as exc:
        first = exc.problems[0]
        more = (
            f" (and {len(exc.problems) - 1} more problem(s); run `{PROG} lint {path}`)"
            if len(exc.problems) > 1
            else ""
        )
        raise _UsageError(f"{first}{more}") from exc


def _validate(args: argparse.Namespace) -> int:
    config = _config(args)
    contracts = (
        SharedContracts(_schemas(args.schemas, default_local=False)[0])
        if args.schemas
        else SharedContracts.load()
    )
    sources = [
        load_source(source, timeout=args.timeout, allow_remote_refs=args.allow_remote_refs)
        for source in args.sources
    ]
    report = validate_sources(
        sources,
        contracts=contracts,
        config=config,
        strict=args.strict,
        positions=args.format in POSITIONED_FORMATS,
    )
    if args.format == "html" or (len(sources) > 1 and args.format in FLEET_FORMATS):
        documents = [source.document for source in sources]
        color = _use_color(args, sys.stdout)
        return _emit(report, args, render_fleet(report, documents, args.format, color=color))
    return _emit(report, args)


def _schema_path(directory: str | None) -> Path:
    if directory:
        return Path(directory)
    return Path("schemas") if Path("schemas").is_dir() else shared_schema_dir()


def _breaking(args: argparse.Namespace) -> int:
    config = _config(args)
    paths = [Path(p) for p in args.paths]
    if len(paths) > 2:
        raise _UsageError("breaking compares two versions: give OLD NEW, or --against REF [NEW]")
    if len(paths) == 2:
        if args.against or args.against_dir or args.schemas:
            raise _UsageError(
                "give either OLD NEW, or --against REF / --against-dir DIR with one NEW, not both"
            )
        old, new = load_api(paths[0]), load_api(paths[1])
    else:
        if paths and args.schemas:
            raise _UsageError("give NEW or --schemas DIR, not both")
        new_path = paths[0] if paths else _schema_path(args.schemas)
        if args.against_dir:
            old = load_api(args.against_dir)
        elif args.against:
            old = load_api_at_ref(new_path, args.against)
        else:
            raise _UsageError(
                "breaking needs OLD NEW, --against REF (a git revision) or --against-dir DIR"
            )
        new = load_api(new_path)
    service = CONTRACTS_SERVICE if len(new.files) > 1 or Path(new.label).is_dir() else None
    name = service or new.title or "service"
    findings = compare_apis(old, new, service=name)
    report = Report.build(
        BREAKING,
        findings,
        services=[(name, new.label)],
        rules=RULES.rules(BREAKING),
        contracts_version=new.version or "unversioned",
        config=config,
        strict=args.strict,
    )
    return _emit(report, args)


def _lint(args: argparse.Namespace) -> int:
    directory = Path(args.directory) if args.directory else shared_schema_dir()
    if not directory.is_dir():
        raise _UsageError(f"{directory} is not a directory")
    findings = lint_schema_dir(directory)
    for finding in findings:
        print(finding)
    if findings:
        print(f"{len(findings)} finding(s) in {directory}", file=sys.stderr)
        return EXIT_FINDINGS
    print(f"{directory}: clean")
    return EXIT_OK


def _rules(_args: argparse.Namespace) -> int:
    for kind in (VALIDATE, BREAKING, LINT):
        print(f"{kind}:")
        for known in RULES.rules(kind):
            print(f"  {known.id:<30} {known.severity.value:<8} {known.summary}")
    return EXIT_OK


def _output_options(parser: argparse.ArgumentParser, *extra_formats: str) -> None:
    parser.add_argument(
        "--format",
        "-f",
        choices=[*FORMATS, *extra_formats],
        default="text",
        help="output format (default: text)",
    )
    parser.add_argument(
        "--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout"
    )
    parser.add_argument("--strict", action="store_true", help="warnings fail the run too")
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="contracts.yaml or pyproject.toml (default: found from the working directory up)",
    )
    parser.add_argument("--no-config", action="store_true", help="ignore any configuration file")
    parser.add_argument(
        "--color",
        choices=["auto", "always", "never"],
        default="auto",
        help="colour the text format (default: auto, on a terminal)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Check OpenAPI documents and schemas against the OpsConductor contracts.",
        epilog="Exit codes: 0 clean, 1 findings (errors, or warnings with --strict), 2 bad usage or unreadable input, 3 a defect of this tool (please report it).",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    validate = commands.add_parser(
        "validate", help="check services' OpenAPI documents against the shared contracts"
    )
    validate.add_argument(
        "sources",
        nargs="+",
        metavar="SOURCE",
        help="openapi.json/.yaml file, http(s) URL, or package.module:app",
    )
    validate.add_argument(
        "--schemas",
        metavar="DIR",
        help="contract schema directory (default: the shipped shared schemas)",
    )
    validate.add_argument(
        "--timeout",
        type=_timeout,
        default=DEFAULT_TIMEOUT,
        help=f"seconds to wait for a URL, in total (default: {DEFAULT_TIMEOUT:g})",
    )
    validate.add_argument(
        "--allow-remote-refs",
        action="store_true",
        help="fetch a file's http(s) $refs (refused by default), bounded by --timeout in all",
    )
    _output_options(validate, "html")  # the fleet page (see `fleet`)
    validate.set_defaults(handler=_validate)
    breaking = commands.add_parser(
        "breaking",
        help="report breaking changes between two versions of an API (a service's or the shared schemas)",
    )
    breaking.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="OLD NEW: two OpenAPI 3.0/3.1 documents or directories (JSON or YAML); with --against or --against-dir, only NEW (default: --schemas)",
    )
    against = breaking.add_mutually_exclusive_group()
    against.add_argument(
        "--against",
        metavar="REF",
        help="git revision to compare with: NEW's own path at that revision (main, v1.2.0, HEAD~1)",
    )
    against.add_argument(
        "--against-dir", metavar="DIR", help="directory of older schemas (an unpacked release)"
    )
    breaking.add_argument(
        "--schemas",
        metavar="DIR",
        help="the schemas as they are now, when no NEW is given (default: ./schemas, else the shipped ones)",
    )
    _output_options(breaking)
    breaking.set_defaults(handler=_breaking)
    lint = commands.add_parser("lint", help="lint a directory of contract schemas")
    lint.add_argument(
        "directory", nargs="?", help="schema directory (default: the shipped shared schemas)"
    )
    lint.set_defaults(handler=_lint)
    rules = commands.add_parser("rules", help="list every rule with its id and default severity")
    rules.set_defaults(handler=_rules)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (0 clean, 1 findings, 2 bad usage or
    input, 3 a defect of this tool, 141 the output's reader went away)."""
    try:
        return _run(argv)
    except BrokenPipeError:
        # The reader closed the pipe (`| head`): not an error of ours. What is still
        # buffered would fail again when Python flushes at exit, so it goes nowhere.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_BROKEN_PIPE


def _run(argv: Sequence[str] | None) -> int:
    try:
        args = _parser().parse_args(argv)
        code = int(args.handler(args))
    except SystemExit as exc:  # --help and --version
        code = int(exc.code or 0)
    except (_UsageError, SourceError, ConfigError, FileNotFoundError) as exc:
        return _usage(" ".join(str(exc).split()))
    except RecursionError:
        return _usage("the input nests too deeply to check")
    except BrokenPipeError:
        raise
    except Exception as exc:  # the one crash boundary: a defect of ours, exit 3, never 1
        return _defect(exc)
    sys.stdout.flush()  # a closed pipe shows here, inside `main`, not at exit
    return code


def _defect(exc: Exception) -> int:
    where = exc.__traceback__
    while where is not None and where.tb_next is not None:
        where = where.tb_next
    at = ""
    if where is not None:
        code = where.tb_frame.f_code
        at = f" in {Path(code.co_filename).name}:{where.tb_lineno} ({code.co_name})"
    reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
    print(
        f"{PROG}: internal error{at}: {reason}; this is a defect of {PROG}, not of your input: "
        "please report it to the opsconductor-shared maintainers with the command line",
        file=sys.stderr,
    )
    return EXIT_DEFECT


def _usage(message: str) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
