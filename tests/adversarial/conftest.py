"""The services under attack: both reference services, the targets service in both stores,
each in process (TestClient, lifespan running) for the whole module, and the invariants every
answer must keep (`assert_safe`).

`ADVERSARIAL_MAX_EXAMPLES` sets hypothesis' examples per property (default 25, bounded for
`make test`; `make fuzz` raises it).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from opsconductor_shared.database import DatabaseSettings
from opsconductor_shared.testing import KeySet, TokenFactory
from psycopg import sql

from examples.auth_service.app import create_app as create_auth_app
from examples.auth_service.settings import AuthServiceSettings
from examples.targets_service.app import create_app as create_targets_app
from examples.targets_service.settings import TargetsSettings
from tests.examples.conftest import PASSWORDS
from tests.services import require_postgres, unique_name

MAX_EXAMPLES = int(os.environ.get("ADVERSARIAL_MAX_EXAMPLES", "25"))
PROPERTY = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
KEYS = KeySet()
TOKENS = TokenFactory(KEYS, algorithm="HS256")
UNLIMITED = "100000/minute"
# 503 is the one 5xx a service documents: a dependency is down (never in these suites).
ALLOWED_5XX = frozenset({503})
ENVELOPE_KEYS = {"type", "title", "status", "code", "request_id", "timestamp"}


@dataclass
class Service:
    name: str
    client: TestClient
    headers: Callable[[str], dict[str, str]]
    secrets: list[str]


def assert_safe(
    response: httpx.Response, *, sent: tuple[str, ...] = (), secrets: tuple[str, ...] = ()
) -> None:
    """The invariants: no 5xx but a documented 503; every error the envelope with the request
    id of `X-Request-ID`; no value of `sent` echoed in an error; no secret in the answer."""
    assert response.status_code < 500 or response.status_code in ALLOWED_5XX, response.text
    request_id = response.headers.get("x-request-id")
    assert request_id, response.headers
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert set(problem) >= ENVELOPE_KEYS, problem
        assert problem["status"] == response.status_code
        assert problem["request_id"] == request_id
        # `instance` is the request's path by definition (RFC 9457); everything else is ours.
        text = json.dumps({k: v for k, v in problem.items() if k != "instance"}, ensure_ascii=False)
        for value in sent:
            if len(value) >= 6 and value.strip():
                assert value not in text, (value, text)
    for secret in secrets:
        assert secret not in response.text


@pytest.fixture(
    scope="module",
    params=[
        "targets-memory",
        pytest.param("targets-postgres", marks=pytest.mark.integration),
        "auth",
    ],
)
def service(request: pytest.FixtureRequest) -> Iterator[Service]:
    if request.param == "auth":
        settings = AuthServiceSettings(
            environment="development",
            signing_key_file=Path(tempfile.mkdtemp(prefix="adversarial-auth-")) / "key.pem",
            seed_passwords=PASSWORDS,
            argon2_time_cost=1,
            argon2_memory_kib=1024,
            login_limit=UNLIMITED,
        )
        with TestClient(create_auth_app(settings)) as client:
            tokens = {
                role: client.post(
                    "/auth/login", json={"username": role, "password": password}
                ).json()["access_token"]
                for role, password in PASSWORDS.items()
            }
            yield Service(
                "auth",
                client,
                lambda role: {"Authorization": f"Bearer {tokens[role]}"},
                [*PASSWORDS.values()],
            )
        return
    options: dict[str, Any] = {"database": None}
    cleanup: Callable[[], None] = lambda: None  # noqa: E731
    if request.param == "targets-postgres":
        url = require_postgres()
        schema = unique_name("adversarial")
        options = {
            "database": DatabaseSettings(dsn=url, min_size=1, max_size=4),
            "database_schema": schema,
        }

        def cleanup() -> None:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
                )

    settings = TargetsSettings(
        auth=KEYS.hs256_settings(),
        cursor_secret="adversarial-cursor-secret",
        rate_limit={"default_limit": UNLIMITED},
        write_limit=UNLIMITED,
        **options,
    )
    try:
        with TestClient(create_targets_app(settings), raise_server_exceptions=False) as client:
            yield Service(
                request.param,
                client,
                TOKENS.auth_headers,
                [KEYS.hs256_secret, "adversarial-cursor-secret"],
            )
    finally:
        cleanup()
