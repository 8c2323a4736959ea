"""The legacy fixture service (tests/fixtures/legacy) for the codemod's end-to-end tests.

`loaded_app(root)` imports `legacy_service.main:app` from a copy of the fixture at `root`
(the original, or a migrated copy) and forgets it again afterwards: both copies use the
package names `legacy_service` and `shared`, and the old `shared.logging` replaces the root
logger's handlers, which are put back.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from opsconductor_shared.testing import KeySet, TokenFactory

from tests.conftest import ROOT

FIXTURE = ROOT / "tests" / "fixtures" / "legacy"
SERVICE = "legacy_service"
SECRET = "legacy-fixture-secret-of-at-least-32-bytes"
# The old `shared.auth` reads `sub`, `username`, `email`, `role` and ignores the rest.
_TOKENS = TokenFactory(
    KeySet(hs256_secret=SECRET), algorithm="HS256", defaults={"sub": "7", "token_version": 1}
)
_PACKAGES = (SERVICE, "shared")


def _forget_packages() -> None:
    for name in list(sys.modules):
        if name.split(".")[0] in _PACKAGES:
            del sys.modules[name]


@contextlib.contextmanager
def loaded_app(root: Path) -> Iterator[Any]:
    """`legacy_service.main.app` imported from the fixture copy at `root`."""
    root_logger = logging.getLogger()
    handlers, level = list(root_logger.handlers), root_logger.level
    path = list(sys.path)
    _forget_packages()
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(f"{SERVICE}.main").app
    finally:
        sys.path[:] = path
        _forget_packages()
        root_logger.handlers[:] = handlers
        root_logger.setLevel(level)


def token(role: str = "operator", username: str = "alice") -> str:
    """A token both sides accept: HS256 with SECRET, the shared contract's claims."""
    return _TOKENS.issue(role, username=username, email=f"{username}@example.com")


def bearer(role: str = "operator") -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role)}"}
