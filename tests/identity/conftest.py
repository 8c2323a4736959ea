"""Fixtures of the service identity tests: an auth service with service accounts."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from examples.auth_service.app import create_app as create_auth_app
from examples.auth_service.settings import AuthServiceSettings

PASSWORDS = {
    "admin": "admin-password-123",
    "operator": "operator-password-123",
    "viewer": "viewer-password-123",
}
SCHEDULER_SECRET = "scheduler-secret-0123456789"
EXECUTOR_SECRET = "executor-secret-0123456789"
ACCOUNTS = {
    "scheduler": {
        "secrets": [SCHEDULER_SECRET],
        "role": "operator",
        "scopes": ["jobs:run", "targets:read"],
    },
    "executor": {"secrets": [EXECUTOR_SECRET], "scopes": ["jobs:report"]},
}


def auth_settings_with_accounts(tmp_path: Any, **overrides: Any) -> AuthServiceSettings:
    options: dict[str, Any] = {
        "environment": "development",
        "signing_key_file": tmp_path / "signing-key.pem",
        "seed_passwords": PASSWORDS,
        "argon2_time_cost": 1,
        "argon2_memory_kib": 1024,
        "service_accounts": ACCOUNTS,
    }
    return AuthServiceSettings(**(options | overrides))


@pytest.fixture
def identity_auth_app(tmp_path: Any) -> FastAPI:
    return create_auth_app(auth_settings_with_accounts(tmp_path))
