"""Auth outages: every 503 the verifier answers (JWKS or auth service unreachable, broken or
too slow) carries `Retry-After`, in both verification modes."""

from __future__ import annotations

import pytest
from opsconductor_shared.auth import AuthSettings
from opsconductor_shared.testing import FakeAuthService, app_client, closed_port_url

from .conftest import bearer, issue, local_settings, protected_app, remote_settings

pytestmark = [pytest.mark.anyio, pytest.mark.integration]


def _assert_retry_after(response: object) -> None:
    assert response.status_code == 503, response.text  # type: ignore[attr-defined]
    assert response.json()["code"] == "SERVICE_UNAVAILABLE"  # type: ignore[attr-defined]
    assert int(response.headers["retry-after"]) >= 1  # type: ignore[attr-defined]


async def test_no_jwks_is_a_503_with_retry_after(fake_auth: FakeAuthService) -> None:
    settings = AuthSettings(jwks_url=f"{closed_port_url()}/.well-known/jwks.json", timeout=0.5)
    async with app_client(protected_app(settings)) as client:
        _assert_retry_after(await client.get("/me", headers=bearer(issue(fake_auth))))


async def test_an_unknown_kid_while_the_jwks_fails_is_a_503_with_retry_after(
    fake_auth: FakeAuthService,
) -> None:
    async with app_client(protected_app(local_settings(fake_auth))) as client:
        verifier = client._transport.app.state.token_verifier  # type: ignore[attr-defined]
        fake_auth.jwks_mode = "fail"
        assert not await verifier.keys.refresh()
        fake_auth.keys.add("k2")  # a key the JWKS never published
        _assert_retry_after(await client.get("/me", headers=bearer(issue(fake_auth, kid="k2"))))


@pytest.mark.parametrize("mode", ["fail", "garbage", "hang"])
async def test_a_failing_auth_service_is_a_503_with_retry_after(
    fake_auth: FakeAuthService, mode: str
) -> None:
    fake_auth.hang_seconds = 5.0
    async with app_client(protected_app(remote_settings(fake_auth, timeout=0.5))) as client:
        token = issue(fake_auth)
        fake_auth.mode = mode
        _assert_retry_after(await client.get("/me", headers=bearer(token)))


async def test_an_unreachable_auth_service_is_a_503_with_retry_after(
    fake_auth: FakeAuthService,
) -> None:
    settings = remote_settings(fake_auth, verify_url=f"{closed_port_url()}/auth/verify")
    async with app_client(protected_app(settings)) as client:
        _assert_retry_after(await client.get("/me", headers=bearer(issue(fake_auth))))
