"""The public namespaces, tested the way httpx tests its own: each package's `__all__` is
sorted and is exactly what the package holds, every exported name is reachable and
documented, and nothing private is re-exported."""

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
    "opsconductor_conformance",
    "opsconductor_shared",
    "opsconductor_shared.auth",
    "opsconductor_shared.client",
    "opsconductor_shared.database",
    "opsconductor_shared.ratelimit",
    "opsconductor_shared.testing",
]
# What a service uses, and no more: about the size of structlog's namespace (31).
LIMITS = {
    "opsconductor_conformance": 35,
    # 49, then what issue 15 added: the route errors' marker, SettingsError, and the paging
    # (two page dependencies, Keyset, paginate).
    "opsconductor_shared": 55,
    "opsconductor_shared.auth": 20,
    "opsconductor_shared.client": 15,
    "opsconductor_shared.database": 15,
    "opsconductor_shared.ratelimit": 15,
    "opsconductor_shared.testing": 25,
}
# The names other parts of the project build against: they stay public.
PROMISED = {
    "opsconductor_shared": {
        "create_service_app",
        "ServiceSettings",
        "get_runtime",
        "ServiceRuntime",
        "StandardHTTPException",
        "BadRequestError",
        "AuthenticationError",
        "PermissionDeniedError",
        "NotFoundError",
        "ConflictError",
        "ValidationError",
        "RateLimitedError",
        "ServiceUnavailableError",
        "ServiceCommunicationError",
        "DatabaseError",
        "get_logger",
        "setup_service_logging",
        "get_request_id",
        "bind_log_context",
        "mask_sensitive_data",
        "sanitize_filename",
        "PaginatedResponse",
        "PaginationQuery",
        "FilterQuery",
        "sort_params",
        "error_responses",
        "register_health_check",
        "CurrentUser",
        "OptionalUser",
        "require_role",
        "require_admin",
        "install_auth",
        "AuthSettings",
        "ServiceClient",
        "RetryPolicy",
    },
    "opsconductor_shared.database": {"Database", "DatabaseSettings", "install_database"},
    "opsconductor_shared.ratelimit": {"install_rate_limiting", "RateLimitSettings", "rate_limit"},
}
INTERNALS = {
    "emit_event",
    "mask_event",
    "is_clean_flat_mapping",
    "begin_request",
    "server_timing",
    "send_problem",
    "retries_enabled",
}


def _namespace(package: ModuleType) -> list[str]:
    # Submodules become attributes of their package when imported: they are not names it
    # exports.
    return [
        name
        for name, value in vars(package).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    ]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_sorted_and_is_the_whole_namespace(name: str) -> None:
    package = importlib.import_module(name)
    assert list(package.__all__) == sorted(package.__all__)
    assert sorted(package.__all__) == sorted(_namespace(package))
    assert len(package.__all__) <= LIMITS[name]


@pytest.mark.parametrize("name", PACKAGES)
def test_every_exported_name_is_reachable_documented_and_public(name: str) -> None:
    package = importlib.import_module(name)
    for symbol in package.__all__:
        value = getattr(package, symbol)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert inspect.getdoc(value), f"{name}.{symbol} has no docstring"
            module = value.__module__
            assert module.startswith(
                ("opsconductor_shared", "opsconductor_contracts", "opsconductor_conformance")
            ), symbol
            assert not value.__name__.startswith("_"), f"{name}.{symbol} is private"


@pytest.mark.parametrize("name", list(PROMISED))
def test_the_promised_names_stay_public(name: str) -> None:
    assert PROMISED[name] <= set(importlib.import_module(name).__all__)


@pytest.mark.parametrize("name", PACKAGES)
def test_no_internal_is_exported(name: str) -> None:
    assert not INTERNALS & set(importlib.import_module(name).__all__)


def test_contracts_all_is_sorted_and_complete() -> None:
    exported = list(opsconductor_contracts.__all__)
    assert exported == sorted(exported)
    assert sorted(exported) == sorted(_namespace(opsconductor_contracts))


def test_contracts_version_matches_schemas() -> None:
    assert load_schema_dir(SCHEMAS).version == opsconductor_contracts.CONTRACTS_VERSION


def test_contracts_export_every_generated_model_they_do_not_withhold() -> None:
    generated = importlib.import_module("opsconductor_contracts._gen")
    names: set[str] = set()
    for info in pkgutil.iter_modules(generated.__path__):
        module = importlib.import_module(f"{generated.__name__}.{info.name}")
        names |= {
            name
            for name, value in vars(module).items()
            if not name.startswith("_")
            and (inspect.isclass(value) or name.isupper())
            and getattr(value, "__module__", module.__name__) == module.__name__
        }
    withheld = set(opsconductor_contracts._WITHHELD)
    assert withheld <= names
    assert sorted(names - withheld - set(opsconductor_contracts.__all__)) == []


def test_every_component_is_a_model() -> None:
    components = set(load_schema_dir(SCHEMAS).components())
    withheld = set(opsconductor_contracts._WITHHELD)
    assert withheld <= components
    assert components - withheld <= set(opsconductor_contracts.__all__)
