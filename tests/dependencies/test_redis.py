"""The targets service started while its Redis (rate limits) is not running: live at once;
failing closed it is not ready and refuses writes with 503 + Retry-After, failing open it is
ready but degraded and serves them; either way it recovers by itself once redis-server
starts, and the outage is one log line when it begins and one when it ends, however many
requests probed the store meanwhile (issue 13: it was one ERROR line per probe)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from opsconductor_shared.testing import wait_until

from examples.launcher import ServiceProcess, free_port, targets_service
from tests.dependencies.conftest import (
    HS256_AUTH,
    RedisServer,
    assert_no_traceback,
    check_of,
    create_target,
    events,
    readiness,
)

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def _targets(workdir: Path, redis: RedisServer, policy: str) -> ServiceProcess:
    extra = {
        **HS256_AUTH,
        "TARGETS_SERVICE_RATE_LIMIT__STORAGE": "redis",
        "TARGETS_SERVICE_RATE_LIMIT__REDIS__URL": redis.url,
        "TARGETS_SERVICE_RATE_LIMIT__FAILURE_POLICY": policy,
        "TARGETS_SERVICE_RATE_LIMIT__RETRY_INTERVAL": "0.2",
    }
    return targets_service(
        port=free_port(), auth_url=None, workdir=workdir, name=f"targets-{policy}", extra=extra
    )


def _outage_lines(service: ServiceProcess) -> list[tuple[str, str]]:
    return [
        (line["event"], line["level"])
        for event in ("dependency_down", "dependency_still_down", "dependency_up")
        for line in events(service, event, dependency="rate_limit_store")
    ]


def test_fail_closed_starts_not_ready_and_recovers_when_redis_starts(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    service = _targets(tmp_path, redis_server, "closed").start()
    try:
        assert httpx.get(f"{service.url}/health/live", timeout=5).status_code == 200
        status, report = readiness(service)
        assert status == 503
        check = check_of(report, "rate_limit_store")
        assert check["status"] == "unhealthy"
        assert "Connection refused" in check["message"], check["message"]
        assert str(redis_server.port) not in check["message"]
        refused = create_target(service, "while-down")
        assert refused.status_code == 503, refused.text
        assert refused.json()["code"] == "SERVICE_UNAVAILABLE"
        assert "retry-after" in refused.headers

        redis_server.start()
        wait_until(lambda: readiness(service)[0] == 200, timeout=30, message="never ready")

        def written() -> bool:
            return create_target(service, "after-start").status_code == 201

        wait_until(written, timeout=15, message="writes still refused")
    finally:
        service.stop()
    assert _outage_lines(service) == [("dependency_down", "error"), ("dependency_up", "warning")]
    assert_no_traceback(service)


def test_fail_open_serves_writes_and_logs_the_outage_once(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    service = _targets(tmp_path, redis_server, "open").start()
    try:
        status, report = readiness(service)
        assert (status, report["status"]) == (200, "degraded")
        assert check_of(report, "rate_limit_store")["status"] == "unhealthy"
        # A second and more of writes: the store is probed every 0.2 s meanwhile.
        started, index = time.monotonic(), 0
        while time.monotonic() - started < 1.5:
            created = create_target(service, f"open-{index}")
            assert created.status_code == 201, created.text
            index += 1
        redis_server.start()
        wait_until(
            lambda: readiness(service)[1]["status"] == "healthy",
            timeout=30,
            message="never healthy",
        )
        wait_until(
            lambda: "ratelimit" in create_target(service, f"open-{time.monotonic()}").headers,
            timeout=15,
            message="limits never applied again",
        )
    finally:
        service.stop()
    assert _outage_lines(service) == [
        ("dependency_down", "warning"),
        ("dependency_up", "warning"),
    ]
    assert_no_traceback(service)
