"""The wheel installs the import packages (the typed ones marked), with the schemas as package data."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT, SCHEMAS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
    )
    (path,) = out.glob("opsconductor_shared-*.whl")
    return path


def test_wheel_contents(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "opsconductor_contracts/py.typed" in names
    assert "opsconductor_shared/py.typed" in names
    assert "opsconductor_conformance/py.typed" in names
    for schema in SCHEMAS.glob("*.yaml"):
        assert f"opsconductor_contracts/schemas/{schema.name}" in names
    assert not any(name.startswith(("tests/", "schemas/", "scripts/")) for name in names)


def test_installs_into_a_fresh_venv(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "venv"
    venv.create(target, with_pip=True)
    python = target / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-deps", str(wheel)], check=True)
    # Dependencies come from this venv's site-packages (PYTHONPATH does not process the .pth of
    # the editable install, so the packages themselves can only come from the wheel).
    env = {**os.environ, "PYTHONPATH": sysconfig.get_paths()["purelib"]}
    probe = (
        f"TARGET = {str(target)!r}\n"
        + """
import pathlib, opsconductor_conformance, opsconductor_contracts, opsconductor_shared
from opsconductor_conformance import shared_schema_dir, load_schema_dir
for module in (opsconductor_conformance, opsconductor_contracts, opsconductor_shared):
    assert "site-packages" in module.__file__ and str(pathlib.Path(module.__file__)).startswith(TARGET), module.__file__
directory = shared_schema_dir()
assert directory == pathlib.Path(opsconductor_contracts.__file__).parent / "schemas", directory
loaded = load_schema_dir(directory)
assert loaded.version == opsconductor_contracts.CONTRACTS_VERSION
print(sorted(p.name for p in directory.glob("*.yaml")))
"""
    )
    result = subprocess.run(
        [python, "-c", probe], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(sorted(p.name for p in SCHEMAS.glob("*.yaml")))
    cli = subprocess.run(
        [target / "bin" / "opsconductor-contracts", "lint"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert cli.returncode == 0, cli.stdout + cli.stderr
