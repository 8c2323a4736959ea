"""Rate limiting for services: a pure-ASGI middleware, a per-route dependency, two stores.

`install_rate_limiting(app)` installs a `RateLimiter` (policies from `RateLimitSettings`,
counters in a `MemoryRateLimitStore` or a `RedisRateLimitStore`) and its
`RateLimitMiddleware`; `rate_limit("5/minute")` limits one route. GCRA, one store call per
check, all-or-nothing across the policies of a request; 429 in the envelope with `Retry-After`
and the draft-09 `RateLimit-Policy` / `RateLimit` headers. redis is imported only when a Redis
store is made.
"""

from .._redis import RedisSettings
from ._dependency import get_rate_limiter, rate_limit
from ._install import install_rate_limiting
from ._keys import Principal
from ._memory import MemoryRateLimitStore
from ._policy import RateLimit, RateLimitDecision, RateLimitResult
from ._redis import RedisRateLimitStore
from ._settings import RateLimitSettings, RouteLimitSettings
from ._store import RateLimitStore, RateLimitStoreError

__all__ = [
    "MemoryRateLimitStore",
    "Principal",
    "RateLimit",
    "RateLimitDecision",
    "RateLimitResult",
    "RateLimitSettings",
    "RateLimitStore",
    "RateLimitStoreError",
    "RedisRateLimitStore",
    "RedisSettings",
    "RouteLimitSettings",
    "get_rate_limiter",
    "install_rate_limiting",
    "rate_limit",
]
