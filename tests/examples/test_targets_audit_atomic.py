"""A write and its audit entry commit together or not at all, in both stores.

A fault between the two (the audit entry cannot be built, or the PostgreSQL backend dies
while inserting it) must leave no target behind, so the client's retry is a 201, not a 409,
and the audit log never misses a change that was made.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from opsconductor_shared import AuthSettings
from opsconductor_shared.database import DatabaseSettings
from psycopg import sql

from examples.targets_service import audit
from examples.targets_service.app import create_app
from examples.targets_service.settings import TargetsSettings
from tests.services import require_postgres, unique_name

AuthHeaders = Callable[..., dict[str, str]]


def _target(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "hostname": f"{name}.example.com", "os_type": "linux", **extra}


class AuditFault:
    """Makes the next `n` audit entries fail to build (the fault between write and audit)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.remaining = 0
        original = audit.AuditTrail.entry

        def entry(trail: audit.AuditTrail, *args: Any, **kwargs: Any) -> Any:
            if self.remaining:
                self.remaining -= 1
                raise RuntimeError("audit store failed")
            return original(trail, *args, **kwargs)

        monkeypatch.setattr(audit.AuditTrail, "entry", entry)


def _names(client: TestClient, auth_headers: AuthHeaders) -> list[str]:
    page = client.get("/targets", headers=auth_headers("viewer")).json()
    return [item["name"] for item in page["items"]]


def _actions(client: TestClient, auth_headers: AuthHeaders) -> list[str]:
    page = client.get("/audit", headers=auth_headers("admin")).json()
    return [item["action"] for item in page["items"]]


def test_a_failed_audit_entry_undoes_the_write(
    targets_app: FastAPI, auth_headers: AuthHeaders, monkeypatch: pytest.MonkeyPatch
) -> None:
    fault = AuditFault(monkeypatch)
    with TestClient(targets_app, raise_server_exceptions=False) as client:
        fault.remaining = 1
        failed = client.post("/targets", json=_target("atomic-1"), headers=auth_headers("operator"))
        assert failed.status_code == 500
        assert _names(client, auth_headers) == []
        retry = client.post("/targets", json=_target("atomic-1"), headers=auth_headers("operator"))
        assert retry.status_code == 201, retry.text
        target_id = retry.json()["id"]

        fault.remaining = 1
        change = {"lock_version": 1, "port": 2200}
        failed = client.patch(f"/targets/{target_id}", json=change, headers=auth_headers())
        assert failed.status_code == 500
        current = client.get(f"/targets/{target_id}", headers=auth_headers("viewer")).json()
        assert (current["port"], current["lock_version"]) == (22, 1)
        retried = client.patch(f"/targets/{target_id}", json=change, headers=auth_headers())
        assert retried.status_code == 200, retried.text

        fault.remaining = 1
        failed = client.delete(f"/targets/{target_id}", headers=auth_headers("admin"))
        assert failed.status_code == 500
        still = client.get(f"/targets/{target_id}", headers=auth_headers("viewer"))
        assert still.status_code == 200
        deleted = client.delete(f"/targets/{target_id}", headers=auth_headers("admin"))
        assert deleted.status_code == 204

        fault.remaining = 1
        bulk = client.post(
            "/targets/bulk",
            json={"items": [_target("bulk-1"), _target("bulk-2")]},
            headers=auth_headers("operator"),
        )
        assert bulk.status_code == 500
        assert _names(client, auth_headers) == []
        assert _actions(client, auth_headers) == [
            "target.delete",
            "target.update",
            "target.create",
        ]


@pytest.fixture
def postgres_targets(auth_settings: AuthSettings) -> Iterator[tuple[FastAPI, str, sql.Composed]]:
    url = require_postgres()
    schema = unique_name("atomic")
    database = DatabaseSettings(dsn=url, min_size=1, max_size=2)
    app = create_app(
        TargetsSettings(
            auth=auth_settings, cursor_secret="test", database=database, database_schema=schema
        )
    )
    yield app, url, sql.SQL("{}.target_audit").format(sql.Identifier(schema))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.mark.integration
def test_a_backend_killed_while_auditing_leaves_no_target(
    postgres_targets: tuple[FastAPI, str, sql.Composed], auth_headers: AuthHeaders
) -> None:
    app, url, audit_table = postgres_targets
    with TestClient(app) as client:
        # The backend terminates itself inside the audit insert: after the target's INSERT,
        # before COMMIT, the fault of the issue (a 503 after the target was stored).
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                sql.SQL(
                    # A sequence, not a table: nextval survives the rollback of the kill.
                    "CREATE SEQUENCE {faults};"
                    " CREATE FUNCTION {kill}() RETURNS trigger LANGUAGE plpgsql AS $$"
                    " BEGIN IF nextval('{faults}') = 1 THEN"
                    " PERFORM pg_terminate_backend(pg_backend_pid()); END IF; RETURN NEW; END $$;"
                    " CREATE TRIGGER kill_once BEFORE INSERT ON {audit} FOR EACH ROW"
                    " EXECUTE FUNCTION {kill}()"
                ).format(
                    faults=sql.SQL("{}_faults").format(audit_table),
                    kill=sql.SQL("{}_kill").format(audit_table),
                    audit=audit_table,
                )
            )
        failed = client.post("/targets", json=_target("killed-1"), headers=auth_headers())
        assert failed.status_code == 503, failed.text
        assert failed.json()["code"] == "SERVICE_UNAVAILABLE"
        assert _names(client, auth_headers) == []
        retry = client.post("/targets", json=_target("killed-1"), headers=auth_headers())
        assert retry.status_code == 201, retry.text
        assert _actions(client, auth_headers) == ["target.create"]
