from __future__ import annotations

from typing import Any

import opsconductor_contracts
import pytest
from opsconductor_conformance import SchemaSet, load_schema_dir
from pydantic import TypeAdapter

from tests.conftest import SCHEMAS

SCHEMASET: SchemaSet = load_schema_dir(SCHEMAS)
COMPONENTS = sorted(SCHEMASET.components())


def adapter(name: str) -> TypeAdapter[Any]:
    """A TypeAdapter for the generated model (or enum) of component `name`."""
    return TypeAdapter(getattr(opsconductor_contracts, name))


@pytest.fixture(scope="session")
def schemaset() -> SchemaSet:
    return SCHEMASET
