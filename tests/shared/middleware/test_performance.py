"""PerformanceMiddleware: Server-Timing, client address through trusted proxies, metrics."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from opsconductor_shared.testing import CapturedLogs

from tests.shared.apps import make_app


def test_server_timing_header() -> None:
    response = TestClient(make_app()).get("/items/1")
    assert re.match(r"^app;dur=\d+\.\d{2}$", response.headers["server-timing"])


def test_unmatched_routes_are_not_high_cardinality(captured_logs: CapturedLogs) -> None:
    TestClient(make_app()).get("/random/7f3a")
    (line,) = captured_logs.events("request")
    assert line["route"] == "<unmatched>"
    assert line["status"] == 404


def test_forwarded_for_is_believed_only_from_trusted_proxies(captured_logs: CapturedLogs) -> None:
    spoofed = {"X-Forwarded-For": "6.6.6.6"}
    TestClient(make_app(), client=("203.0.113.9", 5000)).get("/items/1", headers=spoofed)
    trusted = make_app(trusted_proxies=["10.0.0.0/8"])
    TestClient(trusted, client=("10.1.2.3", 5000)).get(
        "/items/1", headers={"X-Forwarded-For": "6.6.6.6, 198.51.100.4, 10.9.9.9"}
    )
    untrusted_peer, via_proxy = captured_logs.events("request")
    assert untrusted_peer["client"] == "203.0.113.9"
    assert via_proxy["client"] == "198.51.100.4"


def test_prometheus_metrics_by_route_template() -> None:
    client = TestClient(make_app(metrics_enabled=True))
    client.get("/items/1")
    client.get("/items/2")
    text = client.get("/metrics").text
    assert (
        'http_requests_total{method="GET",route="/items/{item_id}",service="test-service",status="200"} 1.0'
        in text
    )
    assert (
        'http_requests_total{method="GET",route="/items/{item_id}",service="test-service",status="404"} 1.0'
        in text
    )
    assert "http_request_duration_seconds_bucket" in text
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]


def test_no_metrics_route_unless_enabled() -> None:
    assert TestClient(make_app()).get("/metrics").status_code == 404
