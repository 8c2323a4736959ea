"""Client credentials end to end: a scheduler-like caller and a real auth-service process.

One token per expiry under 100 concurrent calls (counted in the auth service's own log),
renewal across expiry, a secret rotation survived, and 503 (not 401) while the auth service
is down.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from opsconductor_shared import ServiceUnavailableError
from opsconductor_shared.client import ServiceClient, ServiceCredentials
from opsconductor_shared.testing import async_wait_until

from examples.launcher import ServiceProcess, auth_service, free_port

from .conftest import ACCOUNTS, PASSWORDS, SCHEDULER_SECRET

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.anyio]
TOKEN_TTL = 6


@pytest.fixture(scope="module")
def auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    workdir: Path = tmp_path_factory.mktemp("identity-e2e")
    extra = {
        "AUTH_SERVICE_SERVICE_ACCOUNTS": json.dumps(ACCOUNTS),
        "AUTH_SERVICE_SERVICE_TOKEN_TTL": str(TOKEN_TTL),
        "AUTH_SERVICE_ARGON2_TIME_COST": "1",
        "AUTH_SERVICE_ARGON2_MEMORY_KIB": "1024",
        "AUTH_SERVICE_TOKEN_LIMIT": "1000/minute",
        "AUTH_SERVICE_DEFAULT_LIMIT": "100000/minute",
    }
    service = auth_service(port=free_port(), workdir=workdir, passwords=PASSWORDS, extra=extra)
    service.start()
    yield service
    service.stop()


def _issued(auth: ServiceProcess, client_id: str = "scheduler") -> int:
    count = 0
    for line in auth.log_lines():
        if '"service_token"' in line:
            with_json = json.loads(line[line.index("{") :])
            count += (
                with_json.get("event") == "service_token" and with_json["client_id"] == client_id
            )
    return count


def _credentials(auth: ServiceProcess, secret: str = SCHEDULER_SECRET) -> ServiceCredentials:
    return ServiceCredentials(
        token_url=f"{auth.url}/auth/token", client_id="scheduler", client_secret=secret
    )


async def test_one_token_per_expiry_under_100_concurrent_calls(auth: ServiceProcess) -> None:
    before = _issued(auth)
    async with ServiceClient("auth", auth.url, credentials=_credentials(auth)) as client:
        answers = await asyncio.gather(*(client.get("/auth/me") for _ in range(100)))
        assert {a.status_code for a in answers} == {200}
        assert {a.json()["principal_type"] for a in answers} == {"service"}
        await async_wait_until(lambda: _issued(auth) == before + 1, timeout=10)
        assert client.tokens is not None
        assert client.tokens.requests == 1
        # Across the expiry: renewed (before it ends), once for every concurrent caller.

        async def renewed() -> bool:
            results = await asyncio.gather(*(client.get("/auth/me") for _ in range(100)))
            assert {r.status_code for r in results} == {200}
            return client.tokens is not None and client.tokens.requests == 2

        await async_wait_until(renewed, timeout=TOKEN_TTL * 3, interval=0.5)
    await async_wait_until(lambda: _issued(auth) == before + 2, timeout=10)


async def test_a_secret_rotation_is_survived(auth: ServiceProcess) -> None:
    async with httpx.AsyncClient(base_url=auth.url) as http:
        login = await http.post(
            "/auth/login", json={"username": "admin", "password": PASSWORDS["admin"]}
        )
        admin = {"Authorization": f"Bearer {login.json()['access_token']}"}
        async with ServiceClient("auth", auth.url, credentials=_credentials(auth)) as old:
            assert (await old.get("/auth/me")).status_code == 200
            rotated = await http.post("/auth/service-accounts/scheduler/secrets", headers=admin)
            assert rotated.status_code == 201
            new_secret = rotated.json()["client_secret"]
            # During the overlap the old secret still gets tokens, the new one too.
            assert old.tokens is not None
            old.tokens.invalidate()
            assert (await old.get("/auth/me")).status_code == 200
        async with ServiceClient(
            "auth", auth.url, credentials=_credentials(auth, new_secret)
        ) as moved:
            assert (await moved.get("/auth/me")).status_code == 200


async def test_auth_service_down_is_503_not_401(auth: ServiceProcess) -> None:
    auth.stop()
    async with ServiceClient("auth", auth.url, credentials=_credentials(auth)) as client:
        with pytest.raises(ServiceUnavailableError) as caught:
            await client.get("/auth/me")
    assert caught.value.status_code == 503
    assert SCHEDULER_SECRET not in "\n".join(auth.log_lines())
