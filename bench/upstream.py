"""The upstream of the client benchmark: one item route, health, and the connections it saw.

    python bench/upstream.py PORT      serves it with uvicorn on 127.0.0.1:PORT

It runs in its own process, so the client under measurement does not share a GIL with it.
"""

from __future__ import annotations

import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

connections: set[tuple[str, int]] = set()


async def item(request: Request) -> Response:
    if request.client is not None:
        connections.add((request.client.host, request.client.port))
    return JSONResponse({"id": request.path_params["item_id"], "name": "web-1"})


async def health(_: Request) -> Response:
    return JSONResponse({"status": "healthy"})


async def stats(_: Request) -> Response:
    return JSONResponse({"connections": len(connections)})


app = Starlette(
    routes=[
        Route("/items/{item_id:int}", item, methods=["GET"]),
        Route("/health/live", health, methods=["GET"]),
        Route("/stats", stats, methods=["GET"]),
    ]
)

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
