"""The schema set, and the generated model of each of its components."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import pytest
from opsconductor_conformance import SchemaSet, load_schema_dir
from opsconductor_contracts import _gen
from pydantic import TypeAdapter

from tests.conftest import SCHEMAS

SCHEMASET: SchemaSet = load_schema_dir(SCHEMAS)
COMPONENTS = sorted(SCHEMASET.components())
# Looked up in the generated modules, not the package: every component has a model there,
# including the page template the package withholds.
MODELS: dict[str, Any] = {
    name: value
    for info in pkgutil.iter_modules(_gen.__path__)
    for name, value in vars(importlib.import_module(f"{_gen.__name__}.{info.name}")).items()
    if isinstance(value, type) and value.__module__ == f"{_gen.__name__}.{info.name}"
}


def adapter(name: str) -> TypeAdapter[Any]:
    """A TypeAdapter for the generated model (or enum) of component `name`."""
    return TypeAdapter(MODELS[name])


@pytest.fixture(scope="session")
def schemaset() -> SchemaSet:
    return SCHEMASET
