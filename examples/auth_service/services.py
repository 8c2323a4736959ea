"""Service accounts: the identities services use to call each other (client credentials).

A service account has a client id (`scheduler`), a role and scopes, and one or two argon2
hashes of its secret. Two during a rotation: `rotate` makes a new secret and keeps the
previous one valid for `overlap` seconds, so every replica of the service can move to the new
secret before the old one stops working. Secrets are checked in a worker thread (argon2 is
slow on purpose), and an unknown client id is checked against a dummy hash, so the answer
takes as long either way and does not reveal which accounts exist.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from opsconductor_contracts import Role

__all__ = ["SECRET_BYTES", "ServiceAccount", "ServiceAccountStore", "SecretHash"]

SECRET_BYTES = 32


@dataclass(frozen=True, slots=True)
class SecretHash:
    """An argon2 hash of one secret, and when it stops being accepted (None: never)."""

    hash: str
    expires_at: float | None = None


@dataclass
class ServiceAccount:
    """One service's identity."""

    client_id: str
    role: Role
    scopes: list[str]
    secrets: list[SecretHash] = field(default_factory=list)
    token_version: int = 0
    active: bool = True

    @property
    def id(self) -> str:
        """The token subject: the client id."""
        return self.client_id

    def live_secrets(self, now: float) -> list[SecretHash]:
        return [s for s in self.secrets if s.expires_at is None or s.expires_at > now]


class ServiceAccountStore:
    """Service accounts by client id.

    Args:
        hasher: the argon2 hasher.
        clock: wall-clock seconds (tests pass a fake one).
    """

    def __init__(self, hasher: PasswordHasher, *, clock: Callable[[], float] = time.time) -> None:
        self._hasher = hasher
        self._clock = clock
        self._accounts: dict[str, ServiceAccount] = {}
        self._dummy_hash = hasher.hash(secrets.token_urlsafe(16))

    def add(self, client_id: str, secrets_: list[str], role: Role, scopes: list[str]) -> None:
        """Register an account with one or two valid secrets (two: a rotation in progress).

        Raises:
            ValueError: the account exists, or it has no secret or more than two.
        """
        if client_id in self._accounts:
            raise ValueError(f"service account {client_id!r} exists")
        if not 1 <= len(secrets_) <= 2:
            raise ValueError(f"service account {client_id!r} needs one or two secrets")
        self._accounts[client_id] = ServiceAccount(
            client_id,
            role,
            list(scopes),
            [SecretHash(self._hasher.hash(secret)) for secret in secrets_],
        )

    def get(self, client_id: str) -> ServiceAccount | None:
        return self._accounts.get(client_id)

    async def authenticate(self, client_id: str, secret: str) -> ServiceAccount | None:
        """The active account with this secret (the current or, during an overlap, the
        previous one), or None; as slow for an unknown client id as for a known one."""
        account = self._accounts.get(client_id)
        now = self._clock()
        hashes = (
            [s.hash for s in account.live_secrets(now)]
            if account is not None and account.active
            else []
        ) or [self._dummy_hash]
        matched = False
        for stored in hashes:
            if await anyio.to_thread.run_sync(self._matches, stored, secret):
                matched = True
                break
        if not matched or account is None or not account.active:
            return None
        return account

    def _matches(self, stored: str, secret: str) -> bool:
        try:
            return self._hasher.verify(stored, secret)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def rotate(self, client_id: str, *, overlap: float) -> tuple[str, float | None] | None:
        """A new secret for the account; the current one stays valid `overlap` more seconds
        and any older one ends now. None when there is no such account.

        Returns:
            the new secret and when the previous one expires (None: there was none).
        """
        account = self._accounts.get(client_id)
        if account is None:
            return None
        now = self._clock()
        live = account.live_secrets(now)
        new_secret = secrets.token_urlsafe(SECRET_BYTES)
        previous_expires = now + overlap if live and overlap > 0 else None
        kept = [SecretHash(live[0].hash, previous_expires)] if previous_expires else []
        account.secrets = [SecretHash(self._hasher.hash(new_secret)), *kept]
        return new_secret, previous_expires
