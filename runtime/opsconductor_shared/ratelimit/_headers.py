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


def _limit_item(decision: RateLimitDecision) -> bytes:
    reset = math.ceil(decision.reset_after) if decision.reset_after > 0 else 0
    remaining = decision.remaining if decision.remaining > 0 else 0
    return decision.policy.limit_header_prefix + b"%d;t=%d" % (remaining, reset)


def rate_limit_headers(
    policies: Sequence[RateLimit], decisions: Sequence[RateLimitDecision]
) -> list[tuple[bytes, bytes]]:
    """The raw ASGI headers for the policies that applied and their decisions.

    The names and the policies' items are encoded once, when a `RateLimit` is made; a
    request formats only its two numbers per decision.
    """
    headers = []
    if policies:
        headers.append((_POLICY, b", ".join([policy.policy_header for policy in policies])))
    if decisions:
        headers.append((_LIMIT, b", ".join([_limit_item(decision) for decision in decisions])))
    return headers
