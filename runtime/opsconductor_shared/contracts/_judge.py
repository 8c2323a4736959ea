"""Which of a service's components are shared contracts, and schemas normalised on that basis.

A component is taken for shared contract X when it is named X (FastAPI's `X-Input` and
`X-Output` too), is marked `x-opsconductor-contract: X`, carries FastAPI's generic name or title
(`X_Target_`, `X[Target]`), or, for the page template, has its structure (`items` and
`pagination`). Such a component is checked once, where it is defined (`component-compat`);
everywhere else, references to it are resolved to the contract itself, so one broken component
yields one finding, not one per operation that uses it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import Any

from ._compat import Direction, compatibility_differences
from ._normalize import SchemaCache, SchemaDifference, normalize_schema
from ._openapi import ServiceDocument
from ._schemaset import resolve_pointer
from ._shared import SharedContracts

__all__: list[str] = []

CONTRACT_KEY = "x-opsconductor-contract"
PAGE = "PaginatedResponse"
_GENERIC_NAME = re.compile(r"^([A-Za-z][A-Za-z0-9]*)_.+_$")
_GENERIC_TITLE = re.compile(r"^([A-Za-z][A-Za-z0-9]*)\[.+\]$")
SPLIT_SUFFIX = re.compile(r"-(Input|Output)$")
_COMPONENT_PREFIX = "#/components/schemas/"


def _shared_name(name: str, schema: Mapping[str, Any], shared: SharedContracts) -> str | None:
    marker = schema.get(CONTRACT_KEY)
    if isinstance(marker, str):
        return marker
    base = SPLIT_SUFFIX.sub("", name)
    if base in shared.names:
        return base
    for pattern, text in ((_GENERIC_NAME, base), (_GENERIC_TITLE, str(schema.get("title", "")))):
        match = pattern.match(text)
        if match and match.group(1) in shared.names:
            return match.group(1)
    properties = schema.get("properties")
    is_page = isinstance(properties, Mapping) and {"items", "pagination"} <= set(properties)
    return PAGE if is_page and PAGE in shared.names else None


class _Judge:
    def __init__(self, doc: ServiceDocument, shared: SharedContracts) -> None:
        self.doc, self.shared = doc, shared
        self._cache = SchemaCache()
        self._verdicts: dict[tuple[str, str, int], tuple[Any, list[SchemaDifference]]] = {}

    @cached_property
    def contracts(self) -> dict[str, str]:
        """Service component name -> the shared contract it is taken for (may be unknown)."""
        found = {}
        for name, schema in self.doc.components.items():
            if isinstance(schema, Mapping):
                contract = _shared_name(name, schema, self.shared)
                if contract is not None:
                    found[name] = contract
        return found

    def resolve(self, ref: str) -> tuple[Any, Callable[[str], Any]]:
        if ref.startswith(_COMPONENT_PREFIX):
            name = ref[len(_COMPONENT_PREFIX) :].replace("~1", "/").replace("~0", "~")
            contract = self.contracts.get(name)
            if contract in self.shared.names:
                return self.shared.resolvable(contract)
        return resolve_pointer(self.doc.document, ref[1:]), self.resolve

    def normalized(self, schema: Any) -> Any:
        return normalize_schema(schema, self.resolve, cache=self._cache)

    def differences(
        self, contract: str, schema: Any, direction: Direction | None = None
    ) -> list[SchemaDifference]:
        direction = direction or self.shared.direction(contract)
        actual = self.normalized(schema)
        # Normalised references are shared objects: judge each one once per contract.
        key = (contract, direction, id(actual))
        cached = self._verdicts.get(key)
        if cached is None or cached[0] is not actual:
            expected = self.shared.expected(contract)
            found = list(compatibility_differences(expected, actual, direction=direction))
            cached = self._verdicts[key] = (actual, found)
        return cached[1]


def _judge(doc: ServiceDocument, shared: SharedContracts) -> _Judge:
    return doc.memo(("judge", id(shared)), lambda: _Judge(doc, shared))
