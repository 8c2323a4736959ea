"""A run's result: its findings after configuration, a per-service summary, and the exit code."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ._config import Config
from ._findings import Finding, RuleInfo, Severity

__all__ = ["Report", "ServiceSummary"]


def _belongs(finding: Finding, service: str, location: str) -> bool:
    """Whether a finding is one of a source's: its own location, or a file inside it (a
    `breaking` finding names the schema file inside the compared directory)."""
    if finding.service != service:
        return False
    where = finding.location or ""
    return where == location or where.startswith(location.rstrip("/") + "/")


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
    rules: tuple[RuleInfo, ...]
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
        rules: Sequence[RuleInfo],
        contracts_version: str,
        config: Config | None = None,
        strict: bool = False,
    ) -> Report:
        """Apply `config` (rules off, severity overrides, ignores) and summarise per service.

        Args:
            services: (service name, location) of every service checked, in order.
        """
        config = config or Config()
        kept: dict[tuple[str, str, str, str, str], Finding] = {}
        ignored: list[Finding] = []
        for raw in findings:
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

        def count(name: str, location: str, severity: Severity) -> int:
            return sum(1 for f in ordered if _belongs(f, name, location) and f.severity is severity)

        summaries = tuple(
            ServiceSummary(
                name,
                location,
                errors=count(name, location, Severity.ERROR),
                warnings=count(name, location, Severity.WARNING),
                infos=count(name, location, Severity.INFO),
                ignored=sum(1 for f in ignored if _belongs(f, name, location)),
            )
            for name, location in services
        )
        active = tuple(rule for rule in rules if config.enabled(rule.id))
        return cls(
            command,
            ordered,
            summaries,
            active,
            contracts_version,
            len(ignored),
            strict or config.strict,
        )

    def findings_of(self, summary: ServiceSummary) -> list[Finding]:
        """The findings of one service summary (one source)."""
        return [f for f in self.findings if _belongs(f, summary.service, summary.location)]

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
