"""RequestIDMiddleware: honour valid ids, replace invalid ones, trace context."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from opsconductor_shared import TraceContext, parse_traceparent
from opsconductor_shared.testing import CapturedLogs

from tests.shared.apps import make_app

HEX32 = re.compile(r"^[0-9a-f]{32}$")


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
