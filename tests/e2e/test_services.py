"""End to end: both reference services as real uvicorn processes on loopback.

The walkthrough as assertions; the auth service stopped mid-test (remote verification fails
closed with 503, local verification keeps working on the keys it has) and back again; one
call chain's request id in both services' logs.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from opsconductor_shared.testing import wait_until

from examples.launcher import ServiceProcess, auth_service, free_port, targets_service
from tests.services import assert_envelope

pytestmark = [pytest.mark.slow, pytest.mark.integration]
PASSWORDS = {user: secrets.token_urlsafe(12) for user in ("admin", "operator", "viewer")}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("e2e")


@pytest.fixture(scope="module")
def auth(workdir: Path) -> Iterator[ServiceProcess]:
    service = auth_service(port=free_port(), workdir=workdir, passwords=PASSWORDS).start()
    yield service
    service.stop()


@pytest.fixture(scope="module")
def local_targets(auth: ServiceProcess, workdir: Path) -> Iterator[ServiceProcess]:
    service = targets_service(port=free_port(), auth_url=auth.url, workdir=workdir).start()
    yield service
    service.stop()


@pytest.fixture(scope="module")
def remote_targets(auth: ServiceProcess, workdir: Path) -> Iterator[ServiceProcess]:
    extra = {"TARGETS_SERVICE_AUTH__TIMEOUT": "1.0", "TARGETS_SERVICE_AUTH__CACHE_TTL": "0"}
    service = targets_service(
        port=free_port(),
        auth_url=auth.url,
        workdir=workdir,
        mode="remote",
        name="targets-remote",
        extra=extra,
    ).start()
    yield service
    service.stop()


def _token(auth: ServiceProcess, user: str) -> str:
    response = httpx.post(
        f"{auth.url}/auth/login", json={"username": user, "password": PASSWORDS[user]}
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_walkthrough(auth: ServiceProcess, local_targets: ServiceProcess) -> None:
    operator = _bearer(_token(auth, "operator"))
    url = local_targets.url
    for name in ("e2e-web-01", "e2e-web-02", "e2e-db-01"):
        created = httpx.post(
            f"{url}/targets",
            headers=operator,
            json={"name": name, "hostname": f"{name}.example.com", "os_type": "linux"},
        )
        assert created.status_code == 201, created.text
    page = httpx.get(
        f"{url}/targets", headers=operator, params={"per_page": 2, "search": "e2e", "sort": "name"}
    ).json()
    assert [t["name"] for t in page["items"]] == ["e2e-db-01", "e2e-web-01"]
    rest = httpx.get(
        f"{url}/targets",
        headers=operator,
        params={
            "per_page": 2,
            "search": "e2e",
            "sort": "name",
            "page_token": page["pagination"]["next_page_token"],
        },
    ).json()
    assert [t["name"] for t in rest["items"]] == ["e2e-web-02"]
    assert_envelope(httpx.get(f"{url}/targets/987654", headers=operator), 404, "NOT_FOUND")
    invalid = assert_envelope(
        httpx.post(
            f"{url}/targets",
            headers=operator,
            json={"name": "x", "hostname": "x", "os_type": "plan9"},
        ),
        422,
        "VALIDATION_ERROR",
    )
    assert invalid["errors"][0]["pointer"] == "/body/os_type"
    viewer = _bearer(_token(auth, "viewer"))
    assert_envelope(
        httpx.post(
            f"{url}/targets",
            headers=viewer,
            json={"name": "v", "hostname": "v.example.com", "os_type": "linux"},
        ),
        403,
        "FORBIDDEN",
    )
    health = httpx.get(f"{url}/health").json()
    assert health["status"] == "healthy"
    assert [c["name"] for c in health["checks"]] == ["auth-keys"]
    assert "server" not in httpx.get(f"{url}/health/live").headers


def test_request_id_follows_the_call_chain(
    auth: ServiceProcess, remote_targets: ServiceProcess
) -> None:
    token = _token(auth, "viewer")
    request_id = f"e2e-chain-{secrets.token_hex(6)}"
    response = httpx.get(
        f"{remote_targets.url}/targets", headers={**_bearer(token), "X-Request-ID": request_id}
    )
    assert response.status_code == 200
    assert response.headers["x-request-id"] == request_id

    def lines_with(service: ServiceProcess) -> list[dict[str, Any]]:
        return [
            json.loads(line)
            for line in service.log_lines()
            if request_id in line and line.startswith("{") and line.endswith("}")
        ]

    def access_line(lines: list[dict[str, Any]], path: str) -> bool:
        return any(line["event"] == "request" and line["path"] == path for line in lines)

    # A service writes its access line after the response is sent: poll for it, bounded.
    def both_logged() -> tuple[list[dict[str, Any]], list[dict[str, Any]]] | None:
        targets_lines, auth_lines = lines_with(remote_targets), lines_with(auth)
        if access_line(targets_lines, "/targets") and access_line(auth_lines, "/auth/verify"):
            return targets_lines, auth_lines
        return None

    targets_lines, auth_lines = wait_until(
        both_logged, message="the access lines of the call chain never arrived"
    )
    assert any(
        line["event"] == "service_call" and line["upstream"] == "auth" for line in targets_lines
    )
    trace_ids = {line["trace_id"] for line in targets_lines + auth_lines}
    assert len(trace_ids) == 1  # one trace across both services


def test_auth_service_outage_and_recovery(
    auth: ServiceProcess, local_targets: ServiceProcess, remote_targets: ServiceProcess
) -> None:
    token = _bearer(_token(auth, "admin"))
    assert httpx.get(f"{local_targets.url}/targets", headers=token).status_code == 200
    assert httpx.get(f"{remote_targets.url}/targets", headers=token).status_code == 200
    auth.stop()
    try:
        down = httpx.get(f"{remote_targets.url}/targets", headers=token, timeout=10)
        assert_envelope(down, 503, "SERVICE_UNAVAILABLE")
        assert down.elapsed.total_seconds() < 5
        not_ready = httpx.get(f"{remote_targets.url}/health/ready")
        assert not_ready.status_code == 503
        assert httpx.get(f"{local_targets.url}/targets", headers=token).status_code == 200
        assert_envelope(
            httpx.get(f"{local_targets.url}/targets", headers=_bearer("not-a-token")),
            401,
            "UNAUTHORIZED",
        )
    finally:
        auth.start()
    assert httpx.get(f"{remote_targets.url}/targets", headers=token).status_code == 200
    assert httpx.get(f"{remote_targets.url}/health/ready").status_code == 200
