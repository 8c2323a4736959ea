"""Rate-limit response headers, as draft-ietf-httpapi-ratelimit-headers-09 defines them.

    RateLimit-Policy: "default";q=100;w=60, "POST /targets";q=10;w=60
    RateLimit: "default";r=42;t=18, "POST /targets";r=9;t=6

Structured-field lists, one item per policy that applied, named by the policy's quoted name:
`q` is the quota (requests), `w` the window in seconds; `r` the requests still admitted now
and `t` the seconds until the whole quota is available again (conservative: after `t` seconds
a client may send `q` requests). A 429 adds `Retry-After`. When the store could not decide,
only `RateLimit-Policy` is sent.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ._policy import RateLimit, RateLimitDecision

__all__ = ["rate_limit_headers"]

_POLICY = b"ratelimit-policy"
_LIMIT = b"ratelimit"


def _limit_item(decision: RateLimitDecision) -> str:
    reset = math.ceil(decision.reset_after) if decision.reset_after > 0 else 0
    return f'"{decision.policy.name}";r={max(0, decision.remaining)};t={reset}'


def rate_limit_headers(
    policies: Sequence[RateLimit], decisions: Sequence[RateLimitDecision]
) -> list[tuple[bytes, bytes]]:
    """The raw ASGI headers for the policies that applied and their decisions."""
    headers = []
    if policies:
        value = ", ".join([policy.header_item for policy in policies])
        headers.append((_POLICY, value.encode("latin-1", "replace")))
    if decisions:
        value = ", ".join([_limit_item(decision) for decision in decisions])
        headers.append((_LIMIT, value.encode("latin-1", "replace")))
    return headers
