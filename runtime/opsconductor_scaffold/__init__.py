"""`opsconductor-service new NAME`: a new service repository from the service template.

The template (`template/`, a copier template) makes the app, its settings, a repository with
an in-memory and a PostgreSQL store, tests on the testing kit, a Makefile and a Dockerfile.
The scaffolded service's `make test` installs opsconductor-shared from the source this
library was installed from (a path, a git URL or a wheel), recorded at scaffold time.

    new_service("jobs", Path("jobs-service"))       # the `scaffold` extra: copier
"""

from ._scaffold import (
    SOURCE_ENV_VAR,
    TEMPLATE_DIR,
    ScaffoldError,
    library_source,
    new_service,
    template_location,
)

__all__ = [
    "SOURCE_ENV_VAR",
    "ScaffoldError",
    "TEMPLATE_DIR",
    "library_source",
    "new_service",
    "template_location",
]
