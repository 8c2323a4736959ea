"""Rate limiting for services: a pure-ASGI middleware, a per-route dependency, two stores.

`install_rate_limiting(app)` installs a `RateLimiter` (policies from `RateLimitSettings`,
counters in a `MemoryRateLimitStore` or a `RedisRateLimitStore`) and its
`RateLimitMiddleware`; `rate_limit("5/minute")` limits one route. GCRA, one store call per
check, all-or-nothing across the policies of a request; 429 in the envelope with `Retry-After`
and the draft-09 `RateLimit-Policy` / `RateLimit` headers. redis is imported only when a Redis
store is made.
"""

from ._dependency import get_rate_limiter, rate_limit
from ._headers import rate_limit_headers
from ._install import install_rate_limiting
from ._keys import (
    IDENTITY_STATE_KEY,
    IdentityResolver,
    Principal,
    principal_from_state,
    principal_of,
    subject_for,
)
from ._limiter import (
    DEFAULT_RETRY_INTERVAL,
    RateLimiter,
    RequestLimits,
    denied_detail,
    refusal,
    request_limits,
)
from ._memory import DEFAULT_MAX_KEYS, MemoryRateLimitStore
from ._middleware import RateLimitMiddleware
from ._policy import RateLimit, RateLimitDecision, RateLimitResult
from ._redis import DEFAULT_KEY_PREFIX, DEFAULT_STORE_TIMEOUT, GCRA_SCRIPT, RedisRateLimitStore
from ._rules import DEFAULT_EXEMPT_PATHS, RateLimitRules, RouteRule
from ._settings import DEFAULT_LIMIT, RateLimitSettings, RouteLimitSettings
from ._store import RateLimitStore, RateLimitStoreError

__all__ = [
    "DEFAULT_EXEMPT_PATHS",
    "DEFAULT_KEY_PREFIX",
    "DEFAULT_LIMIT",
    "DEFAULT_MAX_KEYS",
    "DEFAULT_RETRY_INTERVAL",
    "DEFAULT_STORE_TIMEOUT",
    "GCRA_SCRIPT",
    "IDENTITY_STATE_KEY",
    "IdentityResolver",
    "MemoryRateLimitStore",
    "Principal",
    "RateLimit",
    "RateLimitDecision",
    "RateLimitMiddleware",
    "RateLimitResult",
    "RateLimitRules",
    "RateLimitSettings",
    "RateLimitStore",
    "RateLimitStoreError",
    "RateLimiter",
    "RedisRateLimitStore",
    "RequestLimits",
    "RouteLimitSettings",
    "RouteRule",
    "denied_detail",
    "get_rate_limiter",
    "install_rate_limiting",
    "principal_from_state",
    "principal_of",
    "rate_limit",
    "rate_limit_headers",
    "refusal",
    "request_limits",
    "subject_for",
]
