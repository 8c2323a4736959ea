"""Fixtures for the reference services: apps wired to each other in-process, and tokens."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import jwt
import psycopg
import pytest
from fastapi import FastAPI
from opsconductor_contracts import Role
from opsconductor_shared import AuthSettings
from opsconductor_shared.database import DatabaseSettings
from psycopg import sql

from examples.auth_service.app import create_app as create_auth_app
from examples.auth_service.settings import AuthServiceSettings
from examples.targets_service.app import create_app as create_targets_app
from examples.targets_service.settings import TargetsSettings
from tests.services import require_postgres, unique_name

HS256_SECRET = "a-test-secret-of-at-least-thirty-two-bytes"
PASSWORDS = {
    "admin": "admin-password-123",
    "operator": "operator-password-123",
    "viewer": "viewer-password-123",
}


def hs256_token(role: Role | str, *, sub: str = "7", ttl: int = 600, **overrides: object) -> str:
    """An access token the targets service accepts when it verifies with `HS256_SECRET`."""
    now = int(time.time())
    claims = {
        "sub": sub,
        "username": f"user-{role}",
        "role": str(role),
        "permissions": [],
        "token_version": 0,
        "type": "access",
        "iat": now,
        "exp": now + ttl,
        "iss": "opsconductor-auth",
        "aud": "opsconductor",
        "jti": str(uuid.uuid4()),
        **overrides,
    }
    return jwt.encode(claims, HS256_SECRET, algorithm="HS256")


@pytest.fixture
def bearer() -> Callable[[Role | str], dict[str, str]]:
    return lambda role: {"Authorization": f"Bearer {hs256_token(role)}"}


@pytest.fixture(params=["memory", pytest.param("postgres", marks=pytest.mark.integration)])
def targets_app(request: pytest.FixtureRequest) -> Iterator[FastAPI]:
    """The targets service on each storage: in memory, and PostgreSQL in a schema of its own."""
    auth = AuthSettings(hs256_secret=HS256_SECRET)
    if request.param == "memory":
        yield create_targets_app(TargetsSettings(auth=auth, cursor_secret="test", database=None))
        return
    url = require_postgres()
    schema = unique_name("targets")
    database = DatabaseSettings(dsn=url, min_size=1, max_size=4)
    yield create_targets_app(
        TargetsSettings(auth=auth, cursor_secret="test", database=database, database_schema=schema)
    )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def auth_settings(tmp_path_factory: pytest.TempPathFactory) -> AuthServiceSettings:
    key_file = tmp_path_factory.mktemp("auth") / "signing-key.pem"
    return AuthServiceSettings(
        environment="development",
        signing_key_file=key_file,
        seed_passwords=PASSWORDS,
        argon2_time_cost=1,
        argon2_memory_kib=1024,
    )


@pytest.fixture
def auth_app(auth_settings: AuthServiceSettings) -> FastAPI:
    return create_auth_app(auth_settings)
