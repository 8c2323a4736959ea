"""`startup.require_dependencies = true`: a service whose dependency is missing exits non-zero
within the startup timeout, saying so in one sentence that names the dependency, with no
traceback; with the dependency there it starts as usual."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from examples.launcher import ServiceProcess, free_port, targets_service
from tests.dependencies.conftest import HS256_AUTH, RedisServer, readiness, with_database
from tests.services import require_postgres, unique_name

pytestmark = [pytest.mark.slow, pytest.mark.integration]
REQUIRE = {
    "TARGETS_SERVICE_STARTUP__REQUIRE_DEPENDENCIES": "true",
    "TARGETS_SERVICE_STARTUP__TIMEOUT": "2",
}


def _start(workdir: Path, extra: dict[str, str], database_url: str | None = None) -> ServiceProcess:
    return targets_service(
        port=free_port(),
        auth_url=None,
        workdir=workdir,
        database_url=database_url,
        extra={**HS256_AUTH, **REQUIRE, **extra},
    )


def _exits_with_one_sentence(service: ServiceProcess, dependency: str, why: str) -> None:
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="exited with 3"):
        service.start(timeout=60)
    assert time.monotonic() - started < 30
    text = "\n".join(service.log_lines())
    assert "Traceback" not in text, text[-3000:]
    sentences = [line for line in service.log_lines() if "cannot start" in line]
    assert len(sentences) == 1, text[-3000:]
    assert f"{dependency} (" in sentences[0]
    assert why in sentences[0]
    assert "TARGETS_SERVICE_STARTUP__REQUIRE_DEPENDENCIES=false" in sentences[0]


def test_a_missing_database_exits_with_one_sentence(tmp_path: Path) -> None:
    url = require_postgres()
    service = _start(tmp_path, {}, database_url=with_database(url, unique_name("absent")))
    _exits_with_one_sentence(service, "database", "does not exist")


def test_a_missing_redis_exits_with_one_sentence(tmp_path: Path) -> None:
    redis = RedisServer(tmp_path)  # never started
    extra = {
        "TARGETS_SERVICE_RATE_LIMIT__STORAGE": "redis",
        "TARGETS_SERVICE_RATE_LIMIT__REDIS__URL": redis.url,
        "TARGETS_SERVICE_RATE_LIMIT__FAILURE_POLICY": "closed",
    }
    _exits_with_one_sentence(_start(tmp_path, extra), "rate_limit_store", "Connection refused")


def test_with_its_dependencies_there_it_starts_ready(tmp_path: Path) -> None:
    url = require_postgres()
    name = unique_name("present")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    service = _start(tmp_path, {}, database_url=with_database(url, name))
    try:
        service.start()
        assert readiness(service)[0] == 200
    finally:
        service.stop()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
