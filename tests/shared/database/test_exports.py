"""`opsconductor_shared.database` imports without psycopg."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
for blocked in ("psycopg", "psycopg_pool", "psycopg.errors"):
    sys.modules[blocked] = None  # as if the postgres extra were not installed
import opsconductor_shared
from opsconductor_shared.database import Database, DatabaseSettings, handle_database_error

class OperationalError(Exception):
    pgcode = None

class UniqueViolation(Exception):
    pgcode = "23505"

assert handle_database_error(OperationalError()).status_code == 503
assert handle_database_error(UniqueViolation()).status_code == 409
try:
    Database(DatabaseSettings(dsn="postgresql://db/app"))
except ImportError as exc:
    assert "opsconductor-shared[postgres]" in str(exc)
else:
    raise AssertionError("Database needs psycopg")
print("ok")
"""


def test_imports_without_the_postgres_extra() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
