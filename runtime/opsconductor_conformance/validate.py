"""`validate`: run the rules over services' documents, and `assert_conforms` for their tests."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from .config import Config
from .document import ServiceDocument, SharedContracts
from .positions import PositionMap
from .report import Finding, Report, render_report
from .rules import RULES, VALIDATE, Hit
from .source import ServiceSource, SourceError, document_source, load_source

__all__ = ["assert_conforms", "check_document", "validate_document", "validate_sources"]


def check_document(
    source: ServiceSource,
    contracts: SharedContracts,
    config: Config | None = None,
    *,
    positions: bool = False,
) -> list[Finding]:
    """Every finding of every enabled `validate` rule for one service, before ignores and overrides.

    Args:
        positions: give each finding the line and column of its pointer in the source's text
            (a file or URL source), for SARIF and GitHub annotations.

    Raises:
        SourceError: the document's schemas nest (through their references) too deeply to check.
    """
    config = config or Config()
    document = ServiceDocument(source)
    findings = []
    try:
        for known in RULES.rules(VALIDATE):
            if not config.enabled(known.id):
                continue
            check: Callable[[ServiceDocument, SharedContracts], Iterable[Hit]] = known.check
            for pointer, message, severity in check(document, contracts):
                findings.append(
                    Finding(
                        known.id,
                        severity or known.severity,
                        source.name,
                        pointer,
                        message,
                        source.location,
                    )
                )
    except RecursionError as exc:
        raise SourceError(
            source.location, "its schemas nest (through their $refs) too deeply to check"
        ) from exc
    if positions and source.text is not None and findings:
        where = PositionMap(source.text)
        placed = []
        for finding in findings:
            position = where.locate(finding.pointer)
            placed.append(
                finding
                if position is None
                else replace(finding, line=position.line, column=position.column)
            )
        findings = placed
    return findings


def validate_sources(
    sources: Sequence[ServiceSource],
    *,
    contracts: SharedContracts | None = None,
    config: Config | None = None,
    strict: bool = False,
    positions: bool = False,
) -> Report:
    """Validate several services' documents into one report.

    Args:
        sources: loaded documents (see `load_source`).
        contracts: the shared contracts (default: the shipped ones).
        config: rules on or off, severity overrides, ignores.
        strict: warnings fail the report too.
        positions: give findings the line and column of their pointers (see `check_document`).

    Raises:
        SourceError: a document cannot be checked.
    """
    contracts = contracts or SharedContracts.load()
    findings = [
        f
        for source in sources
        for f in check_document(source, contracts, config, positions=positions)
    ]
    return Report.build(
        VALIDATE,
        findings,
        services=[(s.name, s.location) for s in sources],
        rules=RULES.rules(VALIDATE),
        contracts_version=contracts.version,
        config=config,
        strict=strict,
    )


def validate_document(
    app_or_document: Any,
    *,
    contracts: SharedContracts | None = None,
    config: Config | None = None,
    strict: bool = False,
    rules: Iterable[str] | None = None,
) -> Report:
    """Validate one FastAPI app (anything with `openapi()`), parsed document, or source string.

    Args:
        app_or_document: a FastAPI app, an OpenAPI document as a mapping, or a file path, URL
            or `module:app` string.
        rules: run only these rule ids (default: every rule the configuration enables).

    Raises:
        SourceError: the document cannot be loaded or checked.
    """
    if isinstance(app_or_document, (str, Path)):
        source = load_source(str(app_or_document))
    elif callable(getattr(app_or_document, "openapi", None)):
        source = document_source(app_or_document.openapi(), location=type(app_or_document).__name__)
    else:
        source = document_source(app_or_document)
    if rules is not None:
        wanted = set(rules)
        base = config or Config()
        switched = {
            r.id: (base.rules.get(r.id) or True) if r.id in wanted else None
            for r in RULES.rules(VALIDATE)
        }
        config = Config(switched, base.ignores, base.strict, base.path)
    return validate_sources([source], contracts=contracts, config=config, strict=strict)


def assert_conforms(
    app_or_document: Any,
    *,
    config: Config | None = None,
    rules: Iterable[str] | None = None,
    strict: bool = False,
    contracts_dir: Path | str | None = None,
) -> Report:
    """Assert that a FastAPI app (or an OpenAPI document) conforms to the shared contracts.

    Use it in a service's tests: `assert_conforms(create_app())`. The assertion message lists
    every finding, with its rule, pointer and how to fix it.

    Args:
        app_or_document: a FastAPI app, a parsed OpenAPI document, or a path, URL or
            `module:app` string.
        config: rules on or off, severity overrides and ignores (see `load_config`).
        rules: check only these rule ids.
        strict: fail on warnings too.
        contracts_dir: a schema directory to check against (default: the shipped contracts).

    Returns:
        The report, for further assertions (it may hold warnings and infos).

    Raises:
        AssertionError: the document has errors (or, when strict, warnings).
        SourceError: the document cannot be loaded or checked.
    """
    contracts = SharedContracts.load(contracts_dir) if contracts_dir is not None else None
    report = validate_document(
        app_or_document, contracts=contracts, config=config, strict=strict, rules=rules
    )
    if not report.passed:
        raise AssertionError(
            "the OpenAPI document does not conform to the OpsConductor contracts:\n"
            + render_report(report, "text")
        )
    return report
