"""`install_rate_limiting` with the memory store: responses, keys, exemptions, rules, policy."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
from fastapi import Depends, FastAPI, Request
from opsconductor_contracts import Identity
from opsconductor_shared import ServiceSettings, get_runtime
from opsconductor_shared.ratelimit import (
    RateLimit,
    RateLimitResult,
    RateLimitSettings,
    RateLimitStoreError,
    RouteLimitSettings,
    get_rate_limiter,
    install_rate_limiting,
    rate_limit,
)
from opsconductor_shared.ratelimit._middleware import RateLimitMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send
from structlog.testing import capture_logs

from tests.services import app_client

from .conftest import make_app

pytestmark = pytest.mark.anyio


async def statuses(client: Any, path: str, count: int, **kwargs: Any) -> list[int]:
    return [(await client.get(path, **kwargs)).status_code for _ in range(count)]


async def test_headers_on_every_limited_response() -> None:
    app = make_app(RateLimitSettings(default_limit="5/minute"))
    async with app_client(app) as client:
        for path, status in (("/things", 200), ("/nope", 404), ("/things/x", 422)):
            response = await client.get(path)
            assert response.status_code == status
            assert response.headers["ratelimit-policy"] == '"default";q=5;w=60'
        response = await client.delete("/things")
        assert response.status_code == 405
        assert response.headers["ratelimit"] == '"default";r=1;t=48'


async def test_429_in_the_envelope() -> None:
    app = make_app(RateLimitSettings(default_limit="2/minute"))
    async with app_client(app) as client:
        assert await statuses(client, "/things", 2) == [200, 200]
        response = await client.get("/things")
        assert response.status_code == 429
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert (problem["status"], problem["code"]) == (429, "RATE_LIMITED")
        assert problem["detail"] == "Too many requests: the limit is 2 per 60 s. Retry after 30 s."
        assert problem["request_id"] == response.headers["x-request-id"]
        assert response.headers["retry-after"] == "30"
        assert response.headers["ratelimit"] == '"default";r=0;t=60'
        assert response.headers["ratelimit-policy"] == '"default";q=2;w=60'
        # It went through the outer middleware like any response.
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "server-timing" in response.headers


async def test_health_routes_are_exempt() -> None:
    app = make_app(RateLimitSettings(default_limit="1/minute"))
    async with app_client(app) as client:
        for path in ("/health/live", "/health/ready", "/health"):
            for _ in range(5):
                response = await client.get(path)
                assert response.status_code == 200
                assert "ratelimit" not in response.headers
                assert "ratelimit-policy" not in response.headers
        assert await statuses(client, "/things", 2) == [200, 429]


async def test_exempt_templates() -> None:
    settings = RateLimitSettings(default_limit="1/minute", exempt_paths=["/things/{thing_id}"])
    async with app_client(make_app(settings)) as client:
        assert await statuses(client, "/things/1", 3) == [200, 200, 200]
        assert await statuses(client, "/things", 2) == [200, 429]


async def test_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored() -> None:
    app = make_app(RateLimitSettings(default_limit="3/minute"))
    async with app_client(app, client=("203.0.113.5", 40000)) as client:
        codes = [
            (
                await client.get("/things", headers={"x-forwarded-for": f"198.51.100.{n}"})
            ).status_code
            for n in range(5)
        ]
    assert codes == [200, 200, 200, 429, 429]


async def test_forwarded_for_from_a_trusted_proxy_names_the_client() -> None:
    service = ServiceSettings.for_service("rl-test", trusted_proxies=["10.0.0.0/8"])
    app = make_app(RateLimitSettings(default_limit="2/minute"), service=service)
    async with app_client(app, client=("10.1.2.3", 40000)) as client:
        first = [
            client.get("/things", headers={"x-forwarded-for": "198.51.100.1"}) for _ in range(3)
        ]
        codes = [(await request).status_code for request in first]
        other = await client.get("/things", headers={"x-forwarded-for": "198.51.100.2"})
        # A client cannot escape by prepending a fake entry: the proxy appended the real one.
        spoof = await client.get("/things", headers={"x-forwarded-for": "1.1.1.1, 198.51.100.1"})
    assert codes == [200, 200, 429]
    assert other.status_code == 200
    assert spoof.status_code == 429


async def test_route_limits_match_templates_and_methods() -> None:
    settings = RateLimitSettings(
        default_limit="100/minute",
        routes=[RouteLimitSettings(path="/things/{thing_id}", methods=["get"], limit="2/minute")],
    )
    async with app_client(make_app(settings)) as client:
        assert (await client.get("/things/1")).status_code == 200
        response = await client.get("/things/2")  # same template, same counter
        assert response.headers["ratelimit-policy"] == (
            '"default";q=100;w=60, "GET /things/{thing_id}";q=2;w=60'
        )
        assert (await client.get("/things/3")).status_code == 429
        assert (await client.post("/things")).status_code == 200
        assert (await client.get("/things")).status_code == 200
        assert (await client.get("/things")).headers["ratelimit"] == '"default";r=95;t=3'


class FakeAuthMiddleware:
    """Stands in for an auth middleware: `x-test-user: <id>:<role>` becomes the identity."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        for name, value in scope.get("headers", ()):
            if name == b"x-test-user":
                user, role = value.decode().split(":")
                scope.setdefault("state", {})["identity"] = {"user_id": user, "role": role}
        await self.app(scope, receive, send)


def with_fake_auth(app: FastAPI) -> None:
    get_runtime(app).middleware.fill("auth", FakeAuthMiddleware)


async def test_principals_count_separately_and_per_role() -> None:
    settings = RateLimitSettings(default_limit="2/minute", role_limits={"admin": "4/minute"})
    app = make_app(settings, setup=with_fake_auth)
    async with app_client(app) as client:

        async def codes(user: str, count: int) -> list[int]:
            return await statuses(client, "/things", count, headers={"x-test-user": user})

        assert await codes("u1:viewer", 3) == [200, 200, 429]
        assert await codes("u2:viewer", 3) == [200, 200, 429]  # same address, own counter
        assert await codes("u3:admin", 5) == [200, 200, 200, 200, 429]
        assert await statuses(client, "/things", 3) == [200, 200, 429]  # anonymous: by address


async def test_route_role_limits() -> None:
    settings = RateLimitSettings(
        default_limit=None,
        routes=[RouteLimitSettings(path="/things", methods=["POST"], roles={"viewer": "1/minute"})],
    )
    app = make_app(settings, setup=with_fake_auth)
    async with app_client(app) as client:
        viewer = {"x-test-user": "v:viewer"}
        admin = {"x-test-user": "a:admin"}
        assert [(await client.post("/things", headers=viewer)).status_code for _ in range(2)] == [
            200,
            429,
        ]
        assert [(await client.post("/things", headers=admin)).status_code for _ in range(3)] == [
            200
        ] * 3
        response = await client.get("/things", headers=viewer)
        assert "ratelimit-policy" not in response.headers  # no policy applies: no headers


def dependency_routes(app: FastAPI) -> None:
    async def fake_auth(request: Request) -> None:
        user = request.headers.get("x-user")
        if user:
            request.state.identity = {"user_id": user, "role": request.headers["x-role"]}

    async def verified_identity(request: Request) -> Identity | None:
        if "x-user" not in request.headers:
            return None
        return Identity.model_validate(
            {
                "user_id": request.headers["x-user"],
                "username": "someone",
                "role": request.headers["x-role"],
                "permissions": [],
                "token_version": 0,
                "token_id": "t",
                "expires_at": "2999-01-01T00:00:00Z",
            }
        )

    @app.post(
        "/login",
        dependencies=[
            Depends(fake_auth),
            Depends(rate_limit("2/minute", roles={"admin": "3/minute"})),
        ],
    )
    async def login() -> dict[str, str]:
        return {"result": "ok"}

    @app.post(
        "/reports",
        dependencies=[Depends(rate_limit("1/minute", identity=verified_identity, name="reports"))],
    )
    async def reports() -> dict[str, str]:
        return {"result": "ok"}


async def test_dependency_limits_per_route_and_principal() -> None:
    app = make_app(RateLimitSettings(default_limit="100/minute"), setup=dependency_routes)
    async with app_client(app) as client:
        viewer = {"x-user": "v", "x-role": "viewer"}
        codes = [(await client.post("/login", headers=viewer)).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        admin = {"x-user": "a", "x-role": "admin"}
        codes = [(await client.post("/login", headers=admin)).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        ok = await client.post("/login")  # anonymous: its own counter, by address
        assert ok.headers["ratelimit-policy"] == '"default";q=100;w=60, "/login";q=2;w=60'
        assert ok.headers["ratelimit"] == '"default";r=92;t=5, "/login";r=1;t=30'
        await client.post("/login")
        refused = await client.post("/login")
        assert refused.status_code == 429
        assert refused.json()["code"] == "RATE_LIMITED"
        assert refused.headers["retry-after"] == "30"
        assert refused.headers["ratelimit"].endswith('"/login";r=0;t=60')


async def test_dependency_takes_the_auth_dependency_as_identity() -> None:
    app = make_app(RateLimitSettings(default_limit=None), setup=dependency_routes)
    async with app_client(app) as client:
        for user in ("x", "y"):
            headers = {"x-user": user, "x-role": "operator"}
            codes = [(await client.post("/reports", headers=headers)).status_code for _ in range(2)]
            assert codes == [200, 429]
        response = await client.post("/reports")
        assert response.headers["ratelimit-policy"] == '"reports";q=1;w=60'


async def test_dependency_without_install_fails_loudly() -> None:
    app = FastAPI()

    @app.get("/x", dependencies=[Depends(rate_limit("1/minute"))])
    async def x() -> None:
        pass

    with pytest.raises(RuntimeError, match="install_rate_limiting"):
        get_rate_limiter(app)
    with pytest.raises(ValueError, match="cost"):
        rate_limit("1/minute", cost=0)


class FailingStore:
    """A store that cannot decide, counting how often it is asked."""

    def __init__(self) -> None:
        self.calls = 0

    async def hit(
        self, subject: str, policies: Sequence[RateLimit], *, cost: int = 1
    ) -> RateLimitResult:
        self.calls += 1
        raise RateLimitStoreError("Redis did not decide: ConnectionError")

    async def ping(self) -> None:
        raise RateLimitStoreError("Redis did not answer: ConnectionError")

    async def aclose(self) -> None:
        pass


async def test_fail_open_admits_logs_once_and_degrades_readiness() -> None:
    store = FailingStore()
    app = make_app(RateLimitSettings(default_limit="1/minute", retry_interval=60), store=store)
    async with app_client(app) as client:
        with capture_logs() as logs:
            responses = [await client.get("/things") for _ in range(5)]
        assert [r.status_code for r in responses] == [200] * 5
        assert responses[0].headers["ratelimit-policy"] == '"default";q=1;w=60'
        assert "ratelimit" not in responses[0].headers  # nothing known about what remains
        assert store.calls == 1  # the store is left alone for retry_interval
        lines = [log for log in logs if log["log_level"] in {"warning", "error"}]
        assert [(line["event"], line["log_level"], line["effect"]) for line in lines] == [
            ("dependency_down", "warning", "requests are admitted unlimited (fail open)")
        ]
        ready = await client.get("/health/ready")
        assert ready.status_code == 200
        assert ready.json()["status"] == "degraded"
        [check] = ready.json()["checks"]
        assert (
            check["message"]
            == "rate-limit store unreachable: requests are admitted unlimited (fail open): "
            "RateLimitStoreError: Redis did not answer: ConnectionError"
        )
        assert check["critical"] is False


async def test_fail_closed_refuses_with_503() -> None:
    store = FailingStore()
    settings = RateLimitSettings(
        default_limit="1/minute", failure_policy="closed", retry_interval=2.5
    )
    app = make_app(settings, store=store, setup=dependency_routes)
    async with app_client(app) as client:
        response = await client.get("/things")
        assert response.status_code == 503
        assert response.json()["code"] == "SERVICE_UNAVAILABLE"
        assert response.headers["retry-after"] == "3"
        ready = await client.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"][0]["critical"] is True


async def test_fail_closed_dependency_refuses_with_503() -> None:
    settings = RateLimitSettings(default_limit=None, failure_policy="closed")
    app = make_app(settings, store=FailingStore(), setup=dependency_routes)
    async with app_client(app) as client:
        response = await client.post("/login")
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"


async def test_the_store_is_probed_again_after_the_retry_interval() -> None:
    store = FailingStore()
    app = make_app(RateLimitSettings(default_limit="1/minute", retry_interval=0.05), store=store)
    async with app_client(app) as client:
        await client.get("/things")
        limiter = get_rate_limiter(app)
        assert not limiter.store_available
        limiter._skip_until = 1.0  # the interval is over
        await client.get("/things")
        assert store.calls == 2


async def test_middleware_sits_between_cors_and_the_body_limit() -> None:
    service = ServiceSettings.for_service(
        "rl-test", cors={"allow_origins": ["https://ops.example.com"]}
    )
    app = make_app(RateLimitSettings(default_limit="1/minute"), service=service)
    assert get_runtime(app).middleware.filled == ("standard", "cors", "rate_limit", "body_limit")
    async with app_client(app) as client:
        origin = {"origin": "https://ops.example.com"}
        await client.get("/things", headers=origin)
        refused = await client.get("/things", headers=origin)
        assert refused.status_code == 429
        # A browser can read the 429: it carries the CORS headers.
        assert refused.headers["access-control-allow-origin"] == "https://ops.example.com"
        preflight = await client.options(
            "/things", headers={**origin, "access-control-request-method": "POST"}
        )
        assert preflight.status_code == 200  # preflights are answered before they count


async def test_disabled_limits_nothing() -> None:
    app = make_app(
        RateLimitSettings(enabled=False, default_limit="1/minute"), setup=dependency_routes
    )
    async with app_client(app) as client:
        assert await statuses(client, "/things", 3) == [200, 200, 200]
        assert [(await client.post("/login")).status_code for _ in range(3)] == [200, 200, 200]
        assert "ratelimit" not in (await client.get("/things")).headers


async def test_headers_can_be_turned_off() -> None:
    app = make_app(RateLimitSettings(default_limit="1/minute", headers=False))
    async with app_client(app) as client:
        ok, refused = [await client.get("/things") for _ in range(2)]
    assert "ratelimit" not in ok.headers
    assert refused.status_code == 429
    assert "ratelimit" not in refused.headers
    assert refused.headers["retry-after"] == "60"


async def test_settings_come_from_the_service_settings() -> None:
    class Settings(ServiceSettings):
        rate_limit: RateLimitSettings = RateLimitSettings(default_limit="1/minute")

    app = make_app(service=Settings())
    async with app_client(app) as client:
        assert await statuses(client, "/things", 2) == [200, 429]


async def test_install_errors() -> None:
    app = make_app()
    with pytest.raises(RuntimeError, match="already"):
        install_rate_limiting(app)
    with pytest.raises(RuntimeError, match="create_service_app"):
        install_rate_limiting(FastAPI())
    started = make_app()
    async with app_client(started) as client:
        await client.get("/things")
    del started.state.rate_limiter
    with pytest.raises(RuntimeError, match="before the app starts"):
        install_rate_limiting(started)


async def test_non_http_scopes_pass_through() -> None:
    seen: list[str] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    app = make_app()
    middleware = RateLimitMiddleware(inner, limiter=get_rate_limiter(app))
    await middleware({"type": "websocket", "path": "/things"}, None, None)  # type: ignore[arg-type]
    assert seen == ["websocket"]


async def test_memory_store_admits_exactly_limit_under_concurrent_requests() -> None:
    app = make_app(RateLimitSettings(default_limit="40/hour"))
    async with app_client(app) as client:
        responses = await asyncio.gather(*(client.get("/things") for _ in range(400)))
    codes = [response.status_code for response in responses]
    assert (codes.count(200), codes.count(429)) == (40, 360)
