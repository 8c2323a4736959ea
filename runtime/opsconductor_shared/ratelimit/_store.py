"""`RateLimitStore`: where the limiter keeps its counters. One call decides one request."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from ._policy import RateLimit, RateLimitResult

__all__ = ["RateLimitStore", "RateLimitStoreError"]


class RateLimitStoreError(Exception):
    """The store could not decide in time (unreachable, timed out, failed)."""


@runtime_checkable
class RateLimitStore(Protocol):
    """Counters of the limiter, one GCRA timestamp per (subject, policy).

    `hit` must be atomic: concurrent calls for one subject, from any number of tasks,
    threads or processes sharing the store, never admit more than the policies allow.
    """

    async def hit(
        self, subject: str, policies: Sequence[RateLimit], *, cost: int = 1
    ) -> RateLimitResult:
        """Charge `cost` to every policy of `subject` if all admit it, else charge nothing.

        Raises:
            RateLimitStoreError: the store could not decide.
        """
        ...

    async def ping(self) -> None:
        """Raise `RateLimitStoreError` unless the store answers."""
        ...

    async def aclose(self) -> None:
        """Release connections; the store is not used afterwards."""
        ...
