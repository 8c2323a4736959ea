"""Who a request counts against: the authenticated principal when known, else the client.

The auth layer makes the principal known by storing the verified identity in the request
state under `IDENTITY_STATE_KEY` (`request.state.identity = identity`, the contracts'
`Identity` or anything with `user_id` and `role`, or a mapping with those keys). An
authentication middleware placed outside the rate limiter does so before it runs, so even the
middleware's limits count per principal; an auth dependency does so before a `rate_limit()`
dependency listed after it. Anonymous requests count against the client address resolved
through trusted proxies only (`ClientAddressResolver`): a spoofed `X-Forwarded-For` from an
untrusted peer changes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from opsconductor_contracts import Identity, PrincipalType, Role
from starlette.types import Scope

__all__ = [
    "IDENTITY_STATE_KEY",
    "IdentityResolver",
    "Principal",
    "principal_from_state",
    "principal_of",
    "subject_for",
]

IDENTITY_STATE_KEY = "identity"
_MAX_SUBJECT = 128


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller, as far as rate limits care: an id, a role, and its kind
    (`user`, or `service` for a service's own identity: every replica of it is one)."""

    id: str
    role: str | None = None
    kind: str = "user"


IdentityResolver = Callable[[Scope], Principal | None]


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, Enum):
        value = value.value
    return str(value) or None


def principal_of(identity: object) -> Principal | None:
    """The `Principal` of an identity object or mapping (`user_id`/`sub`/`id`, `role`)."""
    if identity is None or isinstance(identity, Principal):
        return identity
    if identity.__class__ is Identity:  # the auth layer's, on every authenticated request
        verified: Any = identity
        role, kind = verified.role, verified.principal_type
        # Validated fields as the auth layer builds them; anything else (a constructed or
        # reassigned identity) takes the general path below.
        if role.__class__ is Role and kind.__class__ is PrincipalType and verified.user_id:
            return Principal(verified.user_id, role.value, kind.value)
    if isinstance(identity, Mapping):
        found = identity.get("user_id") or identity.get("sub") or identity.get("id")
        role = identity.get("role")
        kind = identity.get("principal_type")
    else:
        found = next(
            (
                getattr(identity, name)
                for name in ("user_id", "sub", "id")
                if getattr(identity, name, None)
            ),
            None,
        )
        role = getattr(identity, "role", None)
        kind = getattr(identity, "principal_type", None)
    principal_id = _text(found)
    if not principal_id:
        return None
    return Principal(principal_id, _text(role), _text(kind) or "user")


def principal_from_state(scope: Scope) -> Principal | None:
    """The `IdentityResolver` the runtime uses: the identity in the request state, if any."""
    state = scope.get("state")
    if not state:
        return None
    return principal_of(state.get(IDENTITY_STATE_KEY))


def subject_for(principal: Principal | None, client: str | None) -> str:
    """The counter name: `user:<id>` (`service:<id>` for a service), else `ip:<address>`
    (`ip:unknown` without one)."""
    subject = (
        f"{principal.kind}:{principal.id}" if principal is not None else f"ip:{client or 'unknown'}"
    )
    if len(subject) > _MAX_SUBJECT or "{" in subject or "}" in subject:
        digest = hashlib.sha256(subject.encode()).hexdigest()
        subject = f"{subject.split(':', 1)[0]}:sha256:{digest}"
    return subject
