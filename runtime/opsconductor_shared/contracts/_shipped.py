"""Where the shared schemas are: package data of `opsconductor_contracts`, in any install."""

from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path

__all__ = ["shared_schema_dir"]


def shared_schema_dir() -> Path:
    """The directory of the shared contract schemas shipped inside `opsconductor_contracts`.

    Raises:
        FileNotFoundError: the installed package carries no schemas (a broken install).
    """
    resource = files("opsconductor_contracts").joinpath("schemas")
    with as_file(resource) as path:
        directory = Path(path)
    if not directory.is_dir() or not any(directory.glob("*.yaml")):
        raise FileNotFoundError(
            f"no schemas in {directory}: reinstall opsconductor-shared (the wheel ships them)"
        )
    return directory
