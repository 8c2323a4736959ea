"""`ServiceClient(credentials=...)`: its own token, cached, renewed with single flight, a 401
renewed once and retried once, 503 while the auth service is down; through MockTransport."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from opsconductor_shared import ServiceClient, ServiceCommunicationError, ServiceUnavailableError
from opsconductor_shared.client import RetryPolicy, ServiceCredentials
from opsconductor_shared.client._credentials import ClientCredentialsTokens
from opsconductor_shared.testing import CapturedLogs, async_wait_until

pytestmark = pytest.mark.anyio
SECRET = "very-secret-value-42"
CREDENTIALS = ServiceCredentials(
    token_url="http://auth.test/auth/token", client_id="scheduler", client_secret=SECRET
)


class Upstreams:
    """A fake auth service and a fake upstream behind one MockTransport."""

    def __init__(self, *, ttl: int = 300) -> None:
        self.ttl = ttl
        self.tokens_issued = 0
        self.auth_down = False
        self.refuse: Callable[[str], bool] = lambda _token: False
        self.seen: list[httpx.Request] = []
        self.counter = itertools.count(1)
        # Cleared by a test to hold token requests open until it has seen one arrive, so
        # every concurrent caller overlaps the request (single flight under test).
        self.release_tokens = asyncio.Event()
        self.release_tokens.set()

    async def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "auth.test":
            if self.auth_down:
                raise httpx.ConnectError("refused", request=request)
            assert SECRET in request.content.decode()
            self.tokens_issued += 1
            await self.release_tokens.wait()
            token = f"token-{next(self.counter)}"
            body = {"access_token": token, "token_type": "Bearer", "expires_in": self.ttl}
            return httpx.Response(200, json=body)
        self.seen.append(request)
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if self.refuse(token):
            return httpx.Response(401, json={"status": 401, "code": "UNAUTHORIZED"})
        return httpx.Response(200, json={"ok": True})

    def client(self, **kwargs: Any) -> ServiceClient:
        transport = httpx.MockTransport(self.handle)
        return ServiceClient(
            "jobs", "http://jobs.test", credentials=CREDENTIALS, transport=transport, **kwargs
        )


async def test_one_token_for_100_concurrent_calls() -> None:
    upstreams = Upstreams()
    async with upstreams.client() as jobs:
        upstreams.release_tokens.clear()
        calls = asyncio.gather(*(jobs.get("/jobs") for _ in range(100)))
        await async_wait_until(lambda: upstreams.tokens_issued == 1, timeout=10)
        upstreams.release_tokens.set()
        answers = await calls
    assert [a.status_code for a in answers] == [200] * 100
    assert upstreams.tokens_issued == 1
    assert {r.headers["authorization"] for r in upstreams.seen} == {"Bearer token-1"}


async def test_the_token_is_renewed_before_it_expires() -> None:
    now = [1000.0]
    upstreams = Upstreams(ttl=300)
    async with upstreams.client() as jobs:
        assert jobs.tokens is not None
        jobs.tokens = ClientCredentialsTokens(
            CREDENTIALS, transport=httpx.MockTransport(upstreams.handle), clock=lambda: now[0]
        )
        await jobs.get("/jobs")
        now[0] += 300 - 31  # not yet within renew_before (30 s)
        await asyncio.gather(*(jobs.get("/jobs") for _ in range(20)))
        assert upstreams.tokens_issued == 1
        now[0] += 2  # within the renewal window: one new token for all of them
        upstreams.release_tokens.clear()
        calls = asyncio.gather(*(jobs.get("/jobs") for _ in range(20)))
        await async_wait_until(lambda: upstreams.tokens_issued == 2, timeout=10)
        upstreams.release_tokens.set()
        await calls
        assert upstreams.tokens_issued == 2
        assert upstreams.seen[-1].headers["authorization"] == "Bearer token-2"


async def test_a_renewal_failing_early_keeps_the_valid_token() -> None:
    now = [1000.0]
    upstreams = Upstreams(ttl=300)
    async with upstreams.client() as jobs:
        jobs.tokens = ClientCredentialsTokens(
            CREDENTIALS, transport=httpx.MockTransport(upstreams.handle), clock=lambda: now[0]
        )
        await jobs.get("/jobs")
        upstreams.auth_down = True
        now[0] += 290  # renewal due, but the token still holds for 10 s
        assert (await jobs.get("/jobs")).status_code == 200
        now[0] += 11  # expired, and no new one
        with pytest.raises(ServiceUnavailableError):
            await jobs.get("/jobs")


async def test_a_401_renews_once_and_retries_once() -> None:
    upstreams = Upstreams()
    upstreams.refuse = lambda token: token == "token-1"
    async with upstreams.client() as jobs:
        assert (await jobs.get("/jobs")).status_code == 200
        assert upstreams.tokens_issued == 2
        assert [r.headers["authorization"] for r in upstreams.seen] == [
            "Bearer token-1",
            "Bearer token-2",
        ]
        upstreams.refuse = lambda _token: True  # every token refused: one retry, then the 401
        upstreams.seen.clear()
        with pytest.raises(ServiceCommunicationError) as caught:
            await jobs.get("/jobs")
    assert caught.value.upstream_status == 401
    assert len(upstreams.seen) == 2
    assert upstreams.tokens_issued == 3


async def test_auth_service_down_is_503_not_401(captured_logs: CapturedLogs) -> None:
    upstreams = Upstreams()
    upstreams.auth_down = True
    async with upstreams.client() as jobs:
        with pytest.raises(ServiceUnavailableError) as caught:
            await jobs.post("/jobs", json={"name": "x"})
    assert caught.value.status_code == 503
    assert upstreams.seen == []
    assert captured_logs.events("service_token_failed")
    assert SECRET not in captured_logs.text()
    assert SECRET not in repr(CREDENTIALS)
    assert SECRET not in str(caught.value.to_problem(request_id="r").model_dump())


async def test_an_explicit_authorization_header_wins() -> None:
    upstreams = Upstreams()
    async with upstreams.client() as jobs:
        await jobs.get("/jobs", headers={"Authorization": "Bearer user-token"})
    assert upstreams.tokens_issued == 0
    assert upstreams.seen[0].headers["authorization"] == "Bearer user-token"


async def test_the_authorization_step_adds_only_a_cached_token() -> None:
    # The step every call runs (and the bench times): synchronous, the cached token only.
    upstreams = Upstreams()
    async with upstreams.client() as jobs, ServiceClient("plain", "http://jobs.test") as plain:
        assert plain._add_service_token({}) == (None, None)
        headers: dict[str, str] = {}
        assert jobs._add_service_token(headers) == (jobs.tokens, None)  # none cached yet
        assert headers == {}
        await jobs.get("/jobs")
        assert jobs._add_service_token(headers) == (jobs.tokens, "token-1")
        assert headers == {"Authorization": "Bearer token-1"}
        given = {"Authorization": "Bearer user-token"}
        assert jobs._add_service_token(given) == (None, None)
        assert given == {"Authorization": "Bearer user-token"}
    assert upstreams.tokens_issued == 1


async def test_idempotent_generates_one_key_kept_across_retries() -> None:
    keys: list[str | None] = []
    failures = [2]

    def handle(request: httpx.Request) -> httpx.Response:
        keys.append(request.headers.get("idempotency-key"))
        failures[0] -= 1
        return httpx.Response(503 if failures[0] >= 0 else 201, json={"id": 1})

    policy = RetryPolicy(attempts=3, deadline=5, backoff_initial=0, backoff_max=0.001)
    transport = httpx.MockTransport(handle)
    async with ServiceClient("t", "http://t.test", transport=transport, retry=policy) as client:
        answer = await client.post("/targets", json={}, idempotent=True)
        assert answer.status_code == 201
        assert len(keys) == 3
        assert keys[0]
        assert len(set(keys)) == 1
        keys.clear()
        await client.get("/targets", idempotent=True)
        assert keys == [None]
        keys.clear()
        await client.post("/targets", json={})
        assert keys == [None]
