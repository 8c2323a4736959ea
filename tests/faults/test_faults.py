"""Faults under load, against live uvicorn processes of the reference services.

- PostgreSQL backends of the targets service terminated (`pg_terminate_backend`) while
  writers create targets: every answer is a 201 or a 503 envelope, and every acknowledged
  write is stored, with its audit entry.
- Its own redis-server (free port) killed and restarted under each rate-limit failure
  policy: fail-open admits while Redis is gone, fail-closed answers 503 with Retry-After;
  both recover once it is back.
- The auth service killed and restarted, in both verification modes: local (JWKS, cached)
  keeps verifying; remote answers 503, never 401; both verify again once it is back.

Each prints its recovery time (fault over -> first normal answer) as `recovery ...` lines.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from opsconductor_shared.auth._remote import _BREAKER_RESET_TIMEOUT
from opsconductor_shared.auth._settings import DEFAULT_AUTH_TIMEOUT
from opsconductor_shared.testing import wait_until
from psycopg import sql

from tests.dependencies.conftest import RedisServer
from tests.examples.live import LiveServices, live_services, login
from tests.services import require_postgres

pytestmark = [pytest.mark.integration, pytest.mark.slow]
RECOVERY_TIMEOUT = 60.0


def _assert_envelope(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    problem = response.json()
    assert problem["request_id"] == response.headers["x-request-id"]
    assert response.headers["content-type"].startswith("application/problem+json")


def _recovery(label: str, started: float, call: Any) -> float:
    wait_until(call, timeout=RECOVERY_TIMEOUT, interval=0.05, message=f"{label}: no recovery")
    elapsed = time.monotonic() - started
    print(f"recovery {label}: {elapsed:.2f} s")
    return elapsed


def _target(name: str) -> dict[str, Any]:
    return {"name": name, "hostname": f"{name}.example.com", "os_type": "linux"}


@pytest.fixture
def postgres_live(tmp_path: Path) -> Iterator[tuple[LiveServices, str, str]]:
    application = f"faults-{uuid.uuid4().hex[:12]}"
    env = {
        "TARGETS_SERVICE_DATABASE__APPLICATION_NAME": application,
        "TARGETS_SERVICE_DATABASE__MAX_SIZE": "4",
    }
    with live_services(tmp_path, store="postgres", targets_env=env) as live:
        assert live.schema is not None
        schema = live.schema
        yield live, application, schema


def test_postgres_backends_terminated_mid_load(
    postgres_live: tuple[LiveServices, str, str],
) -> None:
    live, application, schema = postgres_live
    url = require_postgres()
    acknowledged: list[str] = []
    unexpected: list[str] = []
    unavailable = 0
    stop = threading.Event()
    lock = threading.Lock()

    def writer(index: int) -> None:
        nonlocal unavailable
        with httpx.Client(
            base_url=live.targets.url, headers=live.headers("operator"), timeout=30
        ) as client:
            count = 0
            while not stop.is_set():
                name = f"load-{index}-{count}"
                count += 1
                try:
                    response = client.post("/targets", json=_target(name))
                except httpx.HTTPError as exc:  # the write's fate is unknown: not acknowledged
                    with lock:
                        unexpected.append(f"{name}: {type(exc).__name__}")
                    continue
                with lock:
                    if response.status_code == 201:
                        acknowledged.append(name)
                    elif response.status_code == 503:
                        _assert_envelope(response, 503)
                        unavailable += 1
                    else:
                        unexpected.append(f"{name}: {response.status_code} {response.text[:200]}")

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    kills = 0
    try:
        with psycopg.connect(url, autocommit=True) as admin:
            for _ in range(6):
                wanted = kills * 5
                wait_until(lambda n=wanted: len(acknowledged) > n, timeout=RECOVERY_TIMEOUT)
                killed = admin.execute(
                    "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE application_name = %s",
                    [application],
                ).fetchone()
                kills += 1
                assert killed is not None
        last_kill = time.monotonic()
        before = len(acknowledged)
        _recovery("postgres (backends terminated)", last_kill, lambda: len(acknowledged) > before)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert unexpected == []
    with psycopg.connect(url, autocommit=True) as conn:
        names = {
            row[0]
            for row in conn.execute(
                sql.SQL("SELECT name FROM {}.targets").format(sql.Identifier(schema))
            )
        }
        audited = {
            row[0]
            for row in conn.execute(
                sql.SQL("SELECT entry->'changes'->'after'->>'name' FROM {}.target_audit").format(
                    sql.Identifier(schema)
                )
            )
        }
    print(f"postgres faults: {kills} kills, {len(acknowledged)} acknowledged, {unavailable} 503s")
    assert set(acknowledged) <= names, set(acknowledged) - names
    assert names == audited, names ^ audited


@pytest.mark.parametrize("policy", ["open", "closed"])
def test_redis_killed_and_restarted(tmp_path: Path, policy: str) -> None:
    server = RedisServer(tmp_path)
    server.start()
    env = {
        "TARGETS_SERVICE_RATE_LIMIT__STORAGE": "redis",
        "TARGETS_SERVICE_RATE_LIMIT__REDIS__URL": server.url,
        "TARGETS_SERVICE_RATE_LIMIT__FAILURE_POLICY": policy,
        "TARGETS_SERVICE_RATE_LIMIT__DEFAULT_LIMIT": "10000/minute",
        "TARGETS_SERVICE_RATE_LIMIT__RETRY_INTERVAL": "0.2",
    }
    try:
        with (
            live_services(tmp_path, targets_env=env) as live,
            httpx.Client(
                base_url=live.targets.url, headers=live.headers("viewer"), timeout=30
            ) as client,
        ):
            normal = client.get("/targets")
            assert normal.status_code == 200, normal.text
            assert "ratelimit" in normal.headers or "ratelimit-policy" in normal.headers
            assert server.process is not None
            server.process.kill()
            server.process.wait(timeout=10)

            def degraded() -> httpx.Response | None:
                response = client.get("/targets")
                if policy == "open":
                    return response if response.status_code == 200 else None
                return response if response.status_code == 503 else None

            response = wait_until(degraded, timeout=RECOVERY_TIMEOUT, interval=0.05)
            if policy == "closed":
                _assert_envelope(response, 503)
                assert "retry-after" in response.headers
            for _ in range(20):
                during = client.get("/targets")
                assert during.status_code == (200 if policy == "open" else 503), during.text
            restarted = time.monotonic()
            server.start()
            _recovery(
                f"redis fail-{policy}",
                restarted,
                lambda: (
                    (r := client.get("/targets")).status_code == 200 and "ratelimit" in r.headers
                ),
            )
            errors = [line for line in live.targets.log_lines() if "Traceback" in line]
            assert errors == []
    finally:
        server.stop()


def _circuit_changes(live: LiveServices) -> list[tuple[float, str]]:
    """The targets service's breaker to the auth service: (Unix time, state entered) each."""
    changes = []
    for line in live.targets.log_lines():
        if '"circuit_state_changed"' in line:
            event = json.loads(line)
            if event.get("upstream") == "auth":
                stamp = datetime.fromisoformat(event["timestamp"]).timestamp()
                changes.append((stamp, event["state"]))
    return changes


@pytest.mark.parametrize("mode", ["local", "remote"])
def test_auth_service_killed_and_restarted(tmp_path: Path, mode: str) -> None:
    with (
        live_services(tmp_path, mode=mode) as live,
        httpx.Client(
            base_url=live.targets.url, headers=live.headers("viewer"), timeout=30
        ) as client,
    ):
        assert client.get("/targets").status_code == 200
        # A token the targets service has never seen: remote mode caches what it verified.
        fresh = {"Authorization": f"Bearer {login(live.auth.url, 'viewer')}"}
        live.auth.stop()
        for _ in range(10):
            if mode == "local":  # the JWKS is cached: verification goes on
                response = client.get("/targets", headers=fresh)
                assert response.status_code == 200, response.text
            else:  # fail closed: an unreachable verifier is a 503, never a 401 and never a 200
                _assert_envelope(client.get("/targets", headers=fresh), 503)
        restarted = time.monotonic()
        live.auth.start(timeout=180)
        answering, answering_at = time.monotonic(), time.time()
        print(f"auth service restart (process up, answering): {answering - restarted:.2f} s")
        recovery = _recovery(
            f"auth service ({mode} verification), after it answers again",
            answering,
            lambda: client.get("/targets", headers=fresh).status_code == 200,
        )
    if mode == "remote":
        # The verifier's breaker opened during the outage (the fifth failed attempt) and
        # lets a probe through `_BREAKER_RESET_TIMEOUT` after that, not before: the targets
        # service answers normally at most that long (plus one verification) after the
        # auth service does (docs/hardening.md, "Recovery from faults").
        changes = _circuit_changes(live)  # once stopped: every buffered line is written
        opened = [stamp for stamp, state in changes if state == "open" and stamp < answering_at]
        assert opened, changes
        due = opened[-1] + _BREAKER_RESET_TIMEOUT - answering_at
        print(
            f"auth breaker: opened {answering_at - opened[-1]:.2f} s before the auth service "
            f"answered again, first probe due {due:.2f} s after it"
        )
        probe_due = max(0.0, due)
        # The probe when it is due, plus one verification and a second of slack (the poll,
        # a loaded machine).
        assert recovery <= probe_due + DEFAULT_AUTH_TIMEOUT + 1.0, (recovery, probe_due)
