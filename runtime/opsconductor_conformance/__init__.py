"""Conformance tooling: check services' OpenAPI documents and the shared schemas themselves.

The `opsconductor-contracts` command line (`cli`) and its library, one module per stage:
`schemaset` (the contract schema set: YAML, pointers, staged loading, the shipped schemas),
`source` (a service's document from a file, URL or `module:app`; schemas at a git revision),
`normalize` (canonical schemas and their comparison), `document` (what the rules read),
`pages` (list shapes: what a list is, which are legacy pages), `rules` (the rule registry,
the `validate` rules and the schema lint), `legacy` (the
migration rules: the old `shared` package's shapes), `fleet` (the migration's fleet view:
one row per service, and its HTML page), `validate` (running them,
and `assert_conforms` for a service's tests), `breaking` (the differ and its rules), `report`
(the report and every output format) and `config` (rules on or off, severities, ignores).

It needs the `cli` extra (`pip install 'opsconductor-shared[cli]'`). Only a `module:app`
source imports FastAPI (with the app); the runtime, `opsconductor_shared`, never imports this.
"""

from importlib.util import find_spec as _find_spec

_EXTRA = ("yaml", "jsonschema", "openapi_spec_validator", "referencing")
if _missing := [name for name in _EXTRA if _find_spec(name) is None]:
    raise ModuleNotFoundError(
        f"opsconductor_conformance needs the `cli` extra ({', '.join(_missing)} missing): "
        "pip install 'opsconductor-shared[cli]'",
        name=_missing[0],
    )

from . import legacy as _legacy  # noqa: E402, F401 - registers the migration rules
from .breaking import compare_schema_sets  # noqa: E402 - after the check above
from .config import Config, ConfigError, Ignore, load_config  # noqa: E402
from .document import ServiceDocument, SharedContracts  # noqa: E402
from .report import Finding, Report, ServiceSummary, Severity, render_report  # noqa: E402
from .rules import RULES, LintFinding, Rule, lint_schema_dir  # noqa: E402
from .schemaset import (  # noqa: E402
    SchemaDocument,
    SchemaProblem,
    SchemaSet,
    SchemaSetError,
    load_schema_dir,
    shared_schema_dir,
)
from .source import (  # noqa: E402
    ServiceSource,
    SourceError,
    document_source,
    load_schemas_at_ref,
    load_source,
)
from .validate import (  # noqa: E402
    assert_conforms,
    check_document,
    validate_document,
    validate_sources,
)

# Sorted as tests/test_exports.py sorts (plain code-point order), not isort-style.
__all__ = [
    "Config",
    "ConfigError",
    "Finding",
    "Ignore",
    "LintFinding",
    "RULES",
    "Report",
    "Rule",
    "SchemaDocument",
    "SchemaProblem",
    "SchemaSet",
    "SchemaSetError",
    "ServiceDocument",
    "ServiceSource",
    "ServiceSummary",
    "Severity",
    "SharedContracts",
    "SourceError",
    "assert_conforms",
    "check_document",
    "compare_schema_sets",
    "document_source",
    "lint_schema_dir",
    "load_config",
    "load_schema_dir",
    "load_schemas_at_ref",
    "load_source",
    "render_report",
    "shared_schema_dir",
    "validate_document",
    "validate_sources",
]
