"""The shared contracts as the conformance rules use them: normalised once, with directions."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

from ._compat import Direction, contract_direction
from ._normalize import SchemaCache, normalize_schema
from ._schemaset import SchemaSet, load_schema_dir
from ._shipped import shared_schema_dir

__all__ = ["SharedContracts"]

_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)")


class SharedContracts:
    """A loaded schema directory, its components normalised on first use and kept.

    Raises (from `load`):
        SchemaSetError: the directory is not a well-formed set of contract schemas.
    """

    _loaded: dict[Path, SharedContracts] = {}  # noqa: RUF012 - a per-process cache by design

    def __init__(self, schemaset: SchemaSet) -> None:
        self.schemaset = schemaset
        self.version = schemaset.version
        self._raw = schemaset.components()
        self._cache = SchemaCache()
        self._normalized: dict[str, Any] = {}
        self._resolvers: dict[str, Callable[[str], Any]] = {}

    @classmethod
    def load(cls, directory: Path | str | None = None) -> SharedContracts:
        """The contracts in `directory` (default: the shipped shared schemas), loaded once."""
        path = Path(directory or shared_schema_dir()).resolve()
        if path not in cls._loaded:
            cls._loaded[path] = cls(load_schema_dir(path))
        return cls._loaded[path]

    @property
    def major(self) -> int:
        match = _SEMVER.match(self.version)
        return int(match.group(1)) if match else 0

    @cached_property
    def names(self) -> frozenset[str]:
        return frozenset(self._raw)

    def raw(self, name: str) -> Mapping[str, Any]:
        return self._raw[name][1]

    def resolvable(self, name: str) -> tuple[Mapping[str, Any], Callable[[str], Any]]:
        """Component `name` as written, with a resolver for the references inside it."""
        if name not in self._resolvers:
            document, _ = self._raw[name]
            self._resolvers[name] = self.schemaset.resolver(document)
        return self._raw[name][1], self._resolvers[name]

    def direction(self, name: str) -> Direction:
        return contract_direction(self.raw(name))

    def expected(self, name: str) -> Any:
        """Component `name`, normalised (never mutate the result)."""
        if name not in self._normalized:
            document, schema = self._raw[name]
            self._normalized[name] = normalize_schema(
                schema, self.schemaset.resolver(document), cache=self._cache
            )
        return self._normalized[name]
