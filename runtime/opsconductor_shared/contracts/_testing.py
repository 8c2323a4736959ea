"""`assert_conforms`: a service's own test suite checks its OpenAPI document against the contracts."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ._config import Config
from ._formats import render_report
from ._report import Report
from ._shared import SharedContracts
from ._validate import validate_document

__all__ = ["assert_conforms"]


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
