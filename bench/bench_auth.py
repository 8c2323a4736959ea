"""Auth benchmarks (issue 4): the cache hit inside the dependency, a local verification miss
against a bare PyJWT decode, and remote verification's single-flight under concurrency.

    python bench/bench_auth.py [--quick]     prints the rows as JSON
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

try:
    from bench.common import interleaved, per_call_us, row, sync_per_call_us
except ImportError:  # run as a script
    from common import interleaved, per_call_us, row, sync_per_call_us

import httpx
import jwt
from opsconductor_shared import ServiceSettings, create_service_app, setup_service_logging
from opsconductor_shared.auth import (
    AuthSettings,
    LocalTokenVerifier,
    RemoteTokenVerifier,
    get_verified_token,
    install_auth,
)
from opsconductor_shared.testing import FakeAuthService, TokenFactory
from starlette.requests import Request

GROUP = "auth"


def _scope(token: str, app: Any) -> dict[str, Any]:
    return {
        "type": "http",
        "method": "GET",
        "path": "/me",
        "headers": [(b"authorization", f"Bearer {token}".encode())],
        "query_string": b"",
        "app": app,
        "state": {},
    }


async def _cache_hit(fake: FakeAuthService, url: str, quick: bool) -> dict[str, Any]:
    settings = AuthSettings(jwks_url=f"{url}/.well-known/jwks.json")
    app = create_service_app("bench", "1", ServiceSettings(), configure_logging=False)
    verifier = install_auth(app, settings)
    assert isinstance(verifier, LocalTokenVerifier)
    await verifier.start()
    token = fake.issue()
    key = verifier.keys.get  # type: ignore[union-attr]
    public = (await key(fake.signing_kid)).jwk
    scope = _scope(token, app)

    async def dependency() -> None:
        await get_verified_token(Request(scope))

    await dependency()  # warm the cache
    iterations = 2_000 if quick else 20_000

    def bare_decode() -> None:
        jwt.decode(token, public, algorithms=["RS256"], audience=fake.audience, issuer=fake.issuer)

    async def base() -> float:
        return sync_per_call_us(bare_decode, max(200, iterations // 20))

    async def cont() -> float:
        return await per_call_us(dependency, iterations)

    baseline, contender = await interleaved(base, cont, 3 if quick else 7)
    await verifier.aclose()
    return row(
        group=GROUP,
        name="verified-token cache hit inside the dependency",
        baseline="bare PyJWT RS256 decode of the same token",
        contender="get_verified_token (the BearerAuth scheme) on a cache hit (fresh Request each time)",
        baseline_value=baseline,
        contender_value=contender,
        unit="µs",
        target="< 10 µs",
        met=contender < 10,
        notes="per request; includes the header parse, SHA-256 of the token, the cache lookup, binding user_id to the log context",
    )


async def _local_miss(fake: FakeAuthService, url: str, quick: bool) -> list[dict[str, Any]]:
    rows = []
    rs_settings = AuthSettings(jwks_url=f"{url}/.well-known/jwks.json", cache_max_entries=0)
    rs = LocalTokenVerifier(rs_settings)
    await rs.start()
    rs_token = fake.issue()
    rs_key = (await rs.keys.get(fake.signing_kid)).jwk  # type: ignore[union-attr]
    hs = LocalTokenVerifier(fake.keys.hs256_settings(cache_max_entries=0))
    hs_token = TokenFactory(fake.keys, algorithm="HS256").issue()
    cases = [
        ("RS256", rs, rs_token, rs_key),
        ("HS256", hs, hs_token, fake.keys.hs256_secret.encode()),
    ]
    iterations = 300 if quick else 3_000
    for algorithm, verifier, token, key in cases:

        def bare(token: str = token, key: Any = key, algorithm: str = algorithm) -> None:
            jwt.decode(
                token, key, algorithms=[algorithm], audience=fake.audience, issuer=fake.issuer
            )

        async def verify(token: str = token, verifier: LocalTokenVerifier = verifier) -> None:
            await verifier.verify(token)

        async def base(bare: Any = bare) -> float:
            return sync_per_call_us(bare, iterations)

        async def cont(verify: Any = verify) -> float:
            return await per_call_us(verify, iterations)

        baseline, contender = await interleaved(base, cont, 3 if quick else 7)
        rows.append(
            row(
                group=GROUP,
                name=f"local verification miss ({algorithm})",
                baseline=f"bare jwt.decode ({algorithm}, aud and iss checked)",
                contender="LocalTokenVerifier.verify with the cache off",
                baseline_value=baseline,
                contender_value=contender,
                unit="µs",
                target="<= 1.5x",
                met=contender <= 1.5 * baseline,
                notes="contender adds the size/shape/alg checks, key lookup by kid, TokenClaims and Identity validation",
            )
        )
    await rs.aclose()
    return rows


async def _single_flight(fake: FakeAuthService, url: str, quick: bool) -> dict[str, Any]:
    fake.verify_delay = 0.05
    settings = AuthSettings(mode="remote", verify_url=f"{url}/auth/verify", timeout=5)
    rounds = 3 if quick else 7
    naive_counts, counts = [], []
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=100), timeout=10) as naive:
        for _ in range(rounds):
            token = fake.issue()
            before = fake.calls["verify"]
            await asyncio.gather(
                *(naive.post(f"{url}/auth/verify", json={"token": token}) for _ in range(100))
            )
            naive_counts.append(fake.calls["verify"] - before)
            verifier = RemoteTokenVerifier(settings)
            token = fake.issue()
            before = fake.calls["verify"]
            await asyncio.gather(*(verifier.verify(token) for _ in range(100)))
            counts.append(fake.calls["verify"] - before)
            await verifier.aclose()
    fake.verify_delay = 0.0
    baseline, contender = max(naive_counts), max(counts)
    return row(
        group=GROUP,
        name="remote verification: calls per 100 concurrent requests with one new token",
        baseline="a verify call per request (no cache, no single-flight)",
        contender="RemoteTokenVerifier (single-flight + cache)",
        baseline_value=baseline,
        contender_value=contender,
        unit="calls",
        target="1 call per 100 requests",
        met=contender == 1,
        notes=f"worst of {rounds} rounds; the fake auth service takes 50 ms per verification",
    )


async def _run(quick: bool) -> list[dict[str, Any]]:
    fake = FakeAuthService()
    with fake.serve() as server:
        rows = [await _cache_hit(fake, server.url, quick)]
        rows += await _local_miss(fake, server.url, quick)
        rows.append(await _single_flight(fake, server.url, quick))
    return rows


def run(quick: bool) -> list[dict[str, Any]]:
    """The auth benchmark rows (see the module docstring)."""
    setup_service_logging("bench", level="WARNING")
    return asyncio.run(_run(quick))


if __name__ == "__main__":
    print(json.dumps(run("--quick" in sys.argv), indent=2, ensure_ascii=False))
