"""Concurrent requests never see each other's request id, in code or in logs."""

from __future__ import annotations

import asyncio
import random

import httpx
import pytest
from opsconductor_shared.testing import CapturedLogs

from tests.shared.apps import make_app


@pytest.mark.anyio
async def test_concurrent_requests_keep_their_own_request_id(captured_logs: CapturedLogs) -> None:
    app = make_app()
    transport = httpx.ASGITransport(app=app)
    rng = random.Random(7)

    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:

        async def call(index: int) -> tuple[str, str]:
            request_id = f"req-{index:03d}"
            response = await client.get(
                "/slow", params={"ms": rng.uniform(0, 20)}, headers={"X-Request-ID": request_id}
            )
            return request_id, response.json()["request_id"]

        results = await asyncio.gather(*(call(i) for i in range(60)))

    assert all(sent == seen for sent, seen in results)
    access = captured_logs.events("request")
    assert sorted(line["request_id"] for line in access) == sorted(sent for sent, _ in results)
    assert all(line["path"] == "/slow" for line in access)
