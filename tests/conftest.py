"""Shared test configuration: paths, and the anyio backend for async tests."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "schemas"
CONTRACTS_PACKAGE = ROOT / "generated" / "opsconductor_contracts"
GENERATED = CONTRACTS_PACKAGE / "_gen"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
