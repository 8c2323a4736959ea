"""The SARIF 2.1.0 rendering of a report, for code scanning (GitHub, Azure DevOps, IDEs)."""

from __future__ import annotations

import hashlib
import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from ._findings import Severity
from ._report import Report

__all__: list[str] = []

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _tool_version() -> str:
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
            "level": _LEVELS[finding.severity],
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
                                "defaultConfiguration": {"level": _LEVELS[rule.severity]},
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
