"""Render a report: text (colour only on a terminal), json, sarif, junit, github, markdown."""

from __future__ import annotations

import json
from collections.abc import Callable
from itertools import groupby

from ._findings import Finding, Severity
from ._junit import _render_junit
from ._report import Report
from ._sarif import _render_sarif

__all__ = ["render_report"]

MARKDOWN_MAX_ROWS = 200
_COLOURS = {Severity.ERROR: "31", Severity.WARNING: "33", Severity.INFO: "36"}
_MARKDOWN_ICONS = {Severity.ERROR: "❌", Severity.WARNING: "⚠️", Severity.INFO: "ℹ️"}  # noqa: RUF001
_GITHUB_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


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
    noun = "service" if report.command == "validate" else "schema set"
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
            properties.insert(0, f"file={_escape_property(finding.location)}")
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
    shown: list[Finding] = list(report.findings[:MARKDOWN_MAX_ROWS])
    for (service, location), group in groupby(shown, key=lambda f: (f.service, f.location)):
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
    hidden = len(report.findings) - len(shown)
    if hidden > 0:
        lines += [
            "",
            f"_{hidden} more finding(s) not shown; run the command locally for all of them._",
        ]
    return "\n".join(lines) + "\n"


FORMATS: dict[str, Callable[[Report], str]] = {
    "text": _render_text,
    "json": _render_json,
    "sarif": _render_sarif,
    "junit": _render_junit,
    "github": _render_github,
    "markdown": _render_markdown,
}


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
