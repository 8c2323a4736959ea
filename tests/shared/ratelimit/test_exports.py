"""`ratelimit` (and the shared cache) import without redis."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import asyncio, sys
sys.modules["redis"] = None  # as if the redis extra were not installed
sys.modules["redis.asyncio"] = None
from opsconductor_shared._cache import MemoryCache
from opsconductor_shared._redis import RedisSettings, create_redis_client
from opsconductor_shared.ratelimit import MemoryRateLimitStore, RateLimit, RedisRateLimitStore

store = MemoryRateLimitStore()
assert asyncio.run(store.hit("s", [RateLimit(1, 60)])).allowed
try:
    create_redis_client(RedisSettings())
except ImportError as exc:
    assert "opsconductor-shared[redis]" in str(exc)
else:
    raise AssertionError("a Redis client needs redis")
print("ok")
"""


def test_imports_without_the_redis_extra() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
