"""Exactly once with the PostgreSQL store: the targets service records a create's response in
the transaction of the create, so a fault on either side of the commit cannot duplicate it.

- a fault just before the commit: nothing is stored, and the retry runs (once);
- a fault just after it (the answer never sent): the retry replays, one target;
- the server process SIGKILLed between the write and the answer, under uvicorn: the retry,
  on a new process, replays the original 201, and exactly one row exists.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from opsconductor_shared import AuthSettings
from opsconductor_shared.database import DatabaseSettings
from opsconductor_shared.idempotency import PostgresIdempotencyStore
from opsconductor_shared.testing import KeySet, TokenFactory
from psycopg import sql

from examples.launcher import free_port, targets_service
from examples.targets_service import audit
from examples.targets_service.app import create_app
from examples.targets_service.settings import TargetsSettings
from tests.services import require_postgres, unique_name

pytestmark = pytest.mark.integration
AuthHeaders = Callable[..., dict[str, str]]


def _target(name: str) -> dict[str, Any]:
    return {"name": name, "hostname": f"{name}.example.com", "os_type": "linux"}


def _drop(url: str, schema: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def _count(url: str, schema: str, table: str, where: str = "TRUE") -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            sql.SQL("SELECT count(*) FROM {}.{} WHERE {}").format(
                sql.Identifier(schema), sql.Identifier(table), sql.SQL(where)
            )
        ).fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture
def postgres_targets(auth_settings: AuthSettings) -> Iterator[tuple[FastAPI, str, str]]:
    url = require_postgres()
    schema = unique_name("pgidem")
    settings = TargetsSettings(
        auth=auth_settings,
        cursor_secret="test",
        database=DatabaseSettings(dsn=url, min_size=1, max_size=4),
        database_schema=schema,
    )
    assert settings.idempotency.storage == "postgres"
    assert settings.idempotency.table == f"{schema}.idempotency_keys"
    try:
        yield create_app(settings), url, schema
    finally:
        _drop(url, schema)


class Once:
    """Makes the next call of `owner.name` fail once it has run (its effect is done)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> None:
        self.armed = True
        original = getattr(owner, name)

        async def async_fault(*args: Any, **kwargs: Any) -> Any:
            result = await original(*args, **kwargs)
            self._fire()
            return result

        def fault(*args: Any, **kwargs: Any) -> Any:
            result = original(*args, **kwargs)
            self._fire()
            return result

        is_async = inspect.iscoroutinefunction(original)
        monkeypatch.setattr(owner, name, async_fault if is_async else fault)

    def _fire(self) -> None:
        if self.armed:
            self.armed = False
            raise RuntimeError("injected fault")


@pytest.mark.parametrize("path", ["/targets", "/targets/bulk"])
def test_a_fault_just_before_commit_stores_nothing_and_the_retry_runs_once(
    postgres_targets: tuple[FastAPI, str, str],
    auth_headers: AuthHeaders,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
) -> None:
    app, url, schema = postgres_targets
    # The response is recorded, then the transaction fails before its COMMIT.
    fault = Once(monkeypatch, PostgresIdempotencyStore, "record")
    name = f"before-{uuid.uuid4().hex[:8]}"
    body = {"items": [_target(name)]} if path.endswith("bulk") else _target(name)
    headers = {**auth_headers("operator"), "Idempotency-Key": str(uuid.uuid4())}
    with TestClient(app, raise_server_exceptions=False) as client:
        failed = client.post(path, json=body, headers=headers)
        assert failed.status_code == 500
        assert not fault.armed
        assert _count(url, schema, "targets") == 0
        assert _count(url, schema, "idempotency_keys") == 0  # the claim was released
        retried = client.post(path, json=body, headers=headers)
        assert retried.status_code in (200, 201), retried.text
        assert "idempotent-replayed" not in retried.headers
        again = client.post(path, json=body, headers=headers)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == retried.content
    assert _count(url, schema, "targets") == 1
    assert _count(url, schema, "target_audit") == 1


@pytest.mark.parametrize("path", ["/targets", "/targets/bulk"])
def test_a_fault_just_after_commit_is_replayed_and_makes_one_target(
    postgres_targets: tuple[FastAPI, str, str],
    auth_headers: AuthHeaders,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
) -> None:
    app, url, schema = postgres_targets
    # `committed` runs once the transaction has committed: the answer is then lost to a 500.
    fault = Once(monkeypatch, audit.AuditTrail, "committed")
    name = f"after-{uuid.uuid4().hex[:8]}"
    body = (
        {"items": [_target(name), _target(f"{name}-2")]} if path.endswith("bulk") else _target(name)
    )
    headers = {**auth_headers("operator"), "Idempotency-Key": str(uuid.uuid4())}
    with TestClient(app, raise_server_exceptions=False) as client:
        failed = client.post(path, json=body, headers=headers)
        assert failed.status_code == 500
        assert not fault.armed
        retried = client.post(path, json=body, headers=headers)
        listed = client.get("/targets", headers=auth_headers("viewer")).json()
    assert retried.status_code in (200, 201), retried.text
    assert retried.headers["idempotent-replayed"] == "true"
    targets = _count(url, schema, "targets")
    assert targets == (2 if path.endswith("bulk") else 1)
    if path.endswith("bulk"):
        result = retried.json()
        assert (result["succeeded"], result["failed"]) == (2, 0)
        assert {item["id"] for item in result["items"]} == {
            str(item["id"]) for item in listed["items"]
        }
    else:
        assert retried.json()["id"] == listed["items"][0]["id"]
        assert retried.json()["name"] == name


@pytest.mark.slow
def test_sigkill_between_write_and_answer_replays_the_original_201(tmp_path: Path) -> None:
    url = require_postgres()
    schema = unique_name("pgkill")
    keys = KeySet()
    operator = TokenFactory(keys, algorithm="HS256").auth_headers(role="operator", sub="op-kill")
    marker = tmp_path / "killed"
    env = {
        "TARGETS_SERVICE_AUTH__HS256_SECRET": keys.hs256_secret,
        "TARGETS_SERVICE_DATABASE_SCHEMA": schema,
        "TARGETS_SERVICE_RATE_LIMIT__ENABLED": "false",
        "KILL_MARKER": str(marker),
    }
    name = f"killed-{uuid.uuid4().hex[:8]}"
    headers = {**operator, "Idempotency-Key": str(uuid.uuid4())}
    first = targets_service(
        port=free_port(), auth_url=None, workdir=tmp_path, name="killed",
        database_url=url, extra=env,
    )  # fmt: skip
    first.factory = "tests.idempotency.killed_targets:create_app"
    second = targets_service(
        port=free_port(), auth_url=None, workdir=tmp_path, name="restarted",
        database_url=url, extra=env,
    )  # fmt: skip
    try:
        first.start()
        with pytest.raises(httpx.TransportError):
            httpx.post(f"{first.url}/targets", json=_target(name), headers=headers, timeout=30)
        assert first.process is not None
        assert first.process.wait(timeout=30) == -9  # SIGKILL, after the commit
        assert marker.exists()
        assert _count(url, schema, "targets") == 1
        second.start()
        retried = httpx.post(
            f"{second.url}/targets", json=_target(name), headers=headers, timeout=30
        )
        assert retried.status_code == 201, retried.text
        assert retried.headers["idempotent-replayed"] == "true"
        stored = httpx.get(f"{second.url}/targets/{retried.json()['id']}", headers=operator)
        assert stored.status_code == 200
        assert retried.json() == stored.json()
        assert _count(url, schema, "targets") == 1
    finally:
        first.stop()
        second.stop()
        _drop(url, schema)


def test_a_recorded_response_is_not_stored_again_by_the_middleware(
    postgres_targets: tuple[FastAPI, str, str],
    auth_headers: AuthHeaders,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, url, schema = postgres_targets
    completed: list[str] = []
    original = PostgresIdempotencyStore.complete

    async def complete(store: PostgresIdempotencyStore, key: str, *args: Any, **kw: Any) -> None:
        completed.append(key)
        await original(store, key, *args, **kw)

    monkeypatch.setattr(PostgresIdempotencyStore, "complete", complete)
    headers = {**auth_headers("operator"), "Idempotency-Key": str(uuid.uuid4())}
    with TestClient(app) as client:
        created = client.post("/targets", json=_target("recorded"), headers=headers)
        again = client.post("/targets", json=_target("recorded"), headers=headers)
    assert created.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == created.content  # the bytes recorded are the bytes sent
    assert completed == []
    assert _count(url, schema, "idempotency_keys", "status = 201") == 1


def test_an_error_after_the_record_releases_the_key(
    postgres_targets: tuple[FastAPI, str, str],
    auth_headers: AuthHeaders,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The route recorded its response, then its transaction failed and it answered a 4xx:
    the record rolled back with it, so the key is released at once (a retry runs) instead of
    staying "in flight" (409) until the claim's lock expires."""
    from opsconductor_shared import ConflictError  # noqa: PLC0415
    from opsconductor_shared.idempotency._dependency import IdempotencyKey  # noqa: PLC0415

    app, url, schema = postgres_targets
    original = IdempotencyKey.record
    failures = [1]

    async def record_then_fail(key: IdempotencyKey, *args: Any, **kw: Any) -> None:
        await original(key, *args, **kw)  # recorded: the route goes on, then fails
        if failures:
            failures.pop()
            raise ConflictError("A later statement of the write conflicted.")

    monkeypatch.setattr(IdempotencyKey, "record", record_then_fail)
    headers = {**auth_headers("operator"), "Idempotency-Key": str(uuid.uuid4())}
    with TestClient(app) as client:
        failed = client.post("/targets", json=_target("after-record"), headers=headers)
        retried = client.post("/targets", json=_target("after-record"), headers=headers)
    assert failed.status_code == 409
    assert retried.status_code == 201, retried.text
    assert "idempotent-replayed" not in retried.headers
    assert _count(url, schema, "targets") == 1
