"""The hand-written `opsconductor_contracts` around the generated `_gen/`: its version, and the
model it withholds on purpose."""

from __future__ import annotations

import subprocess
import sys

import opsconductor_contracts
import pytest
from opsconductor_conformance import load_schema_dir
from opsconductor_contracts import _gen

from tests.conftest import SCHEMAS

ADVICE = "opsconductor_shared.PaginatedResponse[T]"


def test_contracts_version_is_the_schemas_version() -> None:
    schemas_version = load_schema_dir(SCHEMAS).version
    assert schemas_version == opsconductor_contracts.CONTRACTS_VERSION
    assert opsconductor_contracts.CONTRACTS_VERSION is _gen.CONTRACTS_VERSION


def test_the_page_template_is_not_exported() -> None:
    assert "PaginatedResponse" not in opsconductor_contracts.__all__
    assert "PaginatedResponse" not in dir(opsconductor_contracts)


def test_attribute_access_to_the_page_template_says_what_to_use() -> None:
    with pytest.raises(ImportError, match=r"opsconductor_shared\.PaginatedResponse\[T\]"):
        _ = opsconductor_contracts.PaginatedResponse  # type: ignore[attr-defined]


def test_importing_the_page_template_says_what_to_use() -> None:
    # In a fresh interpreter, as a service would write it: the advice survives `from ... import`.
    result = subprocess.run(
        [sys.executable, "-c", "from opsconductor_contracts import PaginatedResponse"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: opsconductor_contracts.PaginatedResponse is not exported")
    assert ADVICE in last


def test_other_unknown_names_are_plain_attribute_errors() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        _ = opsconductor_contracts.Nope  # type: ignore[attr-defined]
    assert not hasattr(opsconductor_contracts, "Nope")
