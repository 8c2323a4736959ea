"""Fixtures of the database tests: the PostgreSQL URL, settings, and a schema per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import psycopg
import pytest
from opsconductor_shared.database import DatabaseSettings
from psycopg import sql

from tests.services import require_postgres, unique_name


@pytest.fixture
def database_url() -> str:
    return require_postgres()


@pytest.fixture
def application_name() -> str:
    return unique_name("oc_test")


@pytest.fixture
def settings(database_url: str, application_name: str) -> DatabaseSettings:
    return DatabaseSettings(
        dsn=database_url,
        min_size=1,
        max_size=4,
        acquire_timeout=2.0,
        application_name=application_name,
    )


@pytest.fixture
async def schema(database_url: str) -> AsyncIterator[str]:
    """A fresh schema for this test, dropped afterwards."""
    name = unique_name("oc_test")
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
        try:
            yield name
        finally:
            await conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))


async def terminate_backends(database_url: str, application_name: str) -> int:
    """`pg_terminate_backend` every connection of one pool, and wait until each backend has
    exited (its FATAL message sent), up to 10 s; how many there were."""
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        cursor = await conn.execute(
            "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity"
            " WHERE application_name = %s",
            [application_name],
        )
        return len(await cursor.fetchall())
