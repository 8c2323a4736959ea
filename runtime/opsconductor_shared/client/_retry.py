"""Retries: `RetryPolicy` says what is retried and for how long; `retry_async` runs it.

The policy is stamina-shaped: what to retry on is explicit (idempotent methods, or a request
that carries an `Idempotency-Key`; connect errors, timeouts, dropped connections, and the
statuses 429, 502, 503 and 504), attempts and total time are both capped, every wait is
exponential backoff with full jitter (a uniform draw from zero to the capped exponential
step), and a `Retry-After` from the upstream replaces the drawn wait, or ends the retries
when it asks for longer than the policy allows or than the deadline leaves. Tests switch
retries off for the whole process with `set_retries_enabled(False)`.

tenacity runs the loop (its `wait` and `stop` hooks receive the policy's decisions); the
total deadline is enforced around the whole loop, sleeps included.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

import httpx
import tenacity

from .._errors import ServiceCommunicationError
from ._upstream import parse_retry_after

__all__ = [
    "DEFAULT_BACKOFF_INITIAL",
    "DEFAULT_BACKOFF_MAX",
    "DEFAULT_RETRY_AFTER_LIMIT",
    "DEFAULT_RETRY_ATTEMPTS",
    "DEFAULT_RETRY_DEADLINE",
    "DEFAULT_RETRY_POLICY",
    "IDEMPOTENCY_KEY_HEADER",
    "IDEMPOTENT_METHODS",
    "RETRYABLE_EXCEPTIONS",
    "RETRYABLE_STATUSES",
    "RetryPolicy",
    "RetryableStatusError",
    "retry_async",
    "set_retries_enabled",
]

T = TypeVar("T")

DEFAULT_RETRY_ATTEMPTS = 3
DEFAULT_RETRY_DEADLINE = 10.0
DEFAULT_BACKOFF_INITIAL = 0.1
DEFAULT_BACKOFF_MAX = 2.0
DEFAULT_RETRY_AFTER_LIMIT = 30.0
IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
# Failures where the request either never reached the upstream or its answer was lost:
# safe to repeat for an idempotent request, never for any other.
RETRYABLE_EXCEPTIONS: tuple[type[BaseException], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)

_enabled = True


def set_retries_enabled(enabled: bool) -> None:
    """Switch retries on or off for the whole process (off: every call makes one attempt).

    For tests, in stamina's spirit: a suite that expects failures should not sit through
    backoffs.
    """
    global _enabled  # noqa: PLW0603 - one process-wide switch, by design
    _enabled = enabled


class RetryableStatusError(Exception):
    """An upstream answer with a retryable status, raised inside the retry loop only.

    `ServiceClient` raises it so the loop sees the status; once the retries are over, the
    response is turned into the caller's error.
    """

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"upstream answered {response.status_code}")
        self.response = response


@dataclass(frozen=True, kw_only=True, slots=True)
class RetryPolicy:
    """What is retried, how many times, for how long, and how long to wait in between.

    Args:
        attempts: attempts in all, the first one included (1 means no retry).
        deadline: seconds for all attempts and waits together.
        backoff_initial: cap of the first wait, in seconds; each later cap doubles.
        backoff_max: cap of any one wait, in seconds.
        retry_after_limit: longest `Retry-After` honoured, in seconds; a longer one ends the
            retries (the error carries it to the caller).
        methods: HTTP methods retried without an `Idempotency-Key`.
        statuses: upstream statuses that are retried.
        exceptions: exceptions that are retried.
    """

    attempts: int = DEFAULT_RETRY_ATTEMPTS
    deadline: float = DEFAULT_RETRY_DEADLINE
    backoff_initial: float = DEFAULT_BACKOFF_INITIAL
    backoff_max: float = DEFAULT_BACKOFF_MAX
    retry_after_limit: float = DEFAULT_RETRY_AFTER_LIMIT
    methods: frozenset[str] = IDEMPOTENT_METHODS
    statuses: frozenset[int] = RETRYABLE_STATUSES
    exceptions: tuple[type[BaseException], ...] = field(default=RETRYABLE_EXCEPTIONS)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be at least 1 (1 means no retry), not {self.attempts}")
        for name in ("deadline", "backoff_max"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number of seconds, not {value}")
        for name in ("backoff_initial", "retry_after_limit"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(
                    f"{name} must be zero or a positive number of seconds, not {value}"
                )
        object.__setattr__(self, "methods", frozenset(m.upper() for m in self.methods))
        object.__setattr__(self, "statuses", frozenset(self.statuses))

    @classmethod
    def disabled(cls, *, deadline: float = DEFAULT_RETRY_DEADLINE) -> RetryPolicy:
        """A policy of one attempt, still bounded by `deadline`."""
        return cls(attempts=1, deadline=deadline)

    def allows(self, method: str, headers: Mapping[str, str] | None = None) -> bool:
        """Whether a request may be repeated: an idempotent method, or an `Idempotency-Key`."""
        if method.upper() in self.methods:
            return True
        return headers is not None and bool(headers.get(IDEMPOTENCY_KEY_HEADER))

    def backoff(self, retry_number: int) -> float:
        """The wait before retry `retry_number` (1 for the first): full jitter, capped."""
        ceiling = min(self.backoff_max, self.backoff_initial * 2 ** (retry_number - 1))
        return random.uniform(0, ceiling)  # noqa: S311 - jitter, not cryptography

    def is_retryable(self, exc: BaseException) -> bool:
        """Whether `exc` is a failure this policy retries."""
        if isinstance(exc, RetryableStatusError):
            return exc.response.status_code in self.statuses
        if isinstance(exc, httpx.HTTPStatusError):
            return exc.response.status_code in self.statuses
        if isinstance(exc, ServiceCommunicationError):
            if exc.upstream_status is not None:
                return exc.upstream_status in self.statuses
            cause = exc.__cause__
            return cause is not None and self.is_retryable(cause)
        return isinstance(exc, self.exceptions)

    def retry_after(self, exc: BaseException) -> float | None:
        """The upstream's `Retry-After` carried by `exc`, in seconds, if any."""
        if isinstance(exc, RetryableStatusError | httpx.HTTPStatusError):
            return parse_retry_after(exc.response.headers.get("Retry-After"), maximum=math.inf)
        if isinstance(exc, ServiceCommunicationError):
            return exc.retry_after
        return None


DEFAULT_RETRY_POLICY = RetryPolicy()


class _Wait:
    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy

    def __call__(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        retry_after = self.policy.retry_after(exc) if exc is not None else None
        if retry_after is not None:
            return retry_after
        return self.policy.backoff(state.attempt_number)


class _Stop:
    def __init__(self, policy: RetryPolicy, attempts: int, started: float) -> None:
        self.policy = policy
        self.attempts = attempts
        self.started = started

    def __call__(self, state: tenacity.RetryCallState) -> bool:
        if state.attempt_number >= self.attempts:
            return True
        exc = state.outcome.exception() if state.outcome is not None else None
        retry_after = self.policy.retry_after(exc) if exc is not None else None
        if retry_after is not None and retry_after > self.policy.retry_after_limit:
            return True
        elapsed = time.monotonic() - self.started
        return elapsed + (state.upcoming_sleep or 0.0) >= self.policy.deadline


async def retry_async(
    func: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy = DEFAULT_RETRY_POLICY,
    retry_if: Callable[[BaseException], bool] | None = None,
    on_retry: Callable[[int, BaseException, float], None] | None = None,
    retryable: bool = True,
) -> T:
    """Await `func()` under `policy`: retried on the failures it names, within its deadline.

    Args:
        func: a function of no arguments returning the awaitable to run, once per attempt
            (a `functools.partial` or a lambda around a coroutine function).
        policy: the attempts, deadline, backoff and what is retryable.
        retry_if: decides instead of `policy.is_retryable` which exceptions are retried.
        on_retry: called as `on_retry(attempt, exc, wait_seconds)` before each wait.
        retryable: False to make exactly one attempt (a non-idempotent request), still
            bounded by the deadline.

    Raises:
        TimeoutError: the deadline passed while an attempt was running.
        Exception: whatever the last attempt raised, once retrying ends.
    """
    attempts = policy.attempts if (retryable and _enabled) else 1
    started = time.monotonic()
    async with asyncio.timeout(policy.deadline):
        # The first attempt runs outside the engine: a call that succeeds at once (nearly
        # all of them) pays nothing for retrying. A failure is replayed to tenacity as its
        # first attempt, so attempt numbers, waits and stops are the engine's all the same.
        try:
            return await func()
        except Exception as exc:
            if attempts == 1 or not (retry_if or policy.is_retryable)(exc):
                raise
            first_failure: list[Exception] = [exc]

        async def replay_then_call() -> T:
            if first_failure:
                raise first_failure.pop()
            return await func()

        before_sleep = None
        if on_retry is not None:
            hook = on_retry

            def before_sleep(state: tenacity.RetryCallState) -> None:
                exc = state.outcome.exception() if state.outcome is not None else None
                if exc is not None:
                    hook(state.attempt_number, exc, state.upcoming_sleep or 0.0)

        retrying = tenacity.AsyncRetrying(
            stop=_Stop(policy, attempts, started),
            wait=_Wait(policy),
            retry=tenacity.retry_if_exception(retry_if or policy.is_retryable),
            before_sleep=before_sleep,
            reraise=True,
        )
        return await retrying(replay_then_call)
