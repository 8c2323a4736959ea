"""`validate`: run the conformance rules over services' OpenAPI documents."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ._config import Config
from ._findings import Finding
from ._openapi import ServiceDocument
from ._report import Report
from ._rules import VALIDATE_RULES
from ._shared import SharedContracts
from ._source import ServiceSource, SourceError, document_source, load_source

__all__ = ["check_document", "validate_document", "validate_sources"]


def check_document(
    source: ServiceSource, contracts: SharedContracts, config: Config | None = None
) -> list[Finding]:
    """Every finding of every enabled rule for one service, before ignores and overrides.

    Raises:
        SourceError: the document's schemas nest (through their references) too deeply to check.
    """
    config = config or Config()
    document = ServiceDocument(source)
    findings = []
    try:
        for rule in VALIDATE_RULES:
            if not config.enabled(rule.info.id):
                continue
            for pointer, message, severity in rule.check(document, contracts):
                findings.append(
                    Finding(
                        rule.info.id,
                        severity or rule.info.severity,
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
    return findings


def validate_sources(
    sources: Sequence[ServiceSource],
    *,
    contracts: SharedContracts | None = None,
    config: Config | None = None,
    strict: bool = False,
) -> Report:
    """Validate several services' documents into one report.

    Args:
        sources: loaded documents (see `load_source`).
        contracts: the shared contracts (default: the shipped ones).
        config: rules on or off, severity overrides, ignores.
        strict: warnings fail the report too.

    Raises:
        SourceError: a document cannot be checked.
    """
    contracts = contracts or SharedContracts.load()
    findings = [f for source in sources for f in check_document(source, contracts, config)]
    return Report.build(
        "validate",
        findings,
        services=[(s.name, s.location) for s in sources],
        rules=[rule.info for rule in VALIDATE_RULES],
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
            r.info.id: (base.rules.get(r.info.id) or True) if r.info.id in wanted else None
            for r in VALIDATE_RULES
        }
        config = Config(switched, base.ignores, base.strict, base.path)
    return validate_sources([source], contracts=contracts, config=config, strict=strict)
