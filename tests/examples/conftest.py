"""Fixtures for the reference services: the apps, with the testing kit's `auth_settings`
(the targets service trusts the kit's `auth_headers`) and the auth service's own settings."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from fastapi import FastAPI
from opsconductor_shared import AuthSettings
from opsconductor_shared.database import DatabaseSettings
from psycopg import sql

from examples.auth_service.app import create_app as create_auth_app
from examples.auth_service.settings import AuthServiceSettings
from examples.targets_service.app import create_app as create_targets_app
from examples.targets_service.settings import TargetsSettings
from tests.services import require_postgres, unique_name

PASSWORDS = {
    "admin": "admin-password-123",
    "operator": "operator-password-123",
    "viewer": "viewer-password-123",
}


@pytest.fixture(params=["memory", pytest.param("postgres", marks=pytest.mark.integration)])
def targets_app(request: pytest.FixtureRequest, auth_settings: AuthSettings) -> Iterator[FastAPI]:
    """The targets service on each storage: in memory, and PostgreSQL in a schema of its own."""
    auth = auth_settings
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
def auth_service_settings(tmp_path_factory: pytest.TempPathFactory) -> AuthServiceSettings:
    key_file = tmp_path_factory.mktemp("auth") / "signing-key.pem"
    return AuthServiceSettings(
        environment="development",
        signing_key_file=key_file,
        seed_passwords=PASSWORDS,
        argon2_time_cost=1,
        argon2_memory_kib=1024,
    )


@pytest.fixture
def auth_app(auth_service_settings: AuthServiceSettings) -> FastAPI:
    return create_auth_app(auth_service_settings)
