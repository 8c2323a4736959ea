"""Client benchmarks (issue 4): `ServiceClient` GETs to a local uvicorn service against a raw
`httpx.AsyncClient` making the same calls, sequential and concurrent, with the connections
each opened counted on the server (distinct client ports it saw).

The upstream runs in its own process (uvicorn, on loopback), so the client's event loop does
not share a GIL with it. The ServiceClient runs as in production: retry policy, circuit
breaker, propagation, and one JSON log line per call (written to /dev/null).

The service identity rows (issue 18) are in process, in process CPU time: what a cached
service token adds is the call's authorization step (`ServiceClient._add_service_token`, the
same code every call runs: the cached-token check and the header) with credentials and a
token cached, against the same step of a client without credentials, many iterations per
round, interleaved rounds, median of the paired differences; target < 5 us. A second row
(no target) shows httpx's own cost of carrying one more header on a whole call
(MockTransport), which any bearer token pays, forwarded or the service's own.

    python bench/bench_client.py [--quick]     prints the rows as JSON
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from typing import Any

try:
    from bench.common import (
        ROOT,
        added_cost_row,
        interleaved,
        interleaved_call_rounds,
        quiet_run,
        row,
    )
except ImportError:  # run as a script
    from common import ROOT, added_cost_row, interleaved, interleaved_call_rounds, quiet_run, row

import httpx
from opsconductor_shared.client import ServiceClient, ServiceCredentials
from opsconductor_shared.testing import wait_until

GROUP = "client"
POOL = 10
CONCURRENCY = 50
UPSTREAM = ROOT / "bench" / "upstream.py"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start_upstream() -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, str(UPSTREAM), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"the benchmark upstream exited with {process.returncode}")
        try:
            return httpx.get(f"{url}/health/live", timeout=0.5).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(
            answers, timeout=15, interval=0.05, message="the benchmark upstream did not start"
        )
    except BaseException:
        process.kill()
        raise
    return process, url


async def _connections(url: str) -> int:
    async with httpx.AsyncClient() as probe:
        return int((await probe.get(f"{url}/stats")).json()["connections"])


# What `propagation_headers` gives a call inside a request: the step starts from this.
_PROPAGATED = {
    "X-Request-ID": "0123456789abcdef0123456789abcdef",
    "traceparent": "00-0123456789abcdef0123456789abcdef-0123456789abcdef-01",
}


def _token_transport() -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/token":
            body = {"access_token": "t" * 800, "token_type": "Bearer", "expires_in": 3600}
            return httpx.Response(200, json=body)
        return httpx.Response(200, json={})

    return httpx.MockTransport(handle)


async def _token_rows(quick: bool) -> list[dict[str, Any]]:
    transport = _token_transport()
    credentials = ServiceCredentials(
        token_url="http://auth.test/auth/token", client_id="bench", client_secret="s"
    )
    plain = ServiceClient("up", "http://up.test", transport=transport, breaker=False)
    with_token = ServiceClient(
        "up", "http://up.test", transport=transport, breaker=False, credentials=credentials
    )
    try:
        await with_token.get("/x")  # the token is fetched once, then cached
        tokens = with_token.tokens
        if tokens is None or tokens.requests != 1:
            raise RuntimeError("the service token was not fetched exactly once")
        header = {"Authorization": f"Bearer {tokens.cached()}"}

        async def step_without(_: int) -> None:
            plain._add_service_token(dict(_PROPAGATED))

        async def step_cached(_: int) -> None:
            with_token._add_service_token(dict(_PROPAGATED))

        async def call_without(_: int) -> None:
            await plain.get("/x")

        async def call_with_header(_: int) -> None:
            await plain.get("/x", headers=header)

        step = await interleaved_call_rounds(
            step_without,
            step_cached,
            rounds=5 if quick else 15,
            count=50_000 if quick else 500_000,
            clock=time.process_time,
        )
        header_cost = await interleaved_call_rounds(
            call_without,
            call_with_header,
            rounds=5 if quick else 9,
            count=2_000 if quick else 10_000,
            clock=time.process_time,
        )
        if tokens.requests != 1:
            raise RuntimeError("the service token was renewed during the bench")
    finally:
        await plain.aclose()
        await with_token.aclose()
    return [
        added_cost_row(
            *step,
            limit=5.0,
            notes=(
                "the authorization step every call runs (ServiceClient._add_service_token: "
                "the cached-token check, the Authorization header), in process CPU time; "
                "httpx's cost of the header itself is the next row"
            ),
            group=GROUP,
            name="ServiceClient call with a cached service token",
            baseline="the authorization step of a ServiceClient without credentials",
            contender="the same step of ServiceClient(credentials=...), its token cached",
            unit="us/call",
            target="< 5 us added",
        ),
        added_cost_row(
            *header_cost,
            notes=(
                "httpx's own cost of one more request header on a whole call (any bearer "
                "token pays it, forwarded or the service's own); MockTransport; process CPU time"
            ),
            group=GROUP,
            name="ServiceClient call carrying an Authorization header",
            baseline="ServiceClient without credentials or Authorization (MockTransport)",
            contender="the same call with Authorization: Bearer given by the caller",
            unit="us/call",
        ),
    ]


async def _run(quick: bool) -> list[dict[str, Any]]:
    process, url = _start_upstream()
    try:
        limits = httpx.Limits(max_connections=POOL, max_keepalive_connections=POOL)
        timeout = httpx.Timeout(5.0, connect=2.0)
        raw = httpx.AsyncClient(base_url=url, limits=limits, timeout=timeout)
        ours = ServiceClient("inventory", url, limits=limits, timeout=timeout)
        sequential_n = 300 if quick else 2_000
        per_task = 10 if quick else 40
        rounds = 3 if quick else 7

        async def raw_get() -> None:
            response = await raw.get("/items/1")
            response.raise_for_status()

        async def our_get() -> None:
            await ours.get("/items/1")

        for get in (raw_get, our_get):  # open the pools and warm both paths
            await asyncio.gather(*(get() for _ in range(POOL)))

        def sequential(get: Any) -> Any:
            async def measure() -> float:
                start = time.perf_counter()
                for _ in range(sequential_n):
                    await get()
                return sequential_n / (time.perf_counter() - start)

            return measure

        def concurrent(get: Any) -> Any:
            async def worker() -> None:
                for _ in range(per_task):
                    await get()

            async def measure() -> float:
                start = time.perf_counter()
                await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
                return CONCURRENCY * per_task / (time.perf_counter() - start)

            return measure

        seq_raw, seq_ours = await interleaved(sequential(raw_get), sequential(our_get), rounds)
        con_raw, con_ours = await interleaved(concurrent(raw_get), concurrent(our_get), rounds)
        await raw.aclose()
        await ours.aclose()

        # Connections: each client in turn, fresh, under the concurrent load.
        opened: dict[str, int] = {}
        for name, factory in (
            ("raw", lambda: httpx.AsyncClient(base_url=url, limits=limits, timeout=timeout)),
            ("ours", lambda: ServiceClient("inventory", url, limits=limits, timeout=timeout)),
        ):
            client = factory()
            before = await _connections(url)

            async def worker(client: Any = client) -> None:
                for _ in range(per_task):
                    (await client.get("/items/1")).raise_for_status()

            await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
            opened[name] = await _connections(url) - before
            await client.aclose()
    finally:
        process.terminate()
        process.wait(timeout=10)

    logging_note = (
        "ServiceClient logs one JSON line per call (to /dev/null), raw httpx logs nothing"
    )
    return [
        *await _token_rows(quick),
        row(
            group=GROUP,
            name="GET to a local uvicorn service, sequential",
            baseline="raw httpx.AsyncClient, same pool and timeouts",
            contender="ServiceClient.get (retry policy, breaker, propagation, logging)",
            baseline_value=seq_raw,
            contender_value=seq_ours,
            unit="req/s",
            target=">= 0.85x (within 15%)",
            met=seq_ours >= 0.85 * seq_raw,
            notes=f"{sequential_n} requests per round, median of {rounds}; {logging_note}",
        ),
        row(
            group=GROUP,
            name=f"GET to a local uvicorn service, {CONCURRENCY} concurrent callers",
            baseline="raw httpx.AsyncClient, same pool and timeouts",
            contender="ServiceClient.get (retry policy, breaker, propagation, logging)",
            baseline_value=con_raw,
            contender_value=con_ours,
            unit="req/s",
            target=">= 0.85x (within 15%)",
            met=con_ours >= 0.85 * con_raw,
            notes=f"{CONCURRENCY}x{per_task} requests per round over a pool of {POOL}, median of {rounds}; {logging_note}",
        ),
        row(
            group=GROUP,
            name=f"connections opened for {CONCURRENCY * per_task} requests from {CONCURRENCY} concurrent callers",
            baseline="the pool size (max_connections)",
            contender="connections the server saw from ServiceClient",
            baseline_value=POOL,
            contender_value=opened["ours"],
            unit="connections",
            target="<= pool size",
            met=opened["ours"] <= POOL,
            notes=f"raw httpx opened {opened['raw']} under the same load; counted server-side as distinct client ports",
        ),
    ]


def run(quick: bool) -> list[dict[str, Any]]:
    """The client benchmark rows (see the module docstring)."""
    return quiet_run(lambda: _run(quick), level="INFO")


if __name__ == "__main__":
    print(json.dumps(run("--quick" in sys.argv), indent=2, ensure_ascii=False))
