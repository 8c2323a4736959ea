"""The JUnit XML rendering of a report: one test suite per service, one test case per rule."""

from __future__ import annotations

import re
from xml.etree import ElementTree as ET

from ._findings import Finding, Severity
from ._report import Report

__all__: list[str] = []

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(text: str) -> str:
    return _INVALID_XML.sub("?", text)


def _describe(findings: list[Finding]) -> str:
    return "\n".join(_text(f"{f.severity.value} {f.pointer or '/'}: {f.message}") for f in findings)


def _render_junit(report: Report) -> str:
    failing = {Severity.ERROR, Severity.WARNING} if report.strict else {Severity.ERROR}
    root = ET.Element("testsuites", name=f"opsconductor-contracts {report.command}")
    total_tests = total_failures = 0
    for summary in report.services:
        mine = report.findings_of(summary)
        suite = ET.SubElement(root, "testsuite", name=_text(summary.service))
        if summary.location:
            properties = ET.SubElement(suite, "properties")
            ET.SubElement(properties, "property", name="location", value=_text(summary.location))
        failures = 0
        for rule in report.rules:
            findings = [f for f in mine if f.rule == rule.id]
            case = ET.SubElement(suite, "testcase", classname=_text(summary.service), name=rule.id)
            failed = [f for f in findings if f.severity in failing]
            if failed:
                failures += 1
                failure = ET.SubElement(
                    case,
                    "failure",
                    type=rule.id,
                    message=_text(f"{len(failed)} finding(s): {failed[0].message}"),
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
