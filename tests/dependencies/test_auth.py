"""The targets service (local verification) started while the auth service is not: live at
once, not ready (naming `auth-keys` and why), requests that need a user 503 with
Retry-After; once the auth service starts, the keys are fetched in the background, the
service is ready by itself and a user's write succeeds."""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx
import pytest
from opsconductor_shared.testing import wait_until

from examples.launcher import auth_service, free_port, targets_service
from tests.dependencies.conftest import (
    RS256_TOKENS,
    TARGET,
    assert_no_traceback,
    check_of,
    events,
    readiness,
)

pytestmark = [pytest.mark.slow, pytest.mark.integration]
PASSWORDS = {user: secrets.token_urlsafe(12) for user in ("admin", "operator", "viewer")}


def test_starts_without_the_auth_service_and_is_ready_once_it_runs(tmp_path: Path) -> None:
    auth = auth_service(port=free_port(), workdir=tmp_path, passwords=PASSWORDS)
    extra = {"TARGETS_SERVICE_AUTH__JWKS_REFRESH_INTERVAL": "2"}  # retries every 2 s at most
    service = targets_service(port=free_port(), auth_url=auth.url, workdir=tmp_path, extra=extra)
    service.start()
    try:
        assert httpx.get(f"{service.url}/health/live", timeout=5).status_code == 200
        status, report = readiness(service)
        assert status == 503
        message = check_of(report, "auth-keys")["message"]
        assert message.startswith("auth-keys unreachable for "), message
        assert str(auth.port) not in message
        assert "127.0.0.1" not in message
        refused = httpx.get(
            f"{service.url}/targets", headers={"Authorization": "Bearer x.y.z"}, timeout=10
        )
        assert refused.status_code in {401, 503}, refused.text

        auth.start()
        wait_until(lambda: readiness(service)[0] == 200, timeout=30, message="never ready")
        login = httpx.post(
            f"{auth.url}/auth/login",
            json={"username": "operator", "password": PASSWORDS["operator"]},
            timeout=10,
        )
        token = login.json()["access_token"]
        created = httpx.post(
            f"{service.url}/targets",
            json={"name": "after-auth", **TARGET},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert created.status_code == 201, created.text
    finally:
        service.stop()
        auth.stop()
    assert len(events(service, "dependency_down", dependency="auth-keys")) == 1
    assert len(events(service, "dependency_up", dependency="auth-keys")) == 1
    assert_no_traceback(service)


def test_a_token_it_cannot_check_yet_is_503_with_retry_after(tmp_path: Path) -> None:
    auth = auth_service(port=free_port(), workdir=tmp_path, passwords=PASSWORDS)
    service = targets_service(port=free_port(), auth_url=auth.url, workdir=tmp_path).start()
    try:
        # A well-formed RS256 token with a kid: only the auth service's keys can decide it.
        token = RS256_TOKENS.issue("operator")
        refused = httpx.get(
            f"{service.url}/targets", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        assert refused.status_code == 503, refused.text
        assert refused.json()["code"] == "SERVICE_UNAVAILABLE"
        assert int(refused.headers["retry-after"]) >= 1
    finally:
        service.stop()
