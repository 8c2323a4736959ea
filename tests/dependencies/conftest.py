"""Helpers of the dependency tests: the reference services started with a dependency
missing, as an operator would start them, and how to read what they say."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
import redis
from opsconductor_shared.testing import KeySet, TokenFactory, wait_until

from examples.launcher import ServiceProcess, free_port
from tests.services import service_missing

KEYS = KeySet()
TOKENS = TokenFactory(KEYS, algorithm="HS256")
RS256_TOKENS = TokenFactory(KEYS, algorithm="RS256")
# The targets service trusts the kit's HS256 tokens: no auth service needed.
HS256_AUTH = {"TARGETS_SERVICE_AUTH__HS256_SECRET": KEYS.hs256_secret}
TARGET = {"hostname": "db.example.com", "os_type": "linux"}


def with_database(url: str, database: str, *, password: str | None = None) -> str:
    """`url` naming another database on the same server (and a password when it has none:
    a trusting server ignores it, and no report may show it)."""
    parts = urlsplit(url)
    if password is not None and parts.password is None:
        user = parts.username or "postgres"
        parts = parts._replace(netloc=f"{user}:{password}@{parts.hostname}:{parts.port or 5432}")
    return urlunsplit(parts._replace(path=f"/{database}"))


def readiness(service: ServiceProcess) -> tuple[int, dict[str, Any]]:
    response = httpx.get(f"{service.url}/health/ready", timeout=10)
    return response.status_code, response.json()


def check_of(report: dict[str, Any], name: str) -> dict[str, Any]:
    checks = {check["name"]: check for check in report["checks"]}
    assert name in checks, report
    check: dict[str, Any] = checks[name]
    return check


def create_target(service: ServiceProcess, name: str) -> httpx.Response:
    return httpx.post(
        f"{service.url}/targets",
        json={"name": name, **TARGET},
        headers=TOKENS.auth_headers("operator"),
        timeout=15,
    )


def events(service: ServiceProcess, event: str, **fields: Any) -> list[dict[str, Any]]:
    """The service's JSON log lines of `event` whose fields include `fields`."""
    found = []
    for line in service.log_lines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if (
            isinstance(record, dict)
            and record.get("event") == event
            and all(record.get(key) == value for key, value in fields.items())
        ):
            found.append(record)
    return found


def assert_no_traceback(service: ServiceProcess) -> None:
    text = "\n".join(service.log_lines())
    assert "Traceback" not in text, text[-3000:]


class RedisServer:
    """A redis-server of the test's own on a free loopback port, not started until `start()`
    (the shared Redis is never touched)."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            service_missing("redis-server", self.url, FileNotFoundError("not on PATH"))
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip

        def answers() -> bool:
            try:
                return bool(redis.Redis.from_url(self.url, socket_timeout=1).ping())
            except redis.RedisError:
                return False

        wait_until(answers, timeout=20, message="redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    yield server
    server.stop()
