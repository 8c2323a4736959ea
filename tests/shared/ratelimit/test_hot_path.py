"""The per-request path of the limiter, pinned down: exact decisions and header values over
many requests (one policy and several), eviction counts, and every header on every path."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pytest
from fastapi import Depends, FastAPI
from opsconductor_shared.ratelimit import (
    MemoryRateLimitStore,
    RateLimit,
    RateLimitDecision,
    RateLimitResult,
    RateLimitSettings,
    RouteLimitSettings,
    rate_limit,
)

from tests.services import app_client

from .conftest import FakeClock, make_app

MINUTE = RateLimit(5, 60)
BURST = RateLimit(3, 10, "burst")


class ReferenceGCRA:
    """GCRA as `_policy` states it, written plainly: what every store must decide."""

    def __init__(self) -> None:
        self.tats: dict[tuple[str, str], int] = {}

    def hit(
        self, subject: str, policies: Sequence[RateLimit], now: int, cost: int = 1
    ) -> tuple[bool, list[RateLimitDecision]]:
        plan = []
        for policy in policies:
            base = max(self.tats.get((subject, policy.key), now), now)
            plan.append((policy, base, base + policy.interval_us * cost))
        allowed = all(charged - now <= policy.period_us for policy, _, charged in plan)
        decisions = []
        for policy, base, charged in plan:
            if allowed:
                self.tats[(subject, policy.key)] = charged
                decisions.append(
                    RateLimitDecision(
                        policy,
                        True,
                        (policy.period_us - charged + now) // policy.interval_us,
                        (charged - now) / 1e6,
                        0.0,
                    )
                )
            else:
                decisions.append(
                    RateLimitDecision(
                        policy,
                        charged - now <= policy.period_us,
                        max(0, (policy.period_us - base + now) // policy.interval_us),
                        (base - now) / 1e6,
                        max(0, charged - policy.period_us - now) / 1e6,
                    )
                )
        return allowed, decisions


@pytest.mark.parametrize(
    "policies", [(MINUTE,), (BURST,), (MINUTE, BURST)], ids=["minute", "burst", "both"]
)
@pytest.mark.parametrize("cost", [1, 2])
def test_decisions_match_the_reference_over_many_requests(
    clock: FakeClock, policies: tuple[RateLimit, ...], cost: int
) -> None:
    store = MemoryRateLimitStore(clock=clock)
    reference = ReferenceGCRA()
    refused = 0
    for step in range(400):
        subject = f"ip:10.0.0.{step % 3}"
        result = store.hit_now(subject, policies, cost=cost)
        allowed, decisions = reference.hit(subject, policies, clock.now, cost)
        assert (result.allowed, list(result.decisions)) == (allowed, decisions), step
        assert result.store_available
        refused += not allowed
        clock.advance((step % 7) * 0.35)
    assert 0 < refused < 400  # both verdicts were exercised


def rate_limit_header(decisions: Sequence[RateLimitDecision]) -> str:
    return ", ".join(
        f'"{d.policy.name}";r={max(0, d.remaining)};t={math.ceil(d.reset_after) if d.reset_after > 0 else 0}'
        for d in decisions
    )


def login_route(app: FastAPI) -> None:
    @app.post("/login", dependencies=[Depends(rate_limit("4/minute"))])
    async def login() -> dict[str, str]:
        return {"result": "ok"}


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("method", "path", "names"),
    [
        ("GET", "/things", ["default"]),
        ("GET", "/things/7", ["default", "GET /things/{thing_id}"]),
        ("POST", "/login", ["default", "/login"]),
    ],
)
async def test_header_values_after_many_requests(
    clock: FakeClock, method: str, path: str, names: list[str]
) -> None:
    store = MemoryRateLimitStore(clock=clock)
    settings = RateLimitSettings(
        default_limit="6/minute",
        routes=[RouteLimitSettings(path="/things/{thing_id}", methods=["get"], limit="3/10s")],
    )
    app = make_app(settings, store=store, setup=login_route)
    policies = {
        "default": RateLimit(6, 60),
        "GET /things/{thing_id}": RateLimit(3, 10, "GET /things/{thing_id}"),
        "/login": RateLimit(4, 60, "/login"),
    }
    reference = ReferenceGCRA()
    seen = set()
    subject = "ip:127.0.0.1"
    async with app_client(app) as client:
        for step in range(40):
            response = await client.request(method, path)
            # The middleware charges its policies at once (all or nothing), then the
            # dependency its own.
            if path == "/login":
                allowed, decisions = reference.hit(subject, [policies["default"]], clock.now)
                applied = ["default"]
                if allowed:
                    allowed, more = reference.hit(subject, [policies["/login"]], clock.now)
                    decisions += more
                    applied.append("/login")
            else:
                applied = names
                allowed, decisions = reference.hit(subject, [policies[n] for n in names], clock.now)
            seen.add(response.status_code)
            assert response.status_code == (200 if allowed else 429), step
            assert response.headers["ratelimit-policy"] == ", ".join(
                policies[name].policy_header.decode() for name in applied
            )
            assert response.headers["ratelimit"] == rate_limit_header(decisions), step
            assert response.headers["x-content-type-options"] == "nosniff"
            assert "x-request-id" in response.headers
            if not allowed:
                wait = max(d.retry_after for d in decisions if not d.allowed)
                assert response.headers["retry-after"] == str(max(1, math.ceil(wait)))
                assert response.json()["code"] == "RATE_LIMITED"
            clock.advance((step % 5) * 1.5)
    assert seen == {200, 429}


def test_eviction_counts_with_several_policies_per_subject(clock: FakeClock) -> None:
    store = MemoryRateLimitStore(max_keys=4, clock=clock)
    both = (MINUTE, BURST)
    store.hit_now("a", both)
    store.hit_now("b", both)  # four keys: full
    assert (len(store), store.evicted_live) == (4, 0)
    store.hit_now("c", both)  # evicts both of "a"
    assert (len(store), store.evicted_live) == (4, 2)
    for _ in range(5):
        store.hit_now("b", both)  # refused after three: still touched
    store.hit_now("d", (MINUTE,))  # evicts one of "c", the least recently used
    assert (len(store), store.evicted_live) == (4, 3)
    assert not store.hit_now("b", both).allowed  # "b" kept its history
    clock.advance(61)  # everything expired: evicting it loses nothing
    for subject in "ef":
        store.hit_now(subject, both)
    assert (len(store), store.evicted_live) == (4, 3)


def test_a_refused_new_subject_stores_nothing(clock: FakeClock) -> None:
    store = MemoryRateLimitStore(clock=clock)
    tiny = RateLimit(1, 60, "tiny")
    assert not store.hit_now("x", (MINUTE, tiny), cost=2).allowed  # tiny can never admit 2
    assert len(store) == 0


class ListStore:
    """A store of its own, outside the package, returning its decisions as a list."""

    def __init__(self) -> None:
        self.inner = MemoryRateLimitStore()

    async def hit(
        self, subject: str, policies: Sequence[RateLimit], *, cost: int = 1
    ) -> RateLimitResult:
        result = self.inner.hit_now(subject, policies, cost=cost)
        return RateLimitResult(result.allowed, list(result.decisions))  # type: ignore[arg-type]

    async def ping(self) -> None:
        return None

    async def aclose(self) -> None:
        return None


@pytest.mark.anyio
async def test_a_store_of_its_own_is_awaited_and_its_decisions_reported() -> None:
    app = make_app(
        RateLimitSettings(default_limit="3/minute"), store=ListStore(), setup=login_route
    )
    async with app_client(app) as client:
        first = await client.post("/login")
        assert first.headers["ratelimit-policy"] == '"default";q=3;w=60, "/login";q=4;w=60'
        assert first.headers["ratelimit"] == '"default";r=2;t=20, "/login";r=3;t=15'
        codes = [(await client.get("/things")).status_code for _ in range(3)]
        assert codes == [200, 200, 429]


class CountingStore(MemoryRateLimitStore):
    """A subclass of the memory store that overrides `hit`."""

    calls = 0

    async def hit(
        self, subject: str, policies: Sequence[RateLimit], *, cost: int = 1
    ) -> RateLimitResult:
        CountingStore.calls += 1
        return await super().hit(subject, policies, cost=cost)


@pytest.mark.anyio
async def test_a_subclass_of_the_memory_store_is_asked_through_its_hit() -> None:
    CountingStore.calls = 0
    app = make_app(RateLimitSettings(default_limit="3/minute"), store=CountingStore())
    async with app_client(app) as client:
        assert [(await client.get("/things")).status_code for _ in range(4)] == [200] * 3 + [429]
    assert CountingStore.calls == 4
