"""StandardMiddleware: request id and trace context, timing and the access log, metrics, and
the last resort for exceptions (alone, and in an app made by the factory)."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
from fastapi.testclient import TestClient
from opsconductor_shared import TraceContext
from opsconductor_shared._context import parse_traceparent
from opsconductor_shared.middleware import StandardMiddleware
from opsconductor_shared.testing import CapturedLogs
from starlette.types import Message, Receive, Scope, Send

from tests.shared.apps import make_app

HEX32 = re.compile(r"^[0-9a-f]{32}$")

# -- the last resort, on its own --------------------------------------------------------


def _run(fail_after: int) -> list[Message]:
    """Messages sent by an app that raises after sending `fail_after` of its three messages."""
    plan: list[Message] = [
        {"type": "http.response.start", "status": 200, "headers": []},
        {"type": "http.response.body", "body": b"a", "more_body": True},
        {"type": "http.response.body", "body": b"b"},
    ]

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        for message in plan[:fail_after]:
            await send(message)
        raise RuntimeError("boom")

    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/x", "headers": [], "client": None}
    asyncio.run(StandardMiddleware(app, access_log=False)(scope, receive, send))
    return sent


def test_before_the_response_it_answers_500_in_the_envelope() -> None:
    start, body = _run(0)
    assert start["status"] == 500
    problem = json.loads(body["body"])
    assert problem["code"] == "INTERNAL_ERROR"
    headers = dict(start["headers"])
    assert headers[b"x-request-id"].decode() == problem["request_id"]
    assert headers[b"x-content-type-options"] == b"nosniff"


def test_a_started_but_incomplete_response_is_aborted() -> None:
    with pytest.raises(RuntimeError, match="boom"):
        _run(2)


def test_a_complete_response_is_left_as_it_is(captured_logs: CapturedLogs) -> None:
    sent = _run(3)
    assert [m["type"] for m in sent] == [
        "http.response.start",
        "http.response.body",
        "http.response.body",
    ]
    (event,) = captured_logs.events("unhandled_exception")
    assert event["response_started"] is True


# -- request id and trace context ----------------------------------------------------------


@pytest.fixture
def client() -> TestClient:
    return TestClient(make_app())


def test_generated_when_absent(client: TestClient) -> None:
    response = client.get("/slow")
    assert HEX32.match(response.headers["x-request-id"])
    assert response.json()["request_id"] == response.headers["x-request-id"]


@pytest.mark.parametrize("value", ["abc-123", "a" * 128, "svc:job.7_x"])
def test_valid_incoming_id_is_honoured(client: TestClient, value: str) -> None:
    assert client.get("/slow", headers={"X-Request-ID": value}).headers["x-request-id"] == value


@pytest.mark.parametrize("value", ["a" * 129, "has space", "<script>", "semi;colon", "new\tline"])
def test_invalid_incoming_id_is_replaced_not_echoed(client: TestClient, value: str) -> None:
    response = client.get("/slow", headers={"X-Request-ID": value})
    assert HEX32.match(response.headers["x-request-id"])
    assert value not in response.text


def test_untrusting_mode_ignores_incoming() -> None:
    client = TestClient(make_app(trust_incoming_request_id=False))
    assert client.get("/slow", headers={"X-Request-ID": "mine"}).headers["x-request-id"] != "mine"


def test_traceparent_is_continued() -> None:
    incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    assert parse_traceparent(incoming) == TraceContext(
        "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", "01"
    )
    child = TraceContext.start(parse_traceparent(incoming))
    assert child.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert child.parent_id == "00f067aa0ba902b7"
    assert child.span_id != "00f067aa0ba902b7"
    assert child.traceparent().startswith("00-4bf92f3577b34da6a3ce929d0e0e4736-")


@pytest.mark.parametrize(
    "value",
    [
        "",
        "garbage",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        "zz-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    ],
)
def test_invalid_traceparent_is_ignored(value: str) -> None:
    assert parse_traceparent(value) is None


def test_trace_id_reaches_the_logs(client: TestClient, captured_logs: CapturedLogs) -> None:
    client.get(
        "/slow", headers={"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
    )
    client.get("/slow", headers={"traceparent": "not-valid"})
    continued, fresh = captured_logs.events("request")
    assert continued["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert HEX32.match(fresh["trace_id"])
    assert fresh["trace_id"] != continued["trace_id"]


# -- timing, access log, metrics ----------------------------------------------------------


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
