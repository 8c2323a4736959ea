"""One audit entry per change, in the shared `AuditLog` shape, stored with the change and logged.

A route makes an `AuditTrail` for its request and hands it to the repository; the repository
builds each change's entry (`entry`) inside the write's transaction, so the change and its
entry are stored together or not at all, and calls `committed` once both are stored, which
logs the entry. A change is never logged as audited when it was rolled back.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

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

from .models import Target

log = get_logger("targets_service.audit")


class AuditTrail:
    """The audit entries of one request's changes to targets (see the module docstring).

    Args:
        request: the request making the changes (service, client address, user agent).
        identity: who makes them.
        action: such as `target.create`.
    """

    def __init__(self, request: Request, identity: Identity, action: str) -> None:
        runtime = get_runtime(request.app)
        self.service = runtime.name
        self.identity = identity
        self.action = action
        self.source_ip = runtime.client_address(request.scope)
        self.user_agent = (request.headers.get("user-agent") or "")[:512] or None

    def entry(self, target_id: int, *, before: Target | None, after: Target | None) -> AuditLog:
        """The entry of one change, `before` and `after` masked (None: created, deleted)."""
        changes = AuditChanges(
            before=None if before is None else mask_sensitive_data(before.model_dump(mode="json")),
            after=None if after is None else mask_sensitive_data(after.model_dump(mode="json")),
        )
        return AuditLog(
            id=uuid.uuid4().hex,
            timestamp=datetime.now(UTC),
            service=self.service,
            actor=AuditActor(
                type=ActorType.user,
                id=self.identity.user_id,
                username=self.identity.username,
                role=self.identity.role.value,
            ),
            action=self.action,
            resource_type="target",
            resource_id=str(target_id),
            outcome=AuditOutcome.success,
            request_id=get_request_id() or "",
            source_ip=self.source_ip,
            user_agent=self.user_agent,
            changes=changes,
        )

    def committed(self, entry: AuditLog) -> None:
        """Log `entry`: it is stored, with its change."""
        log.info(
            "audit",
            action=entry.action,
            resource_id=entry.resource_id,
            outcome=entry.outcome.value,
            actor=entry.actor.id,
        )
