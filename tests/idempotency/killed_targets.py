"""The targets service, killed (SIGKILL) between its write and its answer: right after the
first create's transaction commits (where `AuditTrail.committed` runs), before the
idempotency middleware or anything else sees the response; once per marker file
(`KILL_MARKER`).

    uvicorn tests.idempotency.killed_targets:create_app --factory
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from examples.targets_service import audit
from examples.targets_service.app import create_app as create_targets_app


def create_app() -> FastAPI:
    marker = Path(os.environ["KILL_MARKER"])
    committed = audit.AuditTrail.committed

    def committed_then_killed(trail: audit.AuditTrail, entry: Any) -> None:
        if not marker.exists():
            marker.touch()
            os.kill(os.getpid(), signal.SIGKILL)
        committed(trail, entry)

    audit.AuditTrail.committed = committed_then_killed  # type: ignore[method-assign]
    return create_targets_app()
