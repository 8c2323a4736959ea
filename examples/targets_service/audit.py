"""One audit entry per change, in the shared `AuditLog` shape, stored and logged."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from opsconductor_contracts import (
    ActorType,
    AuditActor,
    AuditChanges,
    AuditLog,
    AuditOutcome,
    Identity,
)
from opsconductor_shared import get_logger, get_request_id, get_runtime, mask_sensitive_data

from .repository import TargetRepository

log = get_logger("targets_service.audit")


async def record(
    repository: TargetRepository,
    request: Request,
    identity: Identity,
    action: str,
    *,
    resource_id: str | None,
    outcome: AuditOutcome = AuditOutcome.success,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditLog:
    """Store and log one audit entry for the current request."""
    runtime = get_runtime(request.app)
    changes = (
        None
        if before is None and after is None
        else AuditChanges(before=mask_sensitive_data(before), after=mask_sensitive_data(after))
    )
    entry = AuditLog(
        id=uuid.uuid4().hex,
        timestamp=datetime.now(UTC),
        service=runtime.name,
        actor=AuditActor(
            type=ActorType.user,
            id=identity.user_id,
            username=identity.username,
            role=identity.role.value,
        ),
        action=action,
        resource_type="target",
        resource_id=resource_id,
        outcome=outcome,
        request_id=get_request_id() or "",
        source_ip=runtime.client_address(request.scope),
        user_agent=(request.headers.get("user-agent") or "")[:512] or None,
        changes=changes,
    )
    await repository.record_audit(entry)
    log.info(
        "audit",
        action=action,
        resource_id=resource_id,
        outcome=outcome.value,
        actor=identity.user_id,
    )
    return entry
