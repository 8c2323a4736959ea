"""Structured logs: JSON lines with the request context, masking, stdlib routing."""

from __future__ import annotations

import io
import logging
import os
import re
import subprocess
import sys
import threading
from types import SimpleNamespace

import pytest
import structlog
from fastapi.testclient import TestClient
from opsconductor_shared import get_logger, setup_service_logging
from opsconductor_shared._logging import _Sink, log_database_operation, log_service_call
from opsconductor_shared.middleware import standard
from opsconductor_shared.testing import CapturedLogs

from tests.shared.apps import make_app

RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def test_every_line_has_the_standard_fields(captured_logs: CapturedLogs) -> None:
    get_logger("tests.logging").info("hello", answer=42)
    (line,) = captured_logs.lines
    assert line["event"] == "hello"
    assert line["answer"] == 42
    assert line["level"] == "info"
    assert line["service"] == "test-service"
    assert line["logger"] == "tests.logging"
    assert RFC3339_UTC.match(line["timestamp"])


def test_route_dependency_and_background_task_lines_carry_the_request_id(
    captured_logs: CapturedLogs,
) -> None:
    client = TestClient(make_app())
    response = client.get("/whoami", headers={"X-Request-ID": "req-abc-1"})
    assert response.json()["request_id"] == "req-abc-1"
    for event in ("dependency_ran", "route_ran", "background_ran", "request"):
        (line,) = captured_logs.events(event)
        assert line["request_id"] == "req-abc-1", event
        assert len(line["trace_id"]) == 32


def test_access_log_line(captured_logs: CapturedLogs) -> None:
    client = TestClient(make_app())
    client.get("/items/1")
    (line,) = captured_logs.events("request")
    assert line["method"] == "GET"
    assert line["route"] == "/items/{item_id}"
    assert line["path"] == "/items/1"
    assert line["status"] == 200
    assert line["bytes"] == len(b'{"id":1}')
    assert line["duration_ms"] >= 0
    assert line["client"] == "testclient"
    assert line["logger"] == "opsconductor.access"


def test_slow_requests_are_warnings(
    captured_logs: CapturedLogs, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The middleware's clock is the test's: a request takes exactly what the route says,
    # so a loaded machine cannot make the "fast" one slow (it once took over 20 ms there).
    now = [0.0]
    monkeypatch.setattr(standard, "time", SimpleNamespace(perf_counter=lambda: now[0]))
    app = make_app(slow_request_ms=20)

    @app.get("/takes", operation_id="takes")
    async def takes(ms: float) -> None:
        now[0] += ms / 1000

    client = TestClient(app)
    client.get("/takes", params={"ms": 20})
    client.get("/takes", params={"ms": 19.9})
    slow, fast = captured_logs.events("request")
    assert (slow["duration_ms"], fast["duration_ms"]) == pytest.approx((20, 19.9))
    assert (slow["level"], slow["slow"]) == ("warning", True)
    assert (fast["level"], fast["slow"]) == ("info", False)


def test_masking_applies_to_every_event(captured_logs: CapturedLogs) -> None:
    log = get_logger("tests.masking")
    log.info(
        "connecting",
        dsn="postgresql://ops:hunter2@db:5432/ops",
        headers={"Authorization": "Bearer abc.def"},
    )
    log.info("token is eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl now")
    text = captured_logs.stream.getvalue()
    assert "hunter2" not in text
    assert "abc.def" not in text
    assert "c2lnbmF0dXJl" not in text
    first, second = captured_logs.lines
    assert first["dsn"] == "[REDACTED]"
    assert first["headers"] == {"Authorization": "[REDACTED]"}
    assert second["event"] == "token is [REDACTED] now"


def test_stdlib_logging_goes_through_the_same_pipeline(captured_logs: CapturedLogs) -> None:
    logging.getLogger("uvicorn.error").warning("worker password=swordfish restarted")
    logging.getLogger("some.library").info("plain %s", "message")
    uvicorn_line, library_line = captured_logs.lines
    assert uvicorn_line["logger"] == "uvicorn.error"
    assert uvicorn_line["level"] == "warning"
    assert uvicorn_line["service"] == "test-service"
    assert "swordfish" not in uvicorn_line["event"]
    assert library_line["event"] == "plain message"
    assert RFC3339_UTC.match(library_line["timestamp"])


def test_uvicorn_access_log_is_silenced_in_favour_of_ours(captured_logs: CapturedLogs) -> None:
    logging.getLogger("uvicorn.access").info("GET / 200")
    assert captured_logs.lines == []


def test_level_filters_and_reconfiguration_reaches_cached_loggers() -> None:
    first, second = io.StringIO(), io.StringIO()
    setup_service_logging("svc", level="WARNING", stream=first)
    log = get_logger("tests.cached")
    log.info("dropped")
    log.warning("kept")
    setup_service_logging("svc2", level="DEBUG", stream=second)
    log.debug("after")
    assert [line for line in first.getvalue().splitlines() if line]
    assert "dropped" not in first.getvalue()
    assert '"event":"after"' in second.getvalue()
    assert '"service":"svc2"' in second.getvalue()
    setup_service_logging("test-service")


def test_console_format() -> None:
    stream = io.StringIO()
    setup_service_logging("svc", json=False, stream=stream)
    get_logger("tests.console").info("readable", key="value")
    output = stream.getvalue()
    assert "readable" in output
    assert "key=value" in output
    assert not output.startswith("{")
    setup_service_logging("test-service")


def test_unknown_level_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown log level"):
        setup_service_logging("svc", level="LOUD")


def test_service_call_and_database_events(captured_logs: CapturedLogs) -> None:
    structlog.contextvars.bind_contextvars(request_id="r-1")
    try:
        log_service_call(
            "targets", "GET", "/targets/{id}", status=200, duration_ms=12.3456, attempt=1
        )
        log_service_call("targets", "GET", "/targets/{id}", status=503, duration_ms=5, attempt=2)
        log_database_operation("select targets", duration_ms=3, rows=2)
        log_database_operation(
            "select everything", duration_ms=900, rows=10_000, slow_threshold_ms=500
        )
    finally:
        structlog.contextvars.clear_contextvars()
    ok, failed = captured_logs.events("service_call")
    assert (ok["level"], ok["upstream"], ok["status"], ok["duration_ms"], ok["request_id"]) == (
        "info",
        "targets",
        200,
        12.346,
        "r-1",
    )
    assert (failed["level"], failed["attempt"]) == ("warning", 2)
    fast, slow = captured_logs.events("database_operation")
    assert (fast["level"], fast["slow"], fast["rows"]) == ("info", False, 2)
    assert (slow["level"], slow["slow"]) == ("warning", True)


def test_the_access_line_goes_through_the_one_pipeline(captured_logs: CapturedLogs) -> None:
    # No side door: what replaces the pipeline's processors (structlog's capture_logs here)
    # sees the access line too, and the masking of the pipeline applies to it.
    client = TestClient(make_app())
    with structlog.testing.capture_logs() as captured:
        client.get("/items/1")
    (line,) = [entry for entry in captured if entry["event"] == "request"]
    assert (line["log_level"], line["status"], line["route"]) == ("info", 200, "/items/{item_id}")
    client.get("/no/password=hunter2")
    (line,) = captured_logs.events("request")
    assert line["path"] == "/no/password=[REDACTED]"
    assert "hunter2" not in captured_logs.stream.getvalue()


def test_uvicorn_skips_its_own_access_line() -> None:
    # uvicorn formats an access line whenever its access logger has a handler anywhere up
    # the chain; the runtime writes its own, so that logger has none. (A fresh interpreter:
    # pytest hangs capture handlers on loggers.)
    script = (
        "import logging; from opsconductor_shared import setup_service_logging; "
        "setup_service_logging('svc'); "
        "print(logging.getLogger('uvicorn.access').hasHandlers(), "
        "logging.getLogger('uvicorn.error').hasHandlers())"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "True"]


def test_a_line_larger_than_the_pipe_arrives_whole_through_a_non_blocking_descriptor() -> None:
    # os.write on a full non-blocking pipe writes part of the line, then refuses: the sink
    # waits and writes the rest, so the reader gets every byte, in order, once.
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    line = b"x" * 300_000 + b"-end"
    received = bytearray()

    def drain() -> None:
        while len(received) < len(line) + 1:
            received.extend(os.read(read_fd, 65536))

    reader = threading.Thread(target=drain)
    reader.start()
    sink = _Sink()
    with os.fdopen(write_fd, "wb", buffering=0) as stream:
        sink.use(stream)
        sink.write_line(line)
        reader.join(timeout=10)
    os.close(read_fd)
    assert bytes(received) == line + b"\n"
