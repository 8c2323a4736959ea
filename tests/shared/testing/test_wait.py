"""`wait_until` and `async_wait_until`: return as soon as the condition holds, fail with the
message when the deadline passes, and never wait forever."""

from __future__ import annotations

import itertools
import time

import anyio
import anyio.lowlevel
import pytest
from opsconductor_shared.testing import async_wait_until, wait_until


def test_returns_the_first_true_value() -> None:
    counter = itertools.count()
    assert wait_until(lambda: next(counter) >= 3 and "done") == "done"


def test_times_out_with_the_message_and_the_last_value() -> None:
    start = time.monotonic()
    with pytest.raises(
        TimeoutError, match=r"no line arrived: still false after 0.2 s \(last value: \[\]\)"
    ):
        wait_until(list, timeout=0.2, message="no line arrived")
    assert 0.2 <= time.monotonic() - start < 5


@pytest.mark.parametrize(("timeout", "interval"), [(0, 0.1), (1, 0), (-1, 0.1)])
def test_bad_bounds_are_refused(timeout: float, interval: float) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        wait_until(lambda: True, timeout=timeout, interval=interval)


@pytest.mark.anyio
async def test_async_with_plain_and_coroutine_predicates() -> None:
    counter = itertools.count()
    assert await async_wait_until(lambda: next(counter) >= 2) is True

    async def ready() -> str:
        await anyio.lowlevel.checkpoint()
        return "ready"

    assert await async_wait_until(ready) == "ready"
    with pytest.raises(TimeoutError, match="never"):
        await async_wait_until(lambda: 0, timeout=0.05, message="never")


@pytest.mark.anyio
async def test_async_deadline_cancels_a_hanging_predicate() -> None:
    async def hangs() -> bool:
        await anyio.sleep(60)
        return True

    start = time.monotonic()
    with pytest.raises(TimeoutError):
        await async_wait_until(hangs, timeout=0.1)
    assert time.monotonic() - start < 5
