"""The targets service started while its PostgreSQL database does not exist yet: it answers
liveness at once, readiness 503 naming the database and why, writes 503 with Retry-After;
once the database is created it becomes ready by itself and stores a write. Two replicas
started together create the schema one at a time and both become ready."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from opsconductor_shared.testing import wait_until
from psycopg import sql

from examples.launcher import ServiceProcess, free_port, targets_service
from tests.dependencies.conftest import (
    HS256_AUTH,
    assert_no_traceback,
    check_of,
    create_target,
    events,
    readiness,
    with_database,
)
from tests.services import require_postgres, unique_name

pytestmark = [pytest.mark.slow, pytest.mark.integration]
# Retries every half second at most, so "ready soon after" is quick to see.
FAST_RETRY = {"TARGETS_SERVICE_DATABASE__RECONNECT_INTERVAL": "0.5"}
WORK = ["idempotency:targets_service.idempotency_keys", "targets_service.schema"]


@pytest.fixture
def missing_database() -> Iterator[tuple[str, str]]:
    """(server URL, name of a database that does not exist yet); dropped afterwards."""
    url = require_postgres()
    name = unique_name("deps")
    yield url, name
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def _create_database(url: str, name: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _targets(workdir: Path, dsn: str, name: str = "targets-service") -> ServiceProcess:
    return targets_service(
        port=free_port(),
        auth_url=None,
        workdir=workdir,
        name=name,
        database_url=dsn,
        extra={**HS256_AUTH, **FAST_RETRY},
    )


def _ready(service: ServiceProcess) -> bool:
    return readiness(service)[0] == 200


def test_starts_without_its_database_and_is_ready_once_it_exists(
    tmp_path: Path, missing_database: tuple[str, str]
) -> None:
    url, name = missing_database
    dsn = with_database(url, name, password="s3cret-pw")
    service = _targets(tmp_path, dsn).start()
    try:
        assert httpx.get(f"{service.url}/health/live", timeout=5).status_code == 200
        wait_until(
            lambda: (
                readiness(service)[0] == 503
                and check_of(readiness(service)[1], "database")["status"] == "unhealthy"
                and "does not exist"
                in (check_of(readiness(service)[1], "database")["message"] or "")
            ),
            timeout=30,
            message="readiness does not say the database is missing",
        )
        _, report = readiness(service)
        message = check_of(report, "database")["message"]
        assert name in message, message
        for secret in ("127.0.0.1", "s3cret-pw", "postgresql://", "5432"):
            assert secret not in message, message
        # The pool's counts say the same: nothing available, failed attempts (the pool counts
        # a connection from the start of its attempt, so `size` and `in_use` are the attempts).
        details = check_of(report, "database")["details"]
        assert details["available"] == 0, details
        assert details["connection_errors"] >= 1, details
        refused = create_target(service, "while-missing")
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "SERVICE_UNAVAILABLE"
        assert int(refused.headers["retry-after"]) >= 1

        _create_database(url, name)
        wait_until(lambda: _ready(service), timeout=30, message="not ready after CREATE DATABASE")
        created = create_target(service, "after-create")
        assert created.status_code == 201, created.text
        listed = httpx.get(
            f"{service.url}/targets",
            headers={"Authorization": created.request.headers["authorization"]},
            timeout=10,
        )
        assert [t["name"] for t in listed.json()["items"]] == ["after-create"]
    finally:
        service.stop()
    assert len(events(service, "dependency_down", dependency="database")) == 1
    assert len(events(service, "dependency_up", dependency="database")) == 1
    assert events(service, "database_startup_work_done")
    assert_no_traceback(service)


def test_two_replicas_racing_create_the_schema_one_at_a_time(
    tmp_path: Path, missing_database: tuple[str, str]
) -> None:
    url, name = missing_database
    dsn = with_database(url, name)
    replicas = [_targets(tmp_path, dsn, name=f"targets-{index}") for index in (1, 2)]
    for replica in replicas:
        replica.start()
    try:
        for replica in replicas:
            assert readiness(replica)[0] == 503
        _create_database(url, name)
        for replica in replicas:
            wait_until(lambda r=replica: _ready(r), timeout=30, message=f"{replica.name} not ready")
        for index, replica in enumerate(replicas):
            created = create_target(replica, f"replica-{index}")
            assert created.status_code == 201, created.text
    finally:
        for replica in replicas:
            replica.stop()
    for replica in replicas:
        # Each piece of startup work (the schema, the idempotency keys' table) done once.
        done = [line["work"] for line in events(replica, "database_startup_work_done")]
        assert sorted(done) == sorted(set(done)) == WORK, replica.name
        assert not events(replica, "database_startup_work_failed"), replica.name
        assert_no_traceback(replica)
    with psycopg.connect(with_database(url, name)) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = 'targets_service' ORDER BY table_name"
        ).fetchall()
    assert [table for (table,) in tables] == ["idempotency_keys", "target_audit", "targets"]
