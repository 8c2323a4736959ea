"""The app each replica process runs in test_redis (uvicorn --factory)."""

from __future__ import annotations

import os

from fastapi import FastAPI
from opsconductor_shared import ServiceSettings, create_service_app
from opsconductor_shared.ratelimit import RateLimitSettings, RedisSettings, install_rate_limiting
from pydantic import SecretStr


def create_app() -> FastAPI:
    app = create_service_app(
        "rl-replica", "1.0.0", ServiceSettings.for_service("rl-replica", log={"level": "WARNING"})
    )
    install_rate_limiting(
        app,
        RateLimitSettings(
            default_limit=os.environ["RL_LIMIT"],
            storage="redis",
            # Exactness is under test, not timeouts: a busy machine must not fail open.
            redis=RedisSettings(
                url=SecretStr(os.environ["REDIS_URL"]),
                socket_timeout=5,
                connect_timeout=5,
                pool_timeout=10,
            ),
            key_prefix=os.environ["RL_PREFIX"],
            store_timeout=20,
        ),
    )

    @app.get("/work")
    async def work() -> dict[str, int]:
        return {"pid": os.getpid()}

    return app
