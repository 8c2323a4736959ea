"""A fake upstream service for client tests and benchmarks: counts calls and connections,
records headers, and fails, throttles or hangs on demand."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


class FakeUpstream:
    def __init__(self) -> None:
        self.reset()
        self.app = Starlette(
            routes=[
                Route("/items/{item_id:int}", self.item, methods=["GET"]),
                Route("/jobs", self.jobs, methods=["POST"]),
                Route("/flaky", self.flaky, methods=["GET", "POST"]),
                Route("/echo", self.echo, methods=["GET"]),
                Route("/slow", self.slow, methods=["GET"]),
                Route("/health/live", self.health, methods=["GET"]),
                Route("/stats", self.stats, methods=["GET"]),
            ]
        )

    def reset(self) -> None:
        self.calls: Counter[str] = Counter()
        self.connections: set[tuple[str, int]] = set()
        self.script: list[tuple[int, dict[str, str]]] = []
        self.seen: list[dict[str, str]] = []
        self.fail_status: int | None = None
        self.health_body: dict[str, Any] = {"status": "healthy"}

    def _count(self, request: Request, name: str) -> None:
        self.calls[name] += 1
        if request.client is not None:
            self.connections.add((request.client.host, request.client.port))

    async def item(self, request: Request) -> Response:
        self._count(request, "item")
        if self.fail_status is not None:
            return JSONResponse({"detail": "failing"}, status_code=self.fail_status)
        return JSONResponse({"id": request.path_params["item_id"], "name": "web-1"})

    async def jobs(self, request: Request) -> Response:
        self._count(request, "jobs")
        self.seen.append(dict(request.headers))
        return JSONResponse({"detail": "busy"}, status_code=503)

    async def flaky(self, request: Request) -> Response:
        self._count(request, "flaky")
        if self.script:
            status, headers = self.script.pop(0)
            return JSONResponse({"detail": "not now"}, status_code=status, headers=headers)
        return JSONResponse({"id": 1, "name": "recovered"})

    async def echo(self, request: Request) -> Response:
        self._count(request, "echo")
        self.seen.append(dict(request.headers))
        return JSONResponse({"id": 1, "name": "echo"})

    async def slow(self, request: Request) -> Response:
        self._count(request, "slow")
        await asyncio.sleep(3)
        return JSONResponse({"id": 1, "name": "late"})

    async def health(self, request: Request) -> Response:
        self._count(request, "health")
        return JSONResponse(self.health_body)

    async def stats(self, request: Request) -> Response:
        return JSONResponse({"connections": len(self.connections), "calls": dict(self.calls)})
