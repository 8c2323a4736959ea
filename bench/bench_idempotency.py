"""Idempotency and service-identity benchmarks (issue 18), in process.

- The idempotency layer on a request without `Idempotency-Key`: the cost of the layer
  (a trivial ASGI app with and without it), target < 1 us.
- A keyed `POST` through a runtime app: the first attempt of a new key against an unkeyed
  request (memory store; and Redis when one answers on 127.0.0.1:6379: one claim round trip
  plus the store of the response).
- A `ServiceClient` call with a cached service token against one without credentials
  (MockTransport, so only the client's work is measured), target < 5 us.

    python bench/bench_idempotency.py [--quick]     prints the rows as JSON
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import time
from typing import Any

try:
    from bench.common import added_cost_row, interleaved_call_rounds, quiet_run
except ImportError:  # run as a script
    from common import added_cost_row, interleaved_call_rounds, quiet_run

import httpx
from fastapi import Depends
from opsconductor_shared import ServiceSettings, create_service_app
from opsconductor_shared._redis import RedisSettings
from opsconductor_shared.client import ServiceClient, ServiceCredentials
from opsconductor_shared.idempotency import (
    IdempotencySettings,
    RedisIdempotencyStore,
    idempotency,
    install_idempotency,
)
from opsconductor_shared.idempotency._middleware import idempotency_layer

GROUP = "idempotency"
HEADERS = [
    (b"host", b"targets"),
    (b"user-agent", b"bench"),
    (b"accept", b"application/json"),
    (b"content-type", b"application/json"),
    (b"content-length", b"2"),
    (b"authorization", b"Bearer x.y.z"),
    (b"x-request-id", b"0123456789abcdef"),
    (b"traceparent", b"00-0123456789abcdef0123456789abcdef-0123456789abcdef-01"),
]


async def _layer_cost(quick: bool) -> tuple[list[float], list[float]]:
    async def app(scope: Any, receive: Any, send: Any) -> None:  # noqa: ARG001 - ASGI's
        return None

    layered = idempotency_layer(app, max_response_bytes=1 << 20)
    scope = {"type": "http", "method": "POST", "path": "/targets", "headers": HEADERS}

    async def bare(_: int) -> None:
        await app(scope, None, None)

    async def wrapped(_: int) -> None:
        await layered(scope, None, None)

    return await interleaved_call_rounds(
        bare,
        wrapped,
        rounds=5 if quick else 9,
        count=20_000 if quick else 200_000,
        clock=time.process_time,
    )


def _keyed_app(store: Any = None) -> Any:
    app = create_service_app("bench", "1.0.0", ServiceSettings(), configure_logging=False)
    install_idempotency(app, IdempotencySettings(), store=store)

    @app.post("/things", status_code=201, dependencies=[Depends(idempotency())])
    async def create_thing(body: dict[str, Any]) -> dict[str, Any]:
        return body

    return app


async def _keyed_cost(quick: bool, store: Any = None) -> tuple[list[float], list[float]]:
    app = _keyed_app(store)
    keys = itertools.count()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:

        async def unkeyed(_: int) -> None:
            (await http.post("/things", json={"a": 1})).raise_for_status()

        async def keyed(_: int) -> None:
            headers = {"Idempotency-Key": f"bench-key-{next(keys):012d}"}
            (await http.post("/things", json={"a": 1}, headers=headers)).raise_for_status()

        return await interleaved_call_rounds(
            unkeyed, keyed, rounds=3 if quick else 7, count=200 if quick else 2_000
        )


async def _token_cost(
    quick: bool,
) -> tuple[tuple[list[float], list[float]], tuple[list[float], list[float]]]:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/token":
            return httpx.Response(
                200, json={"access_token": "t", "token_type": "Bearer", "expires_in": 3600}
            )
        return httpx.Response(200, json={})

    transport = httpx.MockTransport(handle)
    credentials = ServiceCredentials(
        token_url="http://auth.test/auth/token", client_id="bench", client_secret="s"
    )
    plain = ServiceClient("up", "http://up.test", transport=transport, breaker=False)
    with_token = ServiceClient(
        "up", "http://up.test", transport=transport, breaker=False, credentials=credentials
    )
    await with_token.get("/x")  # the token is fetched once, then cached
    header = {"Authorization": "Bearer t"}

    async def without(_: int) -> None:
        await plain.get("/x")

    async def given(_: int) -> None:
        await plain.get("/x", headers=header)

    async def cached(_: int) -> None:
        await with_token.get("/x")

    rounds, count = (5, 2_000) if quick else (9, 10_000)
    try:
        machinery = await interleaved_call_rounds(
            given, cached, rounds=rounds, count=count, clock=time.process_time
        )
        header_cost = await interleaved_call_rounds(
            without, given, rounds=rounds, count=count, clock=time.process_time
        )
        return machinery, header_cost
    finally:
        await plain.aclose()
        await with_token.aclose()


async def _redis_store() -> RedisIdempotencyStore | None:
    store = RedisIdempotencyStore.from_settings(RedisSettings(), key_prefix=f"bench-{os.getpid()}")
    try:
        await store.client.ping()
    except Exception:
        await store.aclose()
        return None
    return store


async def _run(quick: bool) -> list[dict[str, Any]]:
    bare, wrapped = await _layer_cost(quick)
    rows = [
        added_cost_row(
            bare,
            wrapped,
            limit=1.0,
            notes="8 request headers scanned; process CPU time",
            group=GROUP,
            name="IdempotencyMiddleware on a request without Idempotency-Key",
            baseline="a trivial ASGI app",
            contender="the same app inside the idempotency layer (idempotency_layer)",
            unit="us/request",
            target="< 1 us added",
        )
    ]
    unkeyed, keyed = await _keyed_cost(quick)
    rows.append(
        added_cost_row(
            unkeyed,
            keyed,
            group=GROUP,
            name="keyed POST, first attempt, memory store",
            baseline="the same POST without a key (runtime app, ASGI transport)",
            contender="with a new Idempotency-Key (claim, fingerprint, store, send)",
            unit="us/request",
        )
    )
    store = await _redis_store()
    if store is not None:
        unkeyed, keyed = await _keyed_cost(quick, store)
        rows.append(
            added_cost_row(
                unkeyed,
                keyed,
                notes="two Redis round trips on loopback",
                group=GROUP,
                name="keyed POST, first attempt, Redis store (127.0.0.1)",
                baseline="the same POST without a key",
                contender="with a new Idempotency-Key: SET NX claim + stored response",
                unit="us/request",
                target="at most one claim round trip plus the store",
            )
        )
    (given, cached), (without, header) = await _token_cost(quick)
    rows.append(
        added_cost_row(
            given,
            cached,
            limit=5.0,
            notes=(
                "the token machinery alone: both calls send the same Authorization header; "
                "process CPU time"
            ),
            group=GROUP,
            name="ServiceClient call with a cached service token",
            baseline="ServiceClient, the caller passing Authorization: Bearer (MockTransport)",
            contender="ServiceClient(credentials=...) with its token cached",
            unit="us/call",
            target="< 5 us added",
        )
    )
    rows.append(
        added_cost_row(
            without,
            header,
            notes=(
                "httpx's own cost of one more request header (any bearer token pays it); "
                "process CPU time"
            ),
            group=GROUP,
            name="ServiceClient call carrying an Authorization header",
            baseline="ServiceClient without credentials or Authorization (MockTransport)",
            contender="the same call with Authorization: Bearer given by the caller",
            unit="us/call",
        )
    )
    return rows


def run(quick: bool) -> list[dict[str, Any]]:
    """The idempotency and service-token rows (see the module docstring)."""
    return quiet_run(lambda: _run(quick))


if __name__ == "__main__":
    print(json.dumps(run("--quick" in sys.argv), indent=2, ensure_ascii=False))
