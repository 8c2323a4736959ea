"""Both reference services as live uvicorn processes, for the fuzz, adversarial and fault suites.

`live_services(workdir, ...)` starts the auth service and a targets service (memory or
PostgreSQL, local or remote verification) on free loopback ports, with rate limits raised
out of the fuzzers' way unless asked otherwise, and yields them with tokens for each role.
The targets service has its account at the auth service (`TARGETS_SERVICE_SECRET`), so its
owner lookup calls the auth service as itself, as in `make demo`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
from psycopg import sql

from examples.launcher import ServiceProcess, auth_service, free_port, targets_service
from tests.examples.conftest import PASSWORDS
from tests.services import require_postgres, unique_name

UNLIMITED = "100000/minute"
TARGETS_SERVICE_SECRET = "live-targets-service-secret"
START_TIMEOUT = 180  # a loaded 2-core machine starts a service slowly


@dataclass
class LiveServices:
    auth: ServiceProcess
    targets: ServiceProcess
    tokens: dict[str, str]
    schema: str | None = None  # the targets service's PostgreSQL schema, when it has one

    def headers(self, role: str = "admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def login(auth_url: str, role: str) -> str:
    response = httpx.post(
        f"{auth_url}/auth/login",
        json={"username": role, "password": PASSWORDS[role]},
        timeout=30,
    )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


@contextlib.contextmanager
def live_services(
    workdir: Path,
    *,
    store: str = "memory",
    mode: str = "local",
    targets_env: dict[str, str] | None = None,
    auth_env: dict[str, str] | None = None,
) -> Iterator[LiveServices]:
    """Start both services (see the module docstring); stopped and cleaned up on exit."""
    extra = {
        "TARGETS_SERVICE_RATE_LIMIT__DEFAULT_LIMIT": UNLIMITED,
        "TARGETS_SERVICE_WRITE_LIMIT": UNLIMITED,
        "TARGETS_SERVICE_CURSOR_SECRET": "live-cursor-secret",
    }
    schema = None
    url = None
    if store == "postgres":
        url = require_postgres()
        schema = unique_name("live")
        extra |= {"TARGETS_SERVICE_DATABASE__DSN": url, "TARGETS_SERVICE_DATABASE_SCHEMA": schema}
    auth = auth_service(
        port=free_port(),
        workdir=workdir,
        passwords=PASSWORDS,
        targets_secret=TARGETS_SERVICE_SECRET,
        extra={
            "AUTH_SERVICE_LOGIN_LIMIT": UNLIMITED,
            "AUTH_SERVICE_DEFAULT_LIMIT": UNLIMITED,  # the owner lookups of a fuzzed targets service
            **(auth_env or {}),
        },
    )
    auth.start(timeout=START_TIMEOUT)
    targets = targets_service(
        port=free_port(),
        auth_url=auth.url,
        workdir=workdir,
        mode=mode,
        service_secret=TARGETS_SERVICE_SECRET,
        extra={**extra, **(targets_env or {})},
    )
    try:
        targets.start(timeout=START_TIMEOUT)
        tokens = {role: login(auth.url, role) for role in PASSWORDS}
        yield LiveServices(auth, targets, tokens, schema)
    finally:
        targets.stop()
        auth.stop()
        if schema is not None and url is not None:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
                )
