"""Fixtures of the cache tests: Redis and a unique key prefix."""

from __future__ import annotations

import pytest

from tests.services import require_redis, unique_name


@pytest.fixture
def redis_url() -> str:
    return require_redis()


@pytest.fixture
def prefix() -> str:
    return unique_name("cachetest")
