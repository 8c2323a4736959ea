"""Shared test configuration: paths, the anyio backend for async tests, and the testing kit's
fixtures (`opsconductor_shared.testing.plugin`), which this project's tests use as a service's
tests would."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["opsconductor_shared.testing.plugin", "pytester"]

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "schemas"
CONTRACTS_PACKAGE = ROOT / "generated" / "opsconductor_contracts"
GENERATED = CONTRACTS_PACKAGE / "_gen"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
