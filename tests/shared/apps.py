"""A small service built with the runtime, with one route per error path."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import BackgroundTasks, Depends, FastAPI, HTTPException
from fastapi.responses import JSONResponse, StreamingResponse
from opsconductor_shared import (
    ConflictError,
    NotFoundError,
    ServiceSettings,
    create_service_app,
    error_responses,
    get_logger,
    get_request_id,
)
from pydantic import BaseModel, Field

log = get_logger("tests.app")


class Login(BaseModel):
    username: str = Field(min_length=3)
    password: str = Field(min_length=12)


class Item(BaseModel):
    name: str
    port: int = Field(ge=1, le=65535)


async def logging_dependency() -> str:
    log.info("dependency_ran")
    return "ok"


def make_app(**settings: Any) -> FastAPI:
    options: dict[str, Any] = {"environment": "production", **settings}
    app = create_service_app(
        "test-service", "1.2.3", ServiceSettings(**options), configure_logging=False
    )

    @app.get("/items/{item_id}", responses=error_responses(404), operation_id="get_item")
    async def get_item(item_id: int) -> dict[str, int]:
        if item_id != 1:
            raise NotFoundError("Item", item_id)
        return {"id": item_id}

    @app.post("/items", status_code=201, responses=error_responses(409), operation_id="create_item")
    async def create_item(item: Item) -> Item:
        if item.name == "taken":
            raise ConflictError("An item with this name exists.")
        return item

    @app.post("/login", operation_id="login")
    async def login(body: Login) -> dict[str, str]:
        return {"user": body.username}

    @app.get("/boom", operation_id="boom")
    async def boom() -> None:
        raise RuntimeError("database password=hunter2 at postgresql://admin:s3cret@db/ops")

    @app.get("/http-error", operation_id="http_error")
    async def http_error() -> None:
        raise HTTPException(status_code=418, detail="I refuse to brew.")

    @app.get("/http-500", operation_id="http_500")
    async def http_500() -> None:
        raise HTTPException(status_code=503, detail="redis at 10.0.0.7:6379 is down")

    @app.get("/whoami", operation_id="whoami")
    async def whoami(
        dep: Annotated[str, Depends(logging_dependency)], tasks: BackgroundTasks
    ) -> dict[str, str | None]:
        log.info("route_ran")

        def background() -> None:
            log.info("background_ran")

        tasks.add_task(background)
        await asyncio.sleep(0)
        return {"request_id": get_request_id(), "dep": dep}

    @app.get("/slow", operation_id="slow")
    async def slow(ms: float = 0) -> dict[str, str | None]:
        await asyncio.sleep(ms / 1000)
        return {"request_id": get_request_id()}

    @app.get("/cached", operation_id="cached")
    async def cached() -> JSONResponse:
        return JSONResponse(
            {"ok": True}, headers={"Cache-Control": "max-age=60", "Server": "leaky/1.0"}
        )

    @app.get("/stream-fails", operation_id="stream_fails")
    async def stream_fails() -> StreamingResponse:
        async def chunks() -> Any:
            yield b"partial"
            raise RuntimeError("mid-stream failure")

        return StreamingResponse(chunks(), media_type="text/plain")

    @app.post("/echo-size", operation_id="echo_size")
    async def echo_size(item: dict[str, Any]) -> dict[str, int]:
        return {"keys": len(item)}

    return app
