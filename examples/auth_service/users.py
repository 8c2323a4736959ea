"""Users of the auth service: an in-memory store with argon2 password hashes.

Password hashing is deliberately slow, so it runs in a worker thread and never blocks the
event loop. An unknown username is checked against a dummy hash, so the answer takes as long
as for a known one and does not reveal which usernames exist.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from opsconductor_contracts import Role

from .settings import SEEDED_USERS

USER_ID_NAMESPACE = uuid.UUID("6f0c8a4e-51d7-4a59-9a3e-2f1b7c0e9d11")
SEEDED_ROLES = {"admin": Role.admin, "operator": Role.operator, "viewer": Role.viewer}
SEEDED_PERMISSIONS = {
    "admin": ["targets:write", "targets:delete", "users:revoke"],
    "operator": ["targets:write"],
    "viewer": [],
}


@dataclass
class User:
    """One account."""

    id: str
    username: str
    role: Role
    password_hash: str
    email: str | None = None
    permissions: list[str] = field(default_factory=list)
    token_version: int = 0
    active: bool = True


class UserStore:
    """Users by id and username."""

    def __init__(self, hasher: PasswordHasher) -> None:
        self._hasher = hasher
        self._by_id: dict[str, User] = {}
        self._by_name: dict[str, User] = {}
        self._dummy_hash = hasher.hash(secrets.token_urlsafe(16))

    def add(
        self,
        username: str,
        password: str,
        role: Role,
        *,
        email: str | None = None,
        permissions: list[str] | None = None,
    ) -> User:
        if username.lower() in self._by_name:
            raise ValueError(f"user {username!r} exists")
        user = User(
            # Ids derive from the username, as a persistent store keeps them across restarts.
            id=str(uuid.uuid5(USER_ID_NAMESPACE, username.lower())),
            username=username,
            role=role,
            password_hash=self._hasher.hash(password),
            email=email,
            permissions=list(permissions or []),
        )
        self._by_id[user.id] = user
        self._by_name[username.lower()] = user
        return user

    def seed(self, passwords: dict[str, str]) -> dict[str, str]:
        """Create admin, operator and viewer; return the passwords that were generated."""
        generated = {}
        for name in SEEDED_USERS:
            password = passwords.get(name)
            if password is None:
                password = generated[name] = secrets.token_urlsafe(12)
            self.add(
                name,
                password,
                SEEDED_ROLES[name],
                email=f"{name}@opsconductor.local",
                permissions=SEEDED_PERMISSIONS[name],
            )
        return generated

    def get(self, user_id: str) -> User | None:
        return self._by_id.get(user_id)

    def by_username(self, username: str) -> User | None:
        return self._by_name.get(username.lower())

    async def authenticate(self, username: str, password: str) -> User | None:
        """The active user with these credentials, or None (same cost either way)."""
        user = self.by_username(username)
        stored = user.password_hash if user is not None and user.active else self._dummy_hash
        try:
            await anyio.to_thread.run_sync(self._hasher.verify, stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if user is None or not user.active:
            return None
        return user

    def revoke(self, user_id: str) -> User | None:
        """Invalidate every token issued to the user so far (its token version moves on)."""
        user = self._by_id.get(user_id)
        if user is not None:
            user.token_version += 1
        return user
