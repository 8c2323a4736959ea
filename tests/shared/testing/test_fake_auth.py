"""The testing kit's fake auth service over real HTTP: the contracts it speaks, its verdicts,
key rotation, call counting and every failure mode."""

from __future__ import annotations

import time

import httpx
import pytest
from opsconductor_contracts import JsonWebKeySet, VerifyResponse
from opsconductor_shared.testing import DEFAULT_KID, FAKE_AUTH_MODES, FakeAuthService

pytestmark = pytest.mark.integration


def _verify(fake: FakeAuthService, token: str, timeout: float = 10.0) -> httpx.Response:
    return httpx.post(f"{fake.url}/auth/verify", json={"token": token}, timeout=timeout)


def test_jwks_is_the_contract_and_follows_rotation(fake_auth: FakeAuthService) -> None:
    document = JsonWebKeySet.model_validate(
        httpx.get(f"{fake_auth.url}/.well-known/jwks.json").json()
    )
    assert [key.kid for key in document.keys] == [DEFAULT_KID]
    fake_auth.rotate("rotated")
    rotated = httpx.get(f"{fake_auth.url}/.well-known/jwks.json").json()
    assert [key["kid"] for key in rotated["keys"]] == [DEFAULT_KID, "rotated"]
    fake_auth.rotate("alone", keep_old=False)
    assert [key["kid"] for key in fake_auth.jwks()["keys"]] == ["alone"]
    assert fake_auth.calls["jwks"] == 2


def test_verdicts(fake_auth: FakeAuthService) -> None:
    good = VerifyResponse.model_validate(_verify(fake_auth, fake_auth.issue(sub="5")).json())
    assert good.valid
    assert good.identity is not None
    assert good.identity.user_id == "5"
    fake_auth.current_versions["5"] = 1
    cases = {
        "revoked": fake_auth.issue(sub="5", token_version=0),
        "expired": fake_auth.issue(ttl=-3600),
        "wrong_type": fake_auth.issue(type="refresh"),
        "invalid_signature": fake_auth.issue()[:-8] + "AAAAAAAA",
        "malformed": fake_auth.issue(role="superuser", validate=False),
    }
    for reason, token in cases.items():
        verdict = VerifyResponse.model_validate(_verify(fake_auth, token).json())
        assert (verdict.valid, verdict.reason, verdict.identity) == (False, reason, None), reason
    assert fake_auth.calls["verify"] == 1 + len(cases)
    assert httpx.post(f"{fake_auth.url}/auth/verify", json={}).status_code == 422


@pytest.mark.parametrize(
    ("mode", "status", "body"),
    [("fail", 500, {"detail": "boom"}), ("garbage", 200, {"unexpected": True})],
)
def test_failing_modes(fake_auth: FakeAuthService, mode: str, status: int, body: object) -> None:
    fake_auth.mode = mode
    response = _verify(fake_auth, fake_auth.issue())
    assert (response.status_code, response.json()) == (status, body)
    assert httpx.get(f"{fake_auth.url}/health/live").status_code == status
    fake_auth.jwks_mode = mode
    assert httpx.get(f"{fake_auth.url}/.well-known/jwks.json").status_code == status


def test_html_hang_and_other_subject(fake_auth: FakeAuthService) -> None:
    fake_auth.mode = "html"
    response = _verify(fake_auth, fake_auth.issue())
    assert response.headers["content-type"].startswith("text/html")
    fake_auth.mode = "other_subject"
    verdict = VerifyResponse.model_validate(_verify(fake_auth, fake_auth.issue(sub="3")).json())
    assert verdict.identity is not None
    assert verdict.identity.user_id == "someone-else"
    fake_auth.mode = "hang"
    fake_auth.hang_seconds = 5.0
    start = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        _verify(fake_auth, fake_auth.issue(), timeout=0.3)
    assert time.monotonic() - start < fake_auth.hang_seconds


def test_reset_and_mode_checks(fake_auth: FakeAuthService) -> None:
    fake_auth.rotate("other", keep_old=False)
    fake_auth.mode = "fail"
    httpx.get(f"{fake_auth.url}/health/live")
    fake_auth.reset()
    assert (fake_auth.published, fake_auth.signing_kid, fake_auth.mode) == (
        [DEFAULT_KID],
        DEFAULT_KID,
        "ok",
    )
    assert fake_auth.calls == {}
    with pytest.raises(ValueError, match="unknown fake auth mode 'down'"):
        fake_auth.mode = "down"
    with pytest.raises(ValueError, match="unknown fake auth mode"):
        fake_auth.jwks_mode = "slow"
    assert "hang" in FAKE_AUTH_MODES


def test_settings_need_it_served() -> None:
    fake = FakeAuthService()
    with pytest.raises(RuntimeError, match=r"fake\.serve"):
        fake.local_settings()
    with fake.serve() as server:
        assert fake.url == server.url
        assert str(fake.local_settings().jwks_url) == f"{server.url}/.well-known/jwks.json"
        assert str(fake.remote_settings(timeout=3).verify_url) == f"{server.url}/auth/verify"
        assert httpx.get(f"{server.url}/health/live").json() == {"status": "ok"}
    assert fake.url is None
