"""`CircuitBreaker`: stop calling an upstream that keeps failing, and probe for its recovery.

    closed ── failure_threshold consecutive failures ──▶ open
    open ──── reset_timeout passed ──▶ half-open: up to half_open_max_calls probes go through,
                                       every other call still fails fast
    half-open ── a probe succeeds ──▶ closed      half-open ── a probe fails ──▶ open

While open, calls fail at once with `CircuitOpenError` (a 503 `ServiceCommunicationError`
whose `retry_after` is the time left before the next probe) without touching the network.
A failure is whatever the caller records as one: `ServiceClient` records transport errors and
5xx answers; 4xx answers are the caller's mistakes and count as successes. One breaker
belongs to one upstream and one event loop; its methods never await, so no lock is needed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from opsconductor_contracts import ErrorCode

from .._errors import ServiceCommunicationError
from .._logging import get_logger

__all__ = [
    "CircuitBreaker",
    "CircuitOpenError",
    "CircuitState",
    "DEFAULT_FAILURE_THRESHOLD",
    "DEFAULT_RESET_TIMEOUT",
]

DEFAULT_FAILURE_THRESHOLD = 5
DEFAULT_RESET_TIMEOUT = 30.0
_log = get_logger("opsconductor.client")


class CircuitState(StrEnum):
    """The state of a `CircuitBreaker`."""

    closed = "closed"
    open = "open"
    half_open = "half_open"


class CircuitOpenError(ServiceCommunicationError):
    """SERVICE_UNAVAILABLE: the circuit to an upstream is open, so the call was not made."""

    def __init__(self, service: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(
            f"The {service} service is unavailable. Retry later.",
            code=ErrorCode.SERVICE_UNAVAILABLE,
            service=service,
            retry_after=retry_after,
            metadata={"circuit": "open"},
            **kwargs,
        )


class CircuitBreaker:
    """A consecutive-failure circuit breaker for one upstream (see the module docstring).

    Args:
        name: the upstream's name, for errors and logs.
        failure_threshold: consecutive failures that open the circuit.
        reset_timeout: seconds the circuit stays open before probes are let through.
        half_open_max_calls: probes allowed at the same time while half-open.
        clock: a monotonic clock in seconds (tests pass a fake one).
    """

    def __init__(
        self,
        name: str,
        *,
        failure_threshold: int = DEFAULT_FAILURE_THRESHOLD,
        reset_timeout: float = DEFAULT_RESET_TIMEOUT,
        half_open_max_calls: int = 1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError(f"failure_threshold must be at least 1, not {failure_threshold}")
        if not (math.isfinite(reset_timeout) and reset_timeout > 0):
            raise ValueError(
                f"reset_timeout must be a positive number of seconds, not {reset_timeout}"
            )
        if half_open_max_calls < 1:
            raise ValueError(f"half_open_max_calls must be at least 1, not {half_open_max_calls}")
        self.name = name
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self.half_open_max_calls = half_open_max_calls
        self._clock = clock
        self._state = CircuitState.closed
        self._failures = 0
        self._opened_at = 0.0
        self._probes = 0

    def __repr__(self) -> str:
        return (
            f"CircuitBreaker({self.name!r}, state={self.state.value}, failures={self._failures}, "
            f"failure_threshold={self.failure_threshold}, reset_timeout={self.reset_timeout})"
        )

    @property
    def state(self) -> CircuitState:
        """The current state; an open circuit whose timeout passed reads as half-open."""
        if (
            self._state is CircuitState.open
            and self._clock() - self._opened_at >= self.reset_timeout
        ):
            return CircuitState.half_open
        return self._state

    @property
    def failures(self) -> int:
        """Consecutive failures recorded since the last success."""
        return self._failures

    def before_call(self) -> None:
        """Admit a call, or fail fast.

        Raises:
            CircuitOpenError: the circuit is open, or half-open with every probe slot taken.
        """
        if self._state is CircuitState.closed:
            return
        now = self._clock()
        if self._state is CircuitState.open:
            remaining = self._opened_at + self.reset_timeout - now
            if remaining > 0:
                raise CircuitOpenError(self.name, retry_after=remaining)
            self._transition(CircuitState.half_open)
        if self._probes >= self.half_open_max_calls:
            raise CircuitOpenError(self.name, retry_after=self.reset_timeout)
        self._probes += 1

    def record_success(self) -> None:
        """Record that an admitted call succeeded."""
        self._failures = 0
        if self._state is CircuitState.half_open:
            self._probes = 0
            self._transition(CircuitState.closed)

    def record_failure(self) -> None:
        """Record that an admitted call failed."""
        self._failures += 1
        if self._state is CircuitState.half_open or (
            self._state is CircuitState.closed and self._failures >= self.failure_threshold
        ):
            self._probes = 0
            self._opened_at = self._clock()
            self._transition(CircuitState.open)

    def release(self) -> None:
        """Record that an admitted call ended without a verdict (it was cancelled)."""
        if self._state is CircuitState.half_open and self._probes > 0:
            self._probes -= 1

    def reset(self) -> None:
        """Close the circuit and forget the failures."""
        self._failures = 0
        self._probes = 0
        self._state = CircuitState.closed

    def _transition(self, state: CircuitState) -> None:
        previous, self._state = self._state, state
        log = _log.warning if state is CircuitState.open else _log.info
        log(
            "circuit_state_changed",
            upstream=self.name,
            previous=previous.value,
            state=state.value,
            failures=self._failures,
        )
