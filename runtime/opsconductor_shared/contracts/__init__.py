"""Contract tooling: load, normalise, lint, validate services against, and diff the shared schemas."""

from ._breaking import compare_schema_sets
from ._compat import Direction, compatibility_differences, contract_direction
from ._config import Config, ConfigError, Ignore, load_config
from ._findings import Finding, RuleInfo, Severity
from ._formats import render_report
from ._gitref import load_schemas_at_ref
from ._lint import LINT_RULES, LintFinding, lint_schema_dir
from ._normalize import (
    ANNOTATION_KEYWORDS,
    SchemaCache,
    SchemaDifference,
    normalize_schema,
    schema_differences,
)
from ._openapi import Operation, ServiceDocument, is_json_media_type, requires_credentials
from ._report import Report, ServiceSummary
from ._rules import Rule
from ._schemaset import (
    SchemaDocument,
    SchemaProblem,
    SchemaSet,
    SchemaSetError,
    escape_pointer_token,
    load_schema_dir,
    load_yaml_file,
    resolve_pointer,
)
from ._shared import SharedContracts
from ._shipped import shared_schema_dir
from ._source import ServiceSource, SourceError, document_source, load_source
from ._testing import assert_conforms
from ._validate import check_document, validate_document, validate_sources

# Sorted as tests/test_exports.py sorts (plain code-point order), not isort-style.
__all__ = [
    "ANNOTATION_KEYWORDS",
    "Config",
    "ConfigError",
    "Direction",
    "Finding",
    "Ignore",
    "LINT_RULES",
    "LintFinding",
    "Operation",
    "Report",
    "Rule",
    "RuleInfo",
    "SchemaCache",
    "SchemaDifference",
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
    "compatibility_differences",
    "contract_direction",
    "document_source",
    "escape_pointer_token",
    "is_json_media_type",
    "lint_schema_dir",
    "load_config",
    "load_schema_dir",
    "load_schemas_at_ref",
    "load_source",
    "load_yaml_file",
    "normalize_schema",
    "render_report",
    "requires_credentials",
    "resolve_pointer",
    "schema_differences",
    "shared_schema_dir",
    "validate_document",
    "validate_sources",
]
