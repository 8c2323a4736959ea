"""Helpers for the contract tooling tests: run the CLI in-process and capture its output."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from opsconductor_conformance.cli import main

from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures"
OPENAPI_FIXTURES = FIXTURES / "openapi"


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


CLI = Callable[..., Run]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CLI:
    """Run `opsconductor-contracts` in-process (in an empty directory, so no config is found)."""
    monkeypatch.chdir(tmp_path)

    def run(*argv: str | Path) -> Run:
        code = main([str(a) for a in argv])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run
