"""The tables name only public names of the library, and the package exports are in order."""

from __future__ import annotations

import importlib

import opsconductor_migrate
import pytest
from opsconductor_migrate import _tables

TARGETS = sorted(
    {
        (new.module, new.name)
        for new in [*_tables.RENAMES.values(), *(rule.new for rule in _tables.CALLS.values())]
    }
    | {(_tables.LIBRARY, status.name) for status in _tables.STATUS_CLASSES.values()}
    | {
        (_tables.LIBRARY, name)
        for name in (
            "create_service_app",
            "install_auth",
            "CurrentUser",
            "PaginatedResponse",
            "PaginationQuery",
        )
    }
    | {(_tables.CONTRACTS, "Role"), (_tables.CONTRACTS, "Identity")}
)


@pytest.mark.parametrize(("module", "name"), TARGETS, ids=[f"{m}.{n}" for m, n in TARGETS])
def test_every_new_name_is_public(module: str, name: str) -> None:
    assert name in importlib.import_module(module).__all__


def test_every_status_class_has_its_status_and_code() -> None:
    library = importlib.import_module(_tables.LIBRARY)
    for status, target in _tables.STATUS_CLASSES.items():
        exception = getattr(library, target.name)("detail")
        assert (exception.status_code, exception.code) == (status, target.code)


def test_roles_are_the_shared_roles() -> None:
    contracts = importlib.import_module(_tables.CONTRACTS)
    assert {role.value for role in contracts.Role} == _tables.ROLES


@pytest.mark.parametrize("module", [opsconductor_migrate, _tables])
def test_all_is_sorted(module: object) -> None:
    names = module.__all__  # type: ignore[attr-defined]
    assert names == sorted(names)
