"""`RateLimit` parsing, and GCRA as the memory store applies it (a fake clock)."""

from __future__ import annotations

import pytest
from opsconductor_shared.ratelimit import MemoryRateLimitStore, RateLimit

from .conftest import FakeClock


@pytest.mark.parametrize(
    ("spec", "limit", "period"),
    [
        ("100/minute", 100, 60),
        ("5/s", 5, 1),
        ("10 per 30 seconds", 10, 30),
        ("1000/hour", 1000, 3600),
        ("7 / 2 days", 7, 172800),
        ("3 PER MINUTE", 3, 60),
        ("1/0.5s", 1, 0.5),
    ],
)
def test_parse(spec: str, limit: int, period: float) -> None:
    policy = RateLimit.parse(spec, name="x")
    assert (policy.limit, policy.period, policy.name) == (limit, period, "x")


@pytest.mark.parametrize("spec", ["", "100", "minute", "10/fortnight", "-1/minute", "ten/minute"])
def test_parse_rejects_with_an_example(spec: str) -> None:
    with pytest.raises(ValueError, match="100/minute"):
        RateLimit.parse(spec)


@pytest.mark.parametrize(
    ("limit", "period", "name", "message"),
    [
        (0, 60, "x", "at least 1"),
        (1, 0, "x", "positive"),
        (100_000, 1, "x", "10000 requests per second"),
        (1, 1, 'a"b', "printable ASCII"),
        (1, 1, "", "printable ASCII"),
        (1, 1, "caf\u00e9", "printable ASCII"),
    ],
)
def test_invalid_policies(limit: int, period: float, name: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RateLimit(limit, period, name)


def test_interval_and_key_are_exact_integers() -> None:
    policy = RateLimit(3, 1.0)
    assert (policy.period_us, policy.interval_us) == (1_000_000, 333_333)
    assert policy.key == "default:3:1000000"
    assert policy.window == 1
    assert RateLimit(1, 0.5).window == 1
    assert str(RateLimit(100, 60)) == "100 per 60 s"
    assert RateLimit.parse(policy, name="other") == RateLimit(3, 1.0, "other")


def admitted(store: MemoryRateLimitStore, policy: RateLimit, count: int) -> int:
    return sum(store.hit_now("client", [policy]).allowed for _ in range(count))


def test_burst_of_exactly_limit_then_one_per_interval(clock: FakeClock) -> None:
    store = MemoryRateLimitStore(clock=clock)
    policy = RateLimit(10, 60)  # one every 6 s after the burst
    assert admitted(store, policy, 25) == 10
    clock.advance(5.999)
    assert admitted(store, policy, 5) == 0
    clock.advance(0.001)
    assert admitted(store, policy, 5) == 1
    clock.advance(60)
    assert admitted(store, policy, 25) == 10


@pytest.mark.parametrize(("limit", "period"), [(3, 1), (7, 1), (100, 60), (1, 1), (999, 3600)])
def test_no_double_burst_at_window_edges(clock: FakeClock, limit: int, period: float) -> None:
    # A fixed window admits `limit` at the end of one window and `limit` more at the start of
    # the next; GCRA admits at most one more per interval, wherever the edge would be.
    store = MemoryRateLimitStore(clock=clock)
    policy = RateLimit(limit, period)
    clock.advance(period - 0.001)
    assert admitted(store, policy, 3 * limit) == limit
    clock.advance(0.002)  # "the next window"
    assert admitted(store, policy, 3 * limit) == 0
    # Over any span of `period`, at most `2 * limit`: the burst plus one per interval.
    total = 0
    for _ in range(100):
        clock.advance(period / 100)
        total += admitted(store, policy, limit)
    assert total <= limit


def test_decision_numbers(clock: FakeClock) -> None:
    store = MemoryRateLimitStore(clock=clock)
    policy = RateLimit(4, 60)  # interval 15 s
    first = store.hit_now("c", [policy])
    [decision] = first.decisions
    assert (decision.allowed, decision.remaining, decision.reset_after) == (True, 3, 15.0)
    for _ in range(3):
        store.hit_now("c", [policy])
    denied = store.hit_now("c", [policy])
    [decision] = denied.decisions
    assert not denied.allowed
    assert (decision.remaining, decision.reset_after, decision.retry_after) == (0, 60.0, 15.0)
    assert denied.retry_after == 15.0
    clock.advance(20)
    [decision] = store.hit_now("c", [policy]).decisions
    assert (decision.allowed, decision.remaining, decision.reset_after) == (True, 0, 55.0)


def test_policies_are_all_or_nothing(clock: FakeClock) -> None:
    store = MemoryRateLimitStore(clock=clock)
    wide, narrow = RateLimit(10, 60, "wide"), RateLimit(2, 60, "narrow")
    results = [store.hit_now("c", [wide, narrow]) for _ in range(5)]
    assert [r.allowed for r in results] == [True, True, False, False, False]
    # The refused requests charged nothing: `wide` has 8 left, not 5.
    [decision] = store.hit_now("c", [wide]).decisions
    assert decision.remaining == 7
    refused = results[-1]
    assert [(d.policy.name, d.allowed) for d in refused.decisions] == [
        ("wide", True),
        ("narrow", False),
    ]


def test_cost_charges_several_units(clock: FakeClock) -> None:
    store = MemoryRateLimitStore(clock=clock)
    policy = RateLimit(10, 10)
    assert store.hit_now("c", [policy], cost=4).decisions[0].remaining == 6
    assert store.hit_now("c", [policy], cost=6).allowed
    assert not store.hit_now("c", [policy], cost=1).allowed
    assert not store.hit_now("other", [policy], cost=11).allowed


def test_subjects_and_policies_count_separately(clock: FakeClock) -> None:
    store = MemoryRateLimitStore(clock=clock)
    policy = RateLimit(1, 60)
    assert store.hit_now("a", [policy]).allowed
    assert store.hit_now("b", [policy]).allowed
    assert store.hit_now("a", [policy.named("other")]).allowed
    assert not store.hit_now("a", [policy]).allowed
