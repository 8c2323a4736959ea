"""Rate-limit policies, and what a store decides about one request.

A `RateLimit` of `limit` per `period` is enforced with GCRA (the generic cell rate algorithm,
a token bucket kept as one timestamp per key): a client may send `limit` requests at once, and
after that one every `period / limit` seconds. So there is no window edge to burst across: at
most `limit` requests pass in any instant, and at most `limit + n` in any `n * period / limit`
seconds. Time is counted in whole microseconds, with the emission interval rounded down, so
the arithmetic is exact in Python integers and in Redis Lua doubles alike.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import NamedTuple

__all__ = ["RateLimit", "RateLimitDecision", "RateLimitResult"]

_UNITS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
}
_SPEC = re.compile(
    r"^\s*(?P<limit>\d+)\s*(?:/|per)\s*(?P<count>\d+(?:\.\d+)?)?\s*(?P<unit>[a-z]+)\s*$",
    re.IGNORECASE,
)
_NAME = re.compile(r"^[\x20\x21\x23-\x5b\x5d-\x7e]{1,64}$")  # printable ASCII, no " or \\
MICROSECONDS = 1_000_000


@dataclass(frozen=True, slots=True)
class RateLimit:
    """`limit` requests per `period` seconds, under the name shown in the response headers.

    Raises:
        ValueError: the limit or period is not positive, the period is under a millisecond
            per request, or the name is not 1-64 printable ASCII characters without `"` or `\\`.
    """

    limit: int
    period: float
    name: str = "default"
    period_us: int = field(init=False, repr=False, compare=False)
    interval_us: int = field(init=False, repr=False, compare=False)
    key: str = field(init=False, repr=False, compare=False)
    # The encoded `RateLimit-Policy` item, and the start of the `RateLimit` item up to its
    # `r` value: per request only the numbers are formatted.
    policy_header: bytes = field(init=False, repr=False, compare=False)
    limit_header_prefix: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ValueError(f"a rate limit must admit at least 1 request, not {self.limit}")
        if not self.period > 0:
            raise ValueError(f"a rate-limit period must be positive, not {self.period}")
        if not _NAME.match(self.name):
            raise ValueError(
                f"rate-limit name {self.name!r} must be 1-64 printable ASCII characters without quotes or backslashes"
            )
        period_us = round(self.period * MICROSECONDS)
        interval_us = period_us // self.limit
        if interval_us < 100:  # below this, whole microseconds would round the rate by >1 %
            raise ValueError(
                f"{self.limit} per {self.period:g} s is over 10000 requests per second per "
                "client; use a longer period or a smaller limit"
            )
        object.__setattr__(self, "period_us", period_us)
        object.__setattr__(self, "interval_us", interval_us)
        object.__setattr__(self, "key", f"{self.name}:{self.limit}:{period_us}")
        window = max(1, math.ceil(self.period))
        item = f'"{self.name}";q={self.limit};w={window}'
        object.__setattr__(self, "policy_header", item.encode("ascii"))
        object.__setattr__(self, "limit_header_prefix", f'"{self.name}";r='.encode("ascii"))

    @classmethod
    def parse(cls, spec: str | RateLimit, *, name: str = "default") -> RateLimit:
        """`"100/minute"`, `"10 per 30 seconds"`, `"5/s"`, `"1000/hour"` as a `RateLimit`.

        Raises:
            ValueError: the text is not `<count>/<unit>` or `<count> per [<n>] <unit>`.
        """
        if isinstance(spec, RateLimit):
            return spec if spec.name == name else spec.named(name)
        match = _SPEC.match(spec)
        unit = _UNITS.get(match["unit"].lower()) if match else None
        if match is None or unit is None:
            raise ValueError(
                f"rate limit {spec!r} is not like '100/minute' or '10 per 30 seconds' "
                "(units: second, minute, hour, day)"
            )
        return cls(int(match["limit"]), float(match["count"] or 1) * unit, name)

    def named(self, name: str) -> RateLimit:
        """The same limit under another name."""
        return RateLimit(self.limit, self.period, name)

    @property
    def window(self) -> int:
        """The period in whole seconds, as the `w` of `RateLimit-Policy`."""
        return max(1, math.ceil(self.period))

    def __str__(self) -> str:
        return f"{self.limit} per {self.period:g} s"


class RateLimitDecision(NamedTuple):
    """One policy's verdict on one request.

    `remaining` is how many more requests it admits now; `reset_after` the seconds until its
    whole quota is available again; `retry_after` the seconds until this request would have
    been admitted (0 when it was).
    """

    policy: RateLimit
    allowed: bool
    remaining: int
    reset_after: float
    retry_after: float


class RateLimitResult(NamedTuple):
    """A request's verdict: admitted only if every policy admits it (all or nothing).

    `store_available` is False when the store could not decide; `allowed` then follows the
    failure policy and `decisions` is empty.
    """

    allowed: bool
    decisions: tuple[RateLimitDecision, ...] = ()
    store_available: bool = True

    @property
    def retry_after(self) -> float:
        """Seconds until every policy would admit the request."""
        return max((d.retry_after for d in self.decisions if not d.allowed), default=0.0)
