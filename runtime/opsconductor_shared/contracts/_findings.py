"""What the conformance tooling reports: findings, their severities, and the rules behind them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Finding", "RuleInfo", "Severity"]


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
class RuleInfo:
    """A rule: stable kebab-case id, default severity, and what it checks."""

    id: str
    severity: Severity
    summary: str


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
