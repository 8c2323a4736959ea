"""Service principals in a service: require_service / require_scope / require_user, the log
context's principal type, and rate limits per principal (one budget for every replica)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import Depends, FastAPI
from opsconductor_shared import (
    AuthSettings,
    CurrentUser,
    ServiceSettings,
    create_service_app,
    install_auth,
)
from opsconductor_shared.auth import require_scope, require_service, require_user
from opsconductor_shared.ratelimit import RateLimitSettings, install_rate_limiting
from opsconductor_shared.testing import CapturedLogs, app_client

pytestmark = pytest.mark.anyio
Headers = Callable[..., dict[str, str]]


def _service(auth_headers: Headers, name: str, scopes: str = "jobs:run") -> dict[str, str]:
    return auth_headers(
        role="operator", sub=name, username=name, principal_type="service", scope=scopes
    )


def _app(auth_settings: AuthSettings, limits: RateLimitSettings | None = None) -> FastAPI:
    app = create_service_app("jobs", "1.0.0", ServiceSettings(), configure_logging=False)
    install_auth(app, auth_settings)
    install_rate_limiting(app, limits or RateLimitSettings(default_limit=None))

    @app.post("/runs", dependencies=[Depends(require_service("scheduler"))])
    async def start_run() -> dict[str, bool]:
        return {"ok": True}

    @app.post("/reports", dependencies=[Depends(require_service())])
    async def report() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/scoped", dependencies=[Depends(require_scope("jobs:run"))])
    async def scoped() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/mine", dependencies=[Depends(require_user)])
    async def mine() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/either")
    async def either(who: CurrentUser) -> dict[str, str]:
        return {"kind": who.principal_type.value}

    return app


async def test_routes_choose_users_services_or_both(
    auth_settings: AuthSettings, auth_headers: Headers
) -> None:
    scheduler = _service(auth_headers, "scheduler")
    executor = _service(auth_headers, "executor", "jobs:report")
    user = auth_headers(role="operator", permissions=["jobs:run"])
    viewer = auth_headers(role="viewer")
    async with app_client(_app(auth_settings)) as http:
        assert (await http.post("/runs", headers=scheduler)).status_code == 200
        assert (await http.post("/runs", headers=executor)).status_code == 403
        assert (await http.post("/runs", headers=user)).status_code == 403
        assert (await http.post("/reports", headers=executor)).status_code == 200
        assert (await http.get("/scoped", headers=scheduler)).status_code == 200
        assert (await http.get("/scoped", headers=executor)).status_code == 403
        assert (await http.get("/scoped", headers=user)).status_code == 200
        assert (await http.get("/scoped", headers=viewer)).status_code == 403
        assert (await http.get("/mine", headers=user)).status_code == 200
        assert (await http.get("/mine", headers=scheduler)).status_code == 403
        assert (await http.get("/either", headers=user)).json() == {"kind": "user"}
        assert (await http.get("/either", headers=scheduler)).json() == {"kind": "service"}
        document = (await http.get("/openapi.json")).json()
    assert "403" in document["paths"]["/runs"]["post"]["responses"]


async def test_the_log_context_names_the_principal_type(
    auth_settings: AuthSettings, auth_headers: Headers, captured_logs: CapturedLogs
) -> None:
    async with app_client(_app(auth_settings)) as http:
        await http.get("/either", headers=_service(auth_headers, "scheduler"))
        await http.get("/either", headers=auth_headers(role="viewer"))
    kinds = [line.get("principal_type") for line in captured_logs.events("request")]
    assert kinds == ["service", "user"]


async def test_a_service_has_one_budget_for_all_its_replicas(
    auth_settings: AuthSettings, auth_headers: Headers
) -> None:
    limits = RateLimitSettings(default_limit="2/minute", service_limits={"scheduler": "5/minute"})
    app = _app(auth_settings, limits)
    replica_a = _service(auth_headers, "scheduler")
    replica_b = _service(auth_headers, "scheduler")
    statuses = []
    async with (
        app_client(app, client=("10.0.0.1", 1000)) as one,
        app_client(app, client=("10.0.0.2", 1000), lifespan=False) as two,
    ):
        for index in range(6):
            http, headers = (one, replica_a) if index % 2 == 0 else (two, replica_b)
            statuses.append((await http.get("/either", headers=headers)).status_code)
        user = auth_headers(role="operator", sub="someone")
        users = [(await one.get("/either", headers=user)).status_code for _ in range(3)]
        other = _service(auth_headers, "executor", "jobs:report")
        others = [(await two.get("/either", headers=other)).status_code for _ in range(3)]
    assert statuses == [200] * 5 + [429]
    assert users == [200, 200, 429]
    assert others == [200, 200, 429]  # no limit of its own: the default
