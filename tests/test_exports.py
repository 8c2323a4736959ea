"""Each package's `__all__` is sorted and complete: every public name it defines is exported."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

import opsconductor_contracts
import pytest
from opsconductor_shared.contracts import load_schema_dir

from tests.conftest import SCHEMAS

PACKAGES = [
    "opsconductor_contracts",
    "opsconductor_shared",
    "opsconductor_shared.auth",
    "opsconductor_shared.client",
    "opsconductor_shared.contracts",
    "opsconductor_shared.middleware",
    "opsconductor_shared.testing",
]


def _generated_models() -> set[str]:
    """Every class the generated modules define, less the ones the package withholds."""
    generated = importlib.import_module("opsconductor_contracts._gen")
    names: set[str] = set()
    for info in pkgutil.iter_modules(generated.__path__):
        module = importlib.import_module(f"{generated.__name__}.{info.name}")
        names |= {
            name
            for name, value in vars(module).items()
            if not name.startswith("_")
            and inspect.isclass(value)
            and value.__module__ == module.__name__
        }
    return names - set(opsconductor_contracts._WITHHELD)


def _public_names_of_submodules(package: ModuleType) -> set[str]:
    """Public names of the package's private modules (the generated models, for contracts)."""
    if package.__name__ == "opsconductor_contracts":
        return _generated_models()
    names: set[str] = set()
    for info in pkgutil.iter_modules(package.__path__):
        if info.ispkg or info.name == "__main__":
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        defined = {
            name
            for name, value in vars(module).items()
            if not name.startswith("_")
            and (inspect.isclass(value) or inspect.isfunction(value))
            and getattr(value, "__module__", None) == module.__name__
        }
        exported = getattr(module, "__all__", None)
        assert exported is not None, f"{module.__name__} has no __all__"
        assert list(exported) == sorted(exported), f"{module.__name__}.__all__ is not sorted"
        missing = defined - set(exported)
        assert not missing, f"{module.__name__} defines {sorted(missing)} outside __all__"
        if info.name.startswith("_"):
            names |= set(exported)
    return names


@pytest.mark.parametrize("name", PACKAGES)
def test_all_sorted_and_complete(name: str) -> None:
    package = importlib.import_module(name)
    exported = list(package.__all__)
    assert exported == sorted(exported)
    assert len(exported) == len(set(exported))
    for symbol in exported:
        assert hasattr(package, symbol), f"{name}.__all__ names missing {symbol}"
    missing = _public_names_of_submodules(package) - set(exported)
    assert not missing, f"{name} does not re-export {sorted(missing)}"


def test_every_component_is_a_model() -> None:
    components = set(load_schema_dir(SCHEMAS).components())
    withheld = set(opsconductor_contracts._WITHHELD)
    assert withheld <= components
    assert components - withheld <= set(opsconductor_contracts.__all__)
