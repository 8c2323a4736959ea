"""RetryPolicy, retry_async and CircuitBreaker on their own (fake clocks, no network)."""

from __future__ import annotations

import time

import httpx
import pytest
from opsconductor_shared import ServiceCommunicationError
from opsconductor_shared.client import (
    CircuitBreaker,
    CircuitOpenError,
    CircuitState,
    RetryPolicy,
    set_retries_enabled,
)
from opsconductor_shared.client._retry import retry_async

REQUEST = httpx.Request("GET", "http://upstream/x")


def status_error(status: int, headers: dict[str, str] | None = None) -> httpx.HTTPStatusError:
    response = httpx.Response(status, headers=headers, request=REQUEST)
    return httpx.HTTPStatusError("failed", request=REQUEST, response=response)


class Flaky:
    def __init__(self, *failures: BaseException) -> None:
        self.failures = list(failures)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "ok"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"attempts": 0}, "attempts"),
        ({"deadline": 0}, "deadline"),
        ({"backoff_max": float("inf")}, "backoff_max"),
        ({"backoff_initial": -1}, "backoff_initial"),
    ],
)
def test_policy_validation(values: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RetryPolicy(**values)  # type: ignore[arg-type]


def test_what_may_be_retried() -> None:
    policy = RetryPolicy()
    for method in ("GET", "head", "PUT", "DELETE", "OPTIONS"):
        assert policy.allows(method)
    assert not policy.allows("POST")
    assert not policy.allows("PATCH", {"X-Other": "1"})
    assert policy.allows("POST", httpx.Headers({"idempotency-key": "abc"}))
    assert policy.is_retryable(httpx.ConnectError("refused"))
    assert policy.is_retryable(httpx.ReadTimeout("slow"))
    assert policy.is_retryable(httpx.RemoteProtocolError("closed"))
    assert not policy.is_retryable(httpx.DecodingError("bad"))
    assert not policy.is_retryable(ValueError("no"))
    for status in (429, 502, 503, 504):
        assert policy.is_retryable(status_error(status))
    assert not policy.is_retryable(status_error(500))
    assert not policy.is_retryable(CircuitOpenError("x"))


def test_backoff_is_full_jitter_under_the_caps() -> None:
    policy = RetryPolicy(backoff_initial=0.1, backoff_max=0.5)
    for retry in range(1, 8):
        ceiling = min(0.5, 0.1 * 2 ** (retry - 1))
        waits = [policy.backoff(retry) for _ in range(200)]
        assert all(0 <= wait <= ceiling for wait in waits)
        assert max(waits) > ceiling / 2  # drawn over the whole range, not a fixed step


@pytest.mark.anyio
async def test_retries_up_to_the_attempts_then_raises_the_last_error() -> None:
    flaky = Flaky(*[httpx.ConnectError("refused")] * 5)
    policy = RetryPolicy(attempts=3, backoff_initial=0.001)
    with pytest.raises(httpx.ConnectError):
        await retry_async(flaky, policy=policy)
    assert flaky.calls == 3


@pytest.mark.anyio
async def test_recovers_and_reports_each_retry() -> None:
    flaky = Flaky(httpx.ReadTimeout("slow"), status_error(503))
    seen: list[tuple[int, str]] = []
    result = await retry_async(
        flaky,
        policy=RetryPolicy(attempts=3, backoff_initial=0.001),
        on_retry=lambda attempt, exc, wait: seen.append((attempt, type(exc).__name__)),
    )
    assert result == "ok"
    assert seen == [(1, "ReadTimeout"), (2, "HTTPStatusError")]


@pytest.mark.anyio
async def test_non_retryable_errors_and_non_retryable_requests_get_one_attempt() -> None:
    flaky = Flaky(ValueError("a bug"))
    with pytest.raises(ValueError, match="a bug"):
        await retry_async(flaky, policy=RetryPolicy(attempts=5))
    assert flaky.calls == 1
    flaky = Flaky(httpx.ConnectError("refused"))
    with pytest.raises(httpx.ConnectError):
        await retry_async(flaky, policy=RetryPolicy(attempts=5), retryable=False)
    assert flaky.calls == 1


@pytest.mark.anyio
async def test_retry_after_is_honoured_and_bounded() -> None:
    flaky = Flaky(status_error(429, {"Retry-After": "0.3"}))
    start = time.monotonic()
    assert await retry_async(flaky, policy=RetryPolicy(backoff_initial=0)) == "ok"
    assert time.monotonic() - start >= 0.3
    flaky = Flaky(status_error(503, {"Retry-After": "120"}))
    start = time.monotonic()
    with pytest.raises(httpx.HTTPStatusError):
        await retry_async(flaky, policy=RetryPolicy(retry_after_limit=10))
    assert flaky.calls == 1  # a wait beyond the limit ends the retries at once
    assert time.monotonic() - start < 2.0  # not the 10 s limit, nor the 120 s asked for


@pytest.mark.anyio
async def test_the_deadline_bounds_attempts_and_waits() -> None:
    async def hangs() -> None:
        await __import__("asyncio").sleep(10)

    start = time.monotonic()
    with pytest.raises(TimeoutError):
        await retry_async(hangs, policy=RetryPolicy(deadline=0.2))
    assert time.monotonic() - start < 2.0  # the 0.2 s deadline, not the 10 s hang
    flaky = Flaky(*[status_error(503, {"Retry-After": "5"})] * 3)
    start = time.monotonic()
    with pytest.raises(httpx.HTTPStatusError):
        await retry_async(flaky, policy=RetryPolicy(deadline=3, attempts=5))
    assert flaky.calls == 1  # the wait would cross the deadline: give up instead of sleeping
    assert time.monotonic() - start < 1.5  # not the 3 s to the deadline


@pytest.mark.anyio
async def test_tests_can_switch_retries_off() -> None:
    set_retries_enabled(False)
    try:
        flaky = Flaky(httpx.ConnectError("refused"))
        with pytest.raises(httpx.ConnectError):
            await retry_async(flaky, policy=RetryPolicy(attempts=5))
        assert flaky.calls == 1
    finally:
        set_retries_enabled(True)


@pytest.mark.anyio
async def test_service_communication_errors_are_classified_by_their_cause() -> None:
    policy = RetryPolicy(backoff_initial=0.001)
    cause = httpx.ConnectError("refused")
    error = ServiceCommunicationError("down", status=503, service="x")
    error.__cause__ = cause
    assert policy.is_retryable(error)
    upstream_500 = ServiceCommunicationError("failed", service="x", upstream_status=500)
    assert not policy.is_retryable(upstream_500)
    limited = ServiceCommunicationError("busy", service="x", upstream_status=429, retry_after=2)
    assert policy.retry_after(limited) == 2


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_fails_fast_half_opens_and_closes() -> None:
    clock = Clock()
    breaker = CircuitBreaker("targets", failure_threshold=3, reset_timeout=10, clock=clock)
    for _ in range(2):
        breaker.before_call()
        breaker.record_failure()
    breaker.before_call()
    breaker.record_success()  # a success resets the count
    for _ in range(3):
        breaker.before_call()
        breaker.record_failure()
    assert breaker.state is CircuitState.open
    with pytest.raises(CircuitOpenError) as caught:
        breaker.before_call()
    assert caught.value.status_code == 503
    assert caught.value.code == "SERVICE_UNAVAILABLE"
    assert caught.value.retry_after == pytest.approx(10)
    clock.now += 10
    assert breaker.state is CircuitState.half_open
    breaker.before_call()  # the probe
    with pytest.raises(CircuitOpenError):
        breaker.before_call()  # only one probe at a time
    breaker.record_failure()
    assert breaker.state is CircuitState.open
    clock.now += 10
    breaker.before_call()
    breaker.record_success()
    assert breaker.state is CircuitState.closed
    breaker.before_call()
    assert "closed" in repr(breaker)


def test_a_cancelled_probe_frees_its_slot() -> None:
    clock = Clock()
    breaker = CircuitBreaker("targets", failure_threshold=1, reset_timeout=1, clock=clock)
    breaker.before_call()
    breaker.record_failure()
    clock.now += 1
    breaker.before_call()
    breaker.release()
    breaker.before_call()  # not stuck half-open with a leaked probe
    breaker.record_success()
    assert breaker.state is CircuitState.closed


def test_breaker_validation() -> None:
    with pytest.raises(ValueError, match="failure_threshold"):
        CircuitBreaker("x", failure_threshold=0)
    with pytest.raises(ValueError, match="reset_timeout"):
        CircuitBreaker("x", reset_timeout=0)
