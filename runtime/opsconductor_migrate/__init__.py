"""`opsconductor-migrate`: a libcst codemod from the old `shared` package onto opsconductor-shared.

    from opsconductor_migrate import migrate_paths, migrate_source

    report = migrate_paths(["services/targets"])      # nothing is written
    for result in report.files:
        print(result.diff())
    for step in report.manual:                         # what it left, and what to do
        print(step.render())

The old-name -> new-name tables are in `opsconductor_migrate._tables`; the command line is
`opsconductor_migrate.cli` (see docs/migration-codemod.md). Needs the `migrate` extra (libcst).
"""

from ._project import ListModel, ManualStep, ProjectInfo, scan_project
from ._run import (
    DEFAULT_MAX_FILE_BYTES,
    FileResult,
    InputError,
    MigrationReport,
    migrate_paths,
    migrate_source,
)

__all__ = [
    "DEFAULT_MAX_FILE_BYTES",
    "FileResult",
    "InputError",
    "ListModel",
    "ManualStep",
    "MigrationReport",
    "ProjectInfo",
    "migrate_paths",
    "migrate_source",
    "scan_project",
]
