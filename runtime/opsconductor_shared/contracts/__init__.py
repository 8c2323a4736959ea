"""Contract tooling: load, normalise, lint and (with the CLI) validate against the shared schemas."""

from ._lint import LINT_RULES, LintFinding, lint_schema_dir
from ._normalize import (
    ANNOTATION_KEYWORDS,
    SchemaDifference,
    normalize_schema,
    schema_differences,
)
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
from ._shipped import shared_schema_dir

__all__ = [
    "ANNOTATION_KEYWORDS",
    "LINT_RULES",
    "LintFinding",
    "SchemaDifference",
    "SchemaDocument",
    "SchemaProblem",
    "SchemaSet",
    "SchemaSetError",
    "escape_pointer_token",
    "lint_schema_dir",
    "load_schema_dir",
    "load_yaml_file",
    "normalize_schema",
    "resolve_pointer",
    "schema_differences",
    "shared_schema_dir",
]
