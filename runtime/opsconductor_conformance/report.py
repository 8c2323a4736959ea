"""A run's result and every way to show it: findings, the report, and its output formats.

`Report.build` applies a configuration to a run's findings (rules off, severity overrides,
ignores), keeps each finding once, orders them per service (errors first), and summarises each
service; `passed` and `exit_code` follow from it. `render_report` writes the report as:

- `text`: grouped per service, colour only when asked for (the CLI asks on a terminal);
- `json`: `{"findings": [...], "summary": {...}}`;
- `sarif`: SARIF 2.1.0 for code scanning (GitHub, Azure DevOps, IDEs), the pointer as a
  logical location;
- `junit`: one test suite per service, one test case per rule;
- `github`: workflow annotations;
- `markdown`: for a pull-request comment; every finding, those past `MARKDOWN_MAX_ROWS` folded
  in a `<details>` block.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree as ET

if TYPE_CHECKING:
    from .config import Config
    from .rules import Rule

__all__ = [
    "FORMATS",
    "Finding",
    "MARKDOWN_MAX_ROWS",
    "Report",
    "ServiceSummary",
    "Severity",
    "render_report",
]

MARKDOWN_MAX_ROWS = 200
SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)


class Severity(StrEnum):
    """How much a finding matters: errors fail a run, warnings fail it only with `--strict`."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for errors, 1 for warnings, 2 for infos: the order findings are listed in."""
        return _RANKS[self]


_RANKS = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass(frozen=True)
class Finding:
    """One place where a document or a schema change breaks a rule.

    `pointer` is a JSON pointer (RFC 6901) into the document named by `location` (a file, a URL
    or an import string); `service` names the service (or `contracts` for `breaking`).
    """

    rule: str
    severity: Severity
    service: str
    pointer: str
    message: str
    location: str = ""
    line: int | None = field(default=None, compare=False)
    """Where `pointer` sits in the location's text (from 1), when known (SARIF, GitHub)."""
    column: int | None = field(default=None, compare=False)

    def sort_key(self) -> tuple[str, str, int, str, str, str]:
        """Findings are listed per service (and source), errors first, then by pointer and rule."""
        return (
            self.service,
            self.location,
            self.severity.rank,
            self.pointer,
            self.rule,
            self.message,
        )

    def __str__(self) -> str:
        return (
            f"{self.service}: {self.severity} [{self.rule}] {self.pointer or '/'}: {self.message}"
        )


def _belongs(finding: Finding, service: str, location: str) -> bool:
    """Whether a finding is one of a source's: its own location, or a file inside it (a
    `breaking` finding names the schema file inside the compared directory)."""
    if finding.service != service:
        return False
    where = finding.location or ""
    return where == location or where.startswith(location.rstrip("/") + "/")


def _owner(finding: Finding, services: Sequence[tuple[str, str]]) -> int | None:
    """The index of the source a finding is listed under: the one it belongs to, else the first
    of its service (a `breaking` finding in the old version, such as a removed component, names
    the old file), else the first; so every output format lists every finding once."""
    for index, (name, location) in enumerate(services):
        if _belongs(finding, name, location):
            return index
    for index, (name, _) in enumerate(services):
        if name == finding.service:
            return index
    return 0 if services else None


@dataclass(frozen=True)
class ServiceSummary:
    """How one service (or the contracts, for `breaking`) fared."""

    service: str
    location: str
    errors: int = 0
    warnings: int = 0
    infos: int = 0
    ignored: int = 0


@dataclass(frozen=True)
class Report:
    """The findings of one run of `validate` or `breaking`, configuration applied."""

    command: str
    findings: tuple[Finding, ...]
    services: tuple[ServiceSummary, ...]
    rules: tuple[Rule, ...]
    contracts_version: str
    ignored: int = 0
    strict: bool = False

    @classmethod
    def build(
        cls,
        command: str,
        findings: Iterable[Finding],
        *,
        services: Sequence[tuple[str, str]],
        rules: Sequence[Rule],
        contracts_version: str,
        config: Config | None = None,
        strict: bool = False,
    ) -> Report:
        """Apply `config` (rules off, severity overrides, ignores) and summarise per service.

        Args:
            services: (service name, location) of every service checked, in order.
            rules: the rules of the run (those the configuration turns off are left out).
            config: none means every rule at its default severity, nothing ignored.
        """
        kept: dict[tuple[str, str, str, str, str], Finding] = {}
        ignored: list[Finding] = []
        for raw in findings:
            finding = raw
            if config is not None:
                if not config.enabled(raw.rule):
                    continue
                finding = replace(raw, severity=config.severity(raw.rule, raw.severity))
                if config.ignored(finding):
                    ignored.append(finding)
                    continue
            key = (
                finding.service,
                finding.location,
                finding.rule,
                finding.pointer,
                finding.message,
            )
            kept.setdefault(key, finding)
        ordered = tuple(sorted(kept.values(), key=Finding.sort_key))
        owners = [_owner(f, services) for f in ordered]
        ignored_owners = [_owner(f, services) for f in ignored]

        def count(index: int, severity: Severity) -> int:
            return sum(
                1
                for f, o in zip(ordered, owners, strict=True)
                if o == index and f.severity is severity
            )

        summaries = tuple(
            ServiceSummary(
                name,
                location,
                errors=count(index, Severity.ERROR),
                warnings=count(index, Severity.WARNING),
                infos=count(index, Severity.INFO),
                ignored=sum(1 for o in ignored_owners if o == index),
            )
            for index, (name, location) in enumerate(services)
        )
        active = tuple(rule for rule in rules if config is None or config.enabled(rule.id))
        return cls(
            command,
            ordered,
            summaries,
            active,
            contracts_version,
            len(ignored),
            strict or (config is not None and config.strict),
        )

    def findings_of(self, summary: ServiceSummary) -> list[Finding]:
        """The findings of one service summary (one source; see `_owner`)."""
        services = [(s.service, s.location) for s in self.services]
        index = next(i for i, s in enumerate(self.services) if s == summary)
        return [f for f in self.findings if _owner(f, services) == index]

    def count(self, severity: Severity) -> int:
        return sum(1 for finding in self.findings if finding.severity is severity)

    @property
    def passed(self) -> bool:
        """No errors (and, when strict, no warnings)."""
        if self.count(Severity.ERROR):
            return False
        return not (self.strict and self.count(Severity.WARNING))

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    def summary(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "contracts_version": self.contracts_version,
            "passed": self.passed,
            "strict": self.strict,
            "errors": self.count(Severity.ERROR),
            "warnings": self.count(Severity.WARNING),
            "infos": self.count(Severity.INFO),
            "ignored": self.ignored,
            "services": [
                {
                    "service": s.service,
                    "location": s.location,
                    "errors": s.errors,
                    "warnings": s.warnings,
                    "infos": s.infos,
                    "ignored": s.ignored,
                }
                for s in self.services
            ],
        }

    def to_json(self) -> dict[str, Any]:
        """The JSON output: `{"findings": [...], "summary": {...}}`."""
        return {
            "findings": [
                {
                    "rule": f.rule,
                    "severity": f.severity.value,
                    "service": f.service,
                    "pointer": f.pointer,
                    "message": f.message,
                    "location": f.location,
                }
                for f in self.findings
            ],
            "summary": self.summary(),
        }


_COLOURS = {Severity.ERROR: "31", Severity.WARNING: "33", Severity.INFO: "36"}
_MARKDOWN_ICONS = {Severity.ERROR: "❌", Severity.WARNING: "⚠️", Severity.INFO: "ℹ️"}  # noqa: RUF001
_GITHUB_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
_SARIF_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _totals(report: Report) -> str:
    counts = [
        _plural(report.count(Severity.ERROR), "error"),
        _plural(report.count(Severity.WARNING), "warning"),
        _plural(report.count(Severity.INFO), "info"),
    ]
    ignored = f", {report.ignored} ignored" if report.ignored else ""
    return f"{', '.join(counts)}{ignored}"


def _render_text(report: Report, *, color: bool = False) -> str:
    def paint(code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if color else text

    lines: list[str] = []
    for summary in report.services:
        findings = report.findings_of(summary)
        counts = f"{_plural(summary.errors, 'error')}, {_plural(summary.warnings, 'warning')}"
        where = f" ({summary.location})" if summary.location else ""
        lines.append(paint("1", f"{summary.service}{where}: {counts}"))
        for finding in findings:
            level = paint(_COLOURS[finding.severity], f"{finding.severity.value:<8}")
            lines.append(f"  {level} {paint('2', finding.rule)}  {finding.pointer or '/'}")
            lines.append(f"           {finding.message}")
        lines.append("")
    verdict = "passed" if report.passed else "failed"
    noun = "service" if report.command == "validate" else "API"
    lines.append(
        paint(
            "32" if report.passed else "31",
            f"{report.command} {verdict}: {_totals(report)} in {_plural(len(report.services), noun)} (contracts {report.contracts_version})",
        )
    )
    return "\n".join(lines) + "\n"


def _render_json(report: Report) -> str:
    return json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _is_file(location: str) -> bool:
    return (
        bool(location)
        and not location.startswith(("http://", "https://", "<"))
        and (location.endswith((".json", ".yaml", ".yml")))
    )


def _render_github(report: Report) -> str:
    lines = []
    for finding in report.findings:
        properties = [f"title={_escape_property(f'{finding.rule} ({finding.service})')}"]
        if _is_file(finding.location):
            where = [f"file={_escape_property(finding.location)}"]
            if finding.line is not None:
                where.append(f"line={finding.line}")
                if finding.column is not None:
                    where.append(f"col={finding.column}")
            properties[:0] = where
        message = f"{finding.pointer or '/'}: {finding.message}"
        lines.append(
            f"::{_GITHUB_LEVELS[finding.severity]} {','.join(properties)}::{_escape_data(message)}"
        )
    return "".join(f"{line}\n" for line in lines)


def _cell(text: str) -> str:
    """Table cell text: one line, pipes escaped, no raw HTML, no control characters."""
    text = "".join(ch if ch.isprintable() else " " for ch in " ".join(text.split()))
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _code(text: str) -> str:
    """A code span in a table cell (GitHub unescapes `\\|` inside code spans in tables)."""
    quoted = " ".join(text.split()).replace("`", "'").replace("|", "\\|")
    return f"`{quoted}`" if text else "`/`"


def _render_markdown(report: Report) -> str:
    icon = "✅" if report.passed else "❌"
    lines = [
        f"## {icon} opsconductor-contracts {report.command}",
        "",
        f"{_totals(report)} · contracts {report.contracts_version}",
        "",
        "| service | source | errors | warnings | infos | ignored |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {_cell(s.service)} | {_code(s.location)} | {s.errors} | {s.warnings} | {s.infos} | {s.ignored} |"
        for s in report.services
    ]
    shown, folded = report.findings[:MARKDOWN_MAX_ROWS], report.findings[MARKDOWN_MAX_ROWS:]
    lines += _markdown_tables(shown)
    if folded:
        # Every finding is listed; past the first rows they fold away, so a pull-request
        # comment stays readable.
        lines += ["", "<details>", f"<summary>{len(folded)} more findings</summary>"]
        lines += _markdown_tables(folded)
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


def _markdown_tables(findings: Sequence[Finding]) -> list[str]:
    lines: list[str] = []
    for (service, location), group in groupby(findings, key=lambda f: (f.service, f.location)):
        lines += [
            "",
            f"### {_cell(service)} ({_code(location)})",
            "",
            "| | rule | pointer | message |",
            "| --- | --- | --- | --- |",
        ]
        lines += [
            f"| {_MARKDOWN_ICONS[f.severity]} {f.severity.value} | {_code(f.rule)} | {_code(f.pointer)} | {_cell(f.message)} |"
            for f in group
        ]
    return lines


def _tool_version() -> str:
    # Imported here: importlib.metadata costs a tenth of a `validate` run's start-up.
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    try:
        return version("opsconductor-shared")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0"


def _artifact_uri(location: str) -> str | None:
    if not location or location.startswith("<"):
        return None
    if location.startswith(("http://", "https://")):
        return location
    if (
        not location.endswith((".json", ".yaml", ".yml"))
        or ":" in location.split("/", maxsplit=1)[0]
    ):
        return None
    path = Path(location)
    return path.resolve().as_uri() if path.is_absolute() else path.as_posix()


def _render_sarif(report: Report) -> str:
    rule_index = {rule.id: index for index, rule in enumerate(report.rules)}
    results = []
    for finding in report.findings:
        result: dict[str, Any] = {
            "ruleId": finding.rule,
            "level": _SARIF_LEVELS[finding.severity],
            "message": {"text": f"{finding.message} ({finding.service} {finding.pointer or '/'})"},
            "partialFingerprints": {
                "opsconductorContracts/v1": hashlib.sha256(
                    f"{finding.rule}|{finding.service}|{finding.pointer}|{finding.message}".encode()
                ).hexdigest()
            },
            "properties": {"service": finding.service, "pointer": finding.pointer},
        }
        if finding.rule in rule_index:
            result["ruleIndex"] = rule_index[finding.rule]
        location: dict[str, Any] = {
            "logicalLocations": [
                {"fullyQualifiedName": f"{finding.service}#{finding.pointer}", "kind": "member"}
            ]
        }
        uri = _artifact_uri(finding.location)
        if uri:
            location["physicalLocation"] = {"artifactLocation": {"uri": uri}}
            if finding.line is not None:
                region = {"startLine": finding.line}
                if finding.column is not None:
                    region["startColumn"] = finding.column
                location["physicalLocation"]["region"] = region
        result["locations"] = [location]
        results.append(result)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "opsconductor-contracts",
                        "version": _tool_version(),
                        "rules": [
                            {
                                "id": rule.id,
                                "shortDescription": {"text": rule.summary},
                                "defaultConfiguration": {"level": _SARIF_LEVELS[rule.severity]},
                            }
                            for rule in report.rules
                        ],
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "commandLine": f"opsconductor-contracts {report.command}",
                    }
                ],
                "results": results,
                "properties": report.summary(),
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _xml_text(text: str) -> str:
    return _INVALID_XML.sub("?", text)


def _describe(findings: list[Finding]) -> str:
    return "\n".join(
        _xml_text(f"{f.severity.value} {f.pointer or '/'}: {f.message}") for f in findings
    )


def _render_junit(report: Report) -> str:
    failing = {Severity.ERROR, Severity.WARNING} if report.strict else {Severity.ERROR}
    root = ET.Element("testsuites", name=f"opsconductor-contracts {report.command}")
    total_tests = total_failures = 0
    for summary in report.services:
        mine = report.findings_of(summary)
        suite = ET.SubElement(root, "testsuite", name=_xml_text(summary.service))
        if summary.location:
            properties = ET.SubElement(suite, "properties")
            ET.SubElement(
                properties, "property", name="location", value=_xml_text(summary.location)
            )
        failures = 0
        for rule in report.rules:
            findings = [f for f in mine if f.rule == rule.id]
            case = ET.SubElement(
                suite, "testcase", classname=_xml_text(summary.service), name=rule.id
            )
            failed = [f for f in findings if f.severity in failing]
            if failed:
                failures += 1
                failure = ET.SubElement(
                    case,
                    "failure",
                    type=rule.id,
                    message=_xml_text(f"{len(failed)} finding(s): {failed[0].message}"),
                )
                failure.text = _describe(failed)
            others = [f for f in findings if f.severity not in failing]
            if others:
                ET.SubElement(case, "system-out").text = _describe(others)
        suite.set("tests", str(len(report.rules)))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        suite.set("skipped", "0")
        total_tests += len(report.rules)
        total_failures += failures
    root.set("tests", str(total_tests))
    root.set("failures", str(total_failures))
    root.set("errors", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


FORMATS: dict[str, Callable[[Report], str]] = {
    "text": _render_text,
    "json": _render_json,
    "sarif": _render_sarif,
    "junit": _render_junit,
    "github": _render_github,
    "markdown": _render_markdown,
}
"""Every output format by name (`--format`)."""


def render_report(report: Report, fmt: str = "text", *, color: bool = False) -> str:
    """The report in one of `FORMATS`; `color` adds ANSI colours to the text format only.

    Raises:
        ValueError: an unknown format.
    """
    try:
        renderer = FORMATS[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}") from None
    return _render_text(report, color=color) if fmt == "text" else renderer(report)
