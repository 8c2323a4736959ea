"""The targets service calling the auth service with its own identity, both as real uvicorn
processes: `GET /targets/{id}/owner` asks the auth service's admin lookup
(`GET /auth/users/{id}`, the targets service only, scope `users:read`) with a client
credentials token. One token request per expiry under 50 concurrent lookups (counted in the
auth service's log), 503 in the envelope (not 401) while the auth service is killed, both
with the token still cached and once it has expired, and working again after a restart.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from opsconductor_shared.testing import async_wait_until, wait_until

from examples.launcher import (
    TARGETS_CLIENT_ID,
    ServiceProcess,
    auth_service,
    free_port,
    targets_service,
)
from tests.services import assert_envelope

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.anyio]
PASSWORDS = {user: secrets.token_urlsafe(12) for user in ("admin", "operator", "viewer")}
TARGETS_SECRET = secrets.token_urlsafe(24)
TOKEN_TTL = 20  # renewed at half its life: a first burst on a loaded machine stays within it
CONCURRENT = 50


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("service-identity")


@pytest.fixture(scope="module")
def auth(workdir: Path) -> Iterator[ServiceProcess]:
    extra = {
        "AUTH_SERVICE_SERVICE_TOKEN_TTL": str(TOKEN_TTL),
        "AUTH_SERVICE_ARGON2_TIME_COST": "1",
        "AUTH_SERVICE_ARGON2_MEMORY_KIB": "1024",
        "AUTH_SERVICE_DEFAULT_LIMIT": "100000/minute",
    }
    service = auth_service(
        port=free_port(),
        workdir=workdir,
        passwords=PASSWORDS,
        targets_secret=TARGETS_SECRET,
        extra=extra,
    )
    service.start()
    yield service
    service.stop()


@pytest.fixture(scope="module")
def targets(auth: ServiceProcess, workdir: Path) -> Iterator[ServiceProcess]:
    client = "TARGETS_SERVICE_AUTH_CLIENT__"
    extra = {
        f"{client}TIMEOUT": "2",
        f"{client}RETRY_DEADLINE": "3",
        f"{client}BREAKER_RESET_TIMEOUT": "1",
        "TARGETS_SERVICE_RATE_LIMIT__DEFAULT_LIMIT": "100000/minute",
    }
    service = targets_service(
        port=free_port(),
        auth_url=auth.url,
        workdir=workdir,
        service_secret=TARGETS_SECRET,
        extra=extra,
    ).start()
    yield service
    service.stop()


def _tokens_issued(auth: ServiceProcess) -> int:
    """Client credentials tokens the auth service issued to the targets service (its log)."""
    count = 0
    for line in auth.log_lines():
        if '"service_token"' in line and line.startswith("{"):
            event = json.loads(line)
            count += event["event"] == "service_token" and event["client_id"] == TARGETS_CLIENT_ID
    return count


def _logged(service: ServiceProcess, event: str) -> int:
    return sum(f'"event":"{event}"' in line for line in service.log_lines())


def _bearer(auth: ServiceProcess, user: str) -> dict[str, str]:
    response = httpx.post(
        f"{auth.url}/auth/login", json={"username": user, "password": PASSWORDS[user]}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture(scope="module")
def owned(auth: ServiceProcess, targets: ServiceProcess) -> tuple[int, dict[str, str]]:
    """A target the operator created, and a viewer's headers to ask who owns it."""
    created = httpx.post(
        f"{targets.url}/targets",
        headers=_bearer(auth, "operator"),
        json={"name": "owned-01", "hostname": "owned-01.example.com", "os_type": "linux"},
    )
    assert created.status_code == 201, created.text
    return int(created.json()["id"]), _bearer(auth, "viewer")


async def _lookups(url: str, headers: dict[str, str], n: int) -> list[httpx.Response]:
    async with httpx.AsyncClient(timeout=15) as http:
        return await asyncio.gather(*(http.get(url, headers=headers) for _ in range(n)))


async def test_one_token_per_expiry_under_concurrent_lookups(
    auth: ServiceProcess, targets: ServiceProcess, owned: tuple[int, dict[str, str]]
) -> None:
    target_id, viewer = owned
    url = f"{targets.url}/targets/{target_id}/owner"
    before = _tokens_issued(auth)
    answers = await _lookups(url, viewer, CONCURRENT)
    assert {a.status_code for a in answers} == {200}, answers[0].text
    owner = answers[0].json()
    assert owner["username"] == "operator"
    assert owner["role"] == "operator"
    # The auth service writes its log line as it answers: poll for it, bounded, then check
    # that no second request follows for the same expiry.
    await async_wait_until(lambda: _tokens_issued(auth) == before + 1, timeout=10)
    assert _tokens_issued(auth) == before + 1

    # Across the expiry (renewed at half the token's life): bursts of concurrent lookups
    # until a second token has been issued; never more than one more.
    async def renewed() -> bool:
        burst = await _lookups(url, viewer, CONCURRENT)
        assert {a.status_code for a in burst} == {200}, burst[0].text
        issued = _tokens_issued(auth) - before
        assert issued <= 2, f"{issued} tokens for one expiry"
        return issued == 2

    await async_wait_until(renewed, timeout=TOKEN_TTL * 4, interval=0.5)
    assert TARGETS_SECRET not in "\n".join(targets.log_lines() + auth.log_lines())


def test_a_killed_auth_service_is_503_not_401_and_a_restart_heals(
    auth: ServiceProcess, targets: ServiceProcess, owned: tuple[int, dict[str, str]]
) -> None:
    target_id, viewer = owned
    url = f"{targets.url}/targets/{target_id}/owner"
    assert httpx.get(url, headers=viewer).status_code == 200  # a token is cached now
    assert auth.process is not None
    auth.process.kill()
    auth.process.wait(timeout=10)
    try:
        # The cached token still holds: the lookup itself cannot connect.
        down = httpx.get(url, headers=viewer, timeout=15)
        assert_envelope(down, 503, "SERVICE_UNAVAILABLE")
        assert down.elapsed.total_seconds() < 10
        # Once the token has to be renewed, the token request fails too: still 503.
        failed_before = _logged(targets, "service_token_failed")

        def token_renewal_failed() -> bool:
            assert_envelope(httpx.get(url, headers=viewer, timeout=15), 503, "SERVICE_UNAVAILABLE")
            return _logged(targets, "service_token_failed") > failed_before

        wait_until(token_renewal_failed, timeout=TOKEN_TTL * 4, interval=0.5)
        # The user's own token is still verified locally (cached keys): other routes work.
        assert httpx.get(f"{targets.url}/targets/{target_id}", headers=viewer).status_code == 200
    finally:
        auth.stop()
        auth.start()

    def healed() -> bool:
        answer = httpx.get(url, headers=viewer, timeout=15)
        assert answer.status_code in (200, 503), answer.text
        return answer.status_code == 200

    wait_until(healed, timeout=30, interval=0.5, message="the lookup never worked again")
    assert httpx.get(url, headers=viewer).json()["username"] == "operator"
