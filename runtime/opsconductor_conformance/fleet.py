"""The fleet view of the migration: `validate` on many services at once (issue 17).

    opsconductor-contracts validate auth.json users.json targets:app ...              # text
    opsconductor-contracts validate ... --format markdown                             # a PR comment
    opsconductor-contracts validate ... --format html -o migration.html               # a page for CI

One row per service: its errors, warnings and migration findings (the `legacy-*` rules of
`legacy`), and the contracts version its document declares (`info.x-opsconductor-contracts`,
which the runtime writes). A service is *migrated* when it declares a contracts version and
has no migration finding left (the compatibility mode still on counts as one).

The text and Markdown outputs put the fleet table before the usual report; `html` is one
self-contained page (inline style, no script, no external asset) with the table, a progress
bar of the services migrated, and the findings grouped by rule, for the platform team to
publish from CI.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from .legacy import is_migration_rule
from .report import Finding, Report, Severity, render_report

__all__ = ["FLEET_FORMATS", "FleetRow", "fleet_rows", "render_fleet"]

FLEET_FORMATS = ("text", "markdown", "html")
"""The formats with a fleet view (`html` has nothing else)."""
CONTRACTS_KEY = "x-opsconductor-contracts"
_NONE = "-"


@dataclass(frozen=True)
class FleetRow:
    """How one service stands in the migration."""

    service: str
    location: str
    errors: int
    warnings: int
    migration: int
    contracts: str | None

    @property
    def migrated(self) -> bool:
        return self.contracts is not None and self.migration == 0


def _declared(document: Mapping[str, Any] | None) -> str | None:
    info = document.get("info") if isinstance(document, Mapping) else None
    version = info.get(CONTRACTS_KEY) if isinstance(info, Mapping) else None
    return str(version) if isinstance(version, str | int | float) and version != "" else None


def fleet_rows(report: Report, documents: Sequence[Mapping[str, Any]]) -> list[FleetRow]:
    """One row per service of `report`; `documents` are the services' documents, in the
    report's order (they say which contracts version each declares)."""
    rows = []
    for index, summary in enumerate(report.services):
        findings = report.findings_of(summary)
        rows.append(
            FleetRow(
                summary.service,
                summary.location,
                summary.errors,
                summary.warnings,
                sum(1 for f in findings if is_migration_rule(f.rule)),
                _declared(documents[index] if index < len(documents) else None),
            )
        )
    return rows


def _progress(rows: Sequence[FleetRow]) -> tuple[int, int, int]:
    done = sum(1 for row in rows if row.migrated)
    return done, len(rows), round(100 * done / len(rows)) if rows else 0


def _text_table(rows: Sequence[FleetRow]) -> str:
    header = ("service", "errors", "warnings", "migration", "contracts", "migrated")
    body = [
        (
            row.service,
            str(row.errors),
            str(row.warnings),
            str(row.migration),
            row.contracts or _NONE,
            "yes" if row.migrated else "no",
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    done, total, percent = _progress(rows)
    lines = [line(header), line(["-" * width for width in widths])]
    lines += [line(cells) for cells in body]
    lines.append(f"migrated: {done} of {total} services ({percent}%)")
    return "\n".join(lines) + "\n\n"


def _md(text: str) -> str:
    text = "".join(ch if ch.isprintable() else " " for ch in " ".join(text.split()))
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _markdown_table(rows: Sequence[FleetRow]) -> str:
    done, total, percent = _progress(rows)
    lines = [
        "## Migration: fleet",
        "",
        f"**{done} of {total} services migrated ({percent}%)**",
        "",
        "| service | errors | warnings | migration findings | contracts | migrated |",
        "| --- | ---: | ---: | ---: | --- | --- |",
    ]
    lines += [
        f"| {_md(r.service)} | {r.errors} | {r.warnings} | {r.migration} | {_md(r.contracts or _NONE)} | {'✅' if r.migrated else '⏳'} |"
        for r in rows
    ]
    return "\n".join(lines) + "\n\n"


_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; color: #1b1f24; padding: 0 1rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
th, td { border-bottom: 1px solid #d0d7de; padding: .35rem .6rem; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.bar { background: #eaeef2; border-radius: .4rem; height: 1.3rem; overflow: hidden; }
.bar > div { background: #2da44e; height: 100%; }
.yes { color: #1a7f37; font-weight: 600; } .no { color: #9a6700; }
.error { color: #cf222e; } .warning { color: #9a6700; } .info { color: #0969da; }
code { font-size: .9em; background: #f6f8fa; padding: .1rem .3rem; border-radius: .25rem; word-break: break-all; }
details { margin: .3rem 0; } summary { cursor: pointer; }
"""


def _h(text: object) -> str:
    return html.escape(str(text), quote=True)


def _html_rule(rule_id: str, findings: list[Finding], summaries: Mapping[str, str]) -> list[str]:
    migration = " (migration)" if is_migration_rule(rule_id) else ""
    parts = [
        "<details>",
        f"<summary><code>{_h(rule_id)}</code>{migration}: {len(findings)} finding(s) "
        f"&mdash; {_h(summaries.get(rule_id, ''))}</summary>",
        "<table><tr><th>service</th><th>severity</th><th>pointer</th><th>message</th></tr>",
    ]
    parts += [
        f'<tr><td>{_h(f.service)}</td><td class="{_h(f.severity.value)}">{_h(f.severity.value)}</td>'
        f"<td><code>{_h(f.pointer or '/')}</code></td><td>{_h(f.message)}</td></tr>"
        for f in findings
    ]
    parts += ["</table>", "</details>"]
    return parts


def _render_html(report: Report, rows: Sequence[FleetRow]) -> str:
    done, total, percent = _progress(rows)
    summaries = {known.id: known.summary for known in report.rules}
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>OpsConductor migration: fleet</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>OpsConductor migration: fleet</h1>",
        f"<p>{done} of {total} services migrated ({percent}%) &middot; shared contracts "
        f"{_h(report.contracts_version)} &middot; {report.count(Severity.ERROR)} error(s), "
        f"{report.count(Severity.WARNING)} warning(s)</p>",
        f'<div class="bar" role="progressbar" aria-valuemin="0" aria-valuemax="{total}" '
        f'aria-valuenow="{done}" aria-label="services migrated"><div style="width: {percent}%"></div></div>',
        "<h2>Services</h2>",
        "<table><tr><th>service</th><th>source</th><th>errors</th><th>warnings</th>"
        "<th>migration findings</th><th>contracts</th><th>migrated</th></tr>",
    ]
    parts += [
        f"<tr><td>{_h(r.service)}</td><td><code>{_h(r.location)}</code></td>"
        f'<td class="n">{r.errors}</td><td class="n">{r.warnings}</td><td class="n">{r.migration}</td>'
        f"<td>{_h(r.contracts or _NONE)}</td>"
        f'<td class="{"yes" if r.migrated else "no"}">{"yes" if r.migrated else "no"}</td></tr>'
        for r in rows
    ]
    parts += ["</table>", "<h2>Findings by rule</h2>"]
    by_rule = sorted(report.findings, key=lambda f: (not is_migration_rule(f.rule), f.rule))
    for rule_id, group in groupby(by_rule, key=lambda f: f.rule):
        parts += _html_rule(rule_id, list(group), summaries)
    if not report.findings:
        parts.append("<p>No findings.</p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def render_fleet(
    report: Report, documents: Sequence[Mapping[str, Any]], fmt: str, *, color: bool = False
) -> str:
    """The fleet view of a `validate` report in one of `FLEET_FORMATS` (see the module
    docstring); `documents` are the services' documents, in the report's order.

    Raises:
        ValueError: a format without a fleet view.
    """
    rows = fleet_rows(report, documents)
    if fmt == "html":
        return _render_html(report, rows)
    if fmt == "text":
        return _text_table(rows) + render_report(report, "text", color=color)
    if fmt == "markdown":
        return _markdown_table(rows) + render_report(report, "markdown")
    raise ValueError(f"no fleet view in {fmt!r}; choose one of {', '.join(FLEET_FORMATS)}")
