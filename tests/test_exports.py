"""Each package's `__all__` is sorted and complete: every public name it defines is exported."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

import opsconductor_contracts
import pytest
from opsconductor_conformance import load_schema_dir

from tests.conftest import SCHEMAS

PACKAGES = [
    "opsconductor_contracts",
    "opsconductor_conformance",
    "opsconductor_shared",
    "opsconductor_shared.auth",
    "opsconductor_shared.client",
    "opsconductor_shared.middleware",
]


def _public_names_of_submodules(package: ModuleType) -> set[str]:
    """Public names of the package's private modules (every class, for generated modules)."""
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
        if package.__name__ == "opsconductor_contracts":
            # Generated modules carry no __all__: the package exports every class they define.
            names |= defined
            continue
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


def test_contracts_version_matches_schemas() -> None:

    assert load_schema_dir(SCHEMAS).version == opsconductor_contracts.CONTRACTS_VERSION


def test_every_component_is_a_model() -> None:

    components = set(load_schema_dir(SCHEMAS).components())
    assert components <= set(opsconductor_contracts.__all__)
