"""Bounded polls: wait for a condition with a deadline instead of sleeping and hoping.

    wait_until(lambda: "request" in logs.text(), timeout=10, message="no access line")
    await async_wait_until(lambda: fake.calls["jwks"] == 2)

A fixed sleep is either too short on a loaded machine (the test fails) or too long on an idle
one (the suite crawls); a poll returns as soon as the condition holds and fails, with the
message, only when the deadline passes.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio

__all__ = [
    "DEFAULT_POLL_INTERVAL",
    "DEFAULT_WAIT_TIMEOUT",
    "async_wait_until",
    "wait_until",
]

DEFAULT_WAIT_TIMEOUT = 10.0
DEFAULT_POLL_INTERVAL = 0.01

T = TypeVar("T")


def _check(timeout: float, interval: float) -> None:
    if timeout <= 0:
        raise ValueError(f"timeout must be positive, not {timeout}")
    if interval <= 0:
        raise ValueError(f"interval must be positive, not {interval}")


def _timed_out(message: str, timeout: float, last: object) -> TimeoutError:
    return TimeoutError(f"{message}: still false after {timeout:g} s (last value: {last!r})")


def wait_until(
    predicate: Callable[[], T],
    *,
    timeout: float = DEFAULT_WAIT_TIMEOUT,
    interval: float = DEFAULT_POLL_INTERVAL,
    message: str = "the condition did not hold",
) -> T:
    """Call `predicate` until it returns a true value, and return that value.

    Args:
        predicate: the condition; called at once, then every `interval` seconds.
        timeout: seconds before giving up (generous: a loaded machine is slow).
        interval: seconds between calls.
        message: what was awaited, for the error.

    Raises:
        TimeoutError: the predicate was still false after `timeout` seconds.
        ValueError: `timeout` or `interval` is not positive.
    """
    _check(timeout, interval)
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise _timed_out(message, timeout, value)
        time.sleep(interval)


async def async_wait_until(
    predicate: Callable[[], T | Awaitable[T]],
    *,
    timeout: float = DEFAULT_WAIT_TIMEOUT,  # noqa: ASYNC109 - the poll's own deadline, as in wait_until
    interval: float = DEFAULT_POLL_INTERVAL,
    message: str = "the condition did not hold",
) -> T:
    """`wait_until` for async tests: the event loop keeps running between calls.

    Args:
        predicate: the condition, a plain function or a coroutine function.
        timeout: seconds before giving up.
        interval: seconds between calls.
        message: what was awaited, for the error.

    Raises:
        TimeoutError: the predicate was still false after `timeout` seconds.
        ValueError: `timeout` or `interval` is not positive.
    """
    _check(timeout, interval)
    value: object = None
    # The deadline also cancels an async predicate that hangs.
    with anyio.move_on_after(timeout):
        while True:
            value = predicate()
            if inspect.isawaitable(value):
                value = await value
            if value:
                return value
            await anyio.sleep(interval)
    raise _timed_out(message, timeout, value)
