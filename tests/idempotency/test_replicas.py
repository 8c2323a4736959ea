"""Exactly once across replicas, end to end: two targets-service processes sharing one
PostgreSQL schema and their idempotency store (Redis; and PostgreSQL, the keys in the same
schema), with keyed creates racing and a response lost after commit."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterator

import httpx
import psycopg
import pytest
from opsconductor_shared.client import RetryPolicy, ServiceClient
from opsconductor_shared.testing import KeySet, TokenFactory, async_wait_until
from psycopg import sql

from examples.launcher import ServiceProcess, free_port, targets_service
from tests.services import require_postgres, require_redis, unique_name

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.anyio]
IN_FLIGHT_TIMEOUT = 30.0


@pytest.fixture(scope="module")
def keys() -> KeySet:
    return KeySet()


@pytest.fixture(scope="module", params=["redis", "postgres"])
def replicas(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, keys: KeySet
) -> Iterator[list[ServiceProcess]]:
    database = require_postgres()
    schema = unique_name("idem")
    workdir = tmp_path_factory.mktemp("replicas")
    env = {
        "TARGETS_SERVICE_AUTH__HS256_SECRET": keys.hs256_secret,
        "TARGETS_SERVICE_DATABASE_SCHEMA": schema,
        "TARGETS_SERVICE_RATE_LIMIT__ENABLED": "false",
    }
    if request.param == "redis":
        env["TARGETS_SERVICE_IDEMPOTENCY__STORAGE"] = "redis"
        env["TARGETS_SERVICE_IDEMPOTENCY__REDIS__URL"] = require_redis()
        env["TARGETS_SERVICE_IDEMPOTENCY__KEY_PREFIX"] = unique_name("idem")
    # postgres: the targets service's default with a database, in its schema
    started: list[ServiceProcess] = []
    try:
        for index in range(2):
            process = targets_service(
                port=free_port(),
                auth_url=None,
                workdir=workdir,
                name=f"targets-{index}",
                database_url=database,
                extra=env,
            )
            started.append(process.start())  # one by one: the first creates the schema
        yield started
    finally:
        for process in started:
            process.stop()
        with psycopg.connect(database, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def operator(keys: KeySet) -> dict[str, str]:
    return TokenFactory(keys, algorithm="HS256").auth_headers(role="operator", sub="op-e2e")


async def _count(http: httpx.AsyncClient, url: str, name: str, headers: dict[str, str]) -> int:
    page = await http.get(f"{url}/targets", params={"search": name}, headers=headers)
    assert page.status_code == 200, page.text
    return sum(1 for item in page.json()["items"] if item["name"] == name)


async def test_50_concurrent_keyed_creates_on_two_replicas_make_one_target(
    replicas: list[ServiceProcess], operator: dict[str, str]
) -> None:
    name = f"race-{uuid.uuid4().hex[:8]}"
    body = {"name": name, "hostname": f"{name}.example.com", "os_type": "linux"}
    headers = {**operator, "Idempotency-Key": str(uuid.uuid4())}
    urls = [replica.url for replica in replicas]
    async with httpx.AsyncClient(timeout=30) as http:

        async def create(index: int) -> httpx.Response:
            url = urls[index % 2]

            async def settled() -> httpx.Response | None:
                answer = await http.post(f"{url}/targets", json=body, headers=headers)
                in_flight = answer.status_code == 409 and answer.json()["errors"][0]["code"] == (
                    "idempotency_key_in_flight"
                )
                return None if in_flight else answer

            # Retry-After is 1 s; a tenth of it keeps the race short. Bounded below lock_ttl
            # (60 s), so a claim that is never completed fails here rather than expiring.
            return await async_wait_until(
                settled,
                timeout=IN_FLIGHT_TIMEOUT,
                interval=0.1,
                message=(
                    f"create {index} still got 409 idempotency_key_in_flight: the request "
                    "that won the key never stored its response nor released its claim"
                ),
            )

        answers = await asyncio.gather(*(create(index) for index in range(50)))
        assert {a.status_code for a in answers} == {201}, [
            a.text for a in answers if a.status_code != 201
        ]
        assert len({a.json()["id"] for a in answers}) == 1
        replayed = [a for a in answers if a.headers.get("idempotent-replayed") == "true"]
        assert len(replayed) == 49
        assert await _count(http, urls[0], name, operator) == 1


class DroppingProxy:
    """A loopback proxy that forwards each request and, while `drop` is set, discards the
    response and resets the client's connection (the server has committed by then)."""

    def __init__(self, port: int) -> None:
        self.target_port = port
        self.drop = True
        self.dropped = 0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> DroppingProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)

        async def upstream() -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await reader.read(65536):
                    up_writer.write(data)
                    await up_writer.drain()

        task = asyncio.ensure_future(upstream())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await up_reader.read(65536):
                if self.drop:
                    self.drop = False
                    self.dropped += 1
                    writer.transport.abort()  # the answer is lost on the way back
                    up_writer.close()
                    return
                writer.write(data)
                await writer.drain()
        writer.close()
        up_writer.close()


async def test_a_response_lost_after_commit_is_replayed_to_the_retrying_client(
    replicas: list[ServiceProcess], operator: dict[str, str]
) -> None:
    name = f"lost-{uuid.uuid4().hex[:8]}"
    body = {"name": name, "hostname": f"{name}.example.com", "os_type": "linux"}
    port = int(replicas[0].url.rsplit(":", 1)[1])
    policy = RetryPolicy(attempts=3, deadline=20, backoff_initial=0.05, backoff_max=0.2)
    async with DroppingProxy(port) as proxy:
        url = f"http://127.0.0.1:{proxy.port}"
        async with ServiceClient("targets", url, retry=policy, headers=operator) as targets:
            created = await targets.post("/targets", json=body, idempotent=True)
        assert proxy.dropped == 1
    assert created.status_code == 201, created.text
    assert created.headers["idempotent-replayed"] == "true"
    async with httpx.AsyncClient(timeout=30) as http:
        assert (
            created.json()["id"]
            == (
                await http.get(
                    f"{replicas[1].url}/targets/{created.json()['id']}", headers=operator
                )
            ).json()["id"]
        )
        assert await _count(http, replicas[1].url, name, operator) == 1


async def test_without_a_key_the_lost_response_makes_the_retry_fail(
    replicas: list[ServiceProcess], operator: dict[str, str]
) -> None:
    """The fault is real: without the key, the client cannot retry safely and gets an error."""
    name = f"nokey-{uuid.uuid4().hex[:8]}"
    body = {"name": name, "hostname": f"{name}.example.com", "os_type": "linux"}
    port = int(replicas[0].url.rsplit(":", 1)[1])
    async with DroppingProxy(port) as proxy:
        url = f"http://127.0.0.1:{proxy.port}"
        async with httpx.AsyncClient(timeout=30) as http:
            with pytest.raises(httpx.HTTPError):
                await http.post(f"{url}/targets", json=body, headers=operator)
            again = await http.post(f"{url}/targets", json=body, headers=operator)
    assert again.status_code == 409  # the first one was committed: the naive retry conflicts
