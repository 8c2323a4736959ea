"""The pytest plugin's fixtures on a tiny app, as a service's tests use them, and the plugin
enabled the documented way in a project of its own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from opsconductor_contracts import Identity
from opsconductor_shared import ServiceSettings, create_service_app
from opsconductor_shared.auth import AuthSettings, CurrentUser, install_auth, require_role
from opsconductor_shared.testing import CapturedLogs, FakeAuthService, KeySet, TokenFactory

Headers = Callable[..., dict[str, str]]


@pytest.fixture
def app(auth_settings: AuthSettings) -> FastAPI:
    app = create_service_app("jobs", "1.0.0", ServiceSettings(), configure_logging=False)
    install_auth(app, auth_settings)

    @app.get("/me")
    async def me(user: CurrentUser) -> Identity:
        return user

    @app.post("/jobs")
    async def run(
        user: Annotated[Identity, Depends(require_role("operator"))],
    ) -> dict[str, str]:
        return {"by": user.user_id}

    return app


def test_auth_headers_reach_the_route(api_client: TestClient, auth_headers: Headers) -> None:
    me = api_client.get("/me", headers=auth_headers("viewer", sub="12", permissions=["a:b"]))
    assert me.status_code == 200
    assert (me.json()["user_id"], me.json()["role"], me.json()["permissions"]) == (
        "12",
        "viewer",
        ["a:b"],
    )
    assert api_client.post("/jobs", headers=auth_headers("viewer")).status_code == 403
    assert api_client.post("/jobs", headers=auth_headers("operator")).json() == {"by": "1"}
    assert api_client.get("/me").status_code == 401


def test_expired_tokens_of_the_fixture_are_refused(
    api_client: TestClient, auth_headers: Headers
) -> None:
    response = api_client.get("/me", headers=auth_headers(ttl=-3600))
    assert response.status_code == 401
    assert response.json()["detail"] == "The access token has expired."


def test_the_fixtures_share_one_key_set(
    auth_keys: KeySet, auth_tokens: TokenFactory, auth_settings: AuthSettings
) -> None:
    assert auth_tokens.keys is auth_keys
    assert auth_tokens.algorithm == "HS256"
    assert auth_settings.hs256_secret is not None
    assert auth_settings.hs256_secret.get_secret_value() == auth_keys.hs256_secret


def test_captured_logs_see_the_request(
    api_client: TestClient, auth_headers: Headers, captured_logs: CapturedLogs
) -> None:
    api_client.get("/me", headers=auth_headers())
    (line,) = captured_logs.events("request")
    assert (line["path"], line["status"], line["user_id"]) == ("/me", 200, "1")


def test_fake_auth_is_reset_for_every_test_a(fake_auth: FakeAuthService) -> None:
    fake_auth.mode = "fail"
    fake_auth.rotate("leftover")
    fake_auth.calls["verify"] += 1


def test_fake_auth_is_reset_for_every_test_b(fake_auth: FakeAuthService) -> None:
    assert (fake_auth.mode, fake_auth.published, fake_auth.calls) == ("ok", ["test-key-1"], {})


PROJECT_CONFTEST = """
pytest_plugins = ["opsconductor_shared.testing.plugin"]

import pytest
from opsconductor_shared import ServiceSettings, create_service_app
from opsconductor_shared.auth import CurrentUser, install_auth


@pytest.fixture
def app(auth_settings):
    app = create_service_app("jobs", "1.0.0", ServiceSettings(), configure_logging=False)
    install_auth(app, auth_settings)

    @app.get("/whoami")
    async def whoami(user: CurrentUser) -> dict:
        return {"role": user.role.value}

    return app
"""

PROJECT_TEST = """
def test_admin(api_client, auth_headers):
    assert api_client.get("/whoami", headers=auth_headers("admin")).json() == {"role": "admin"}


def test_anonymous(api_client):
    assert api_client.get("/whoami").status_code == 401


def test_logs_whichever_fixture_comes_first(api_client, auth_headers, captured_logs):
    api_client.get("/whoami", headers=auth_headers())
    assert [line["path"] for line in captured_logs.events("request")] == ["/whoami"]
"""


def test_a_project_enables_the_plugin_as_documented(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(PROJECT_CONFTEST)
    pytester.makepyfile(test_service=PROJECT_TEST)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(passed=3)
