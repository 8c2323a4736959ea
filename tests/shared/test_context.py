"""The request context: ids, trace context and the log context every line carries."""

from __future__ import annotations

import asyncio
import contextvars
import json
import re

import pytest
import structlog
from opsconductor_shared import (
    REDACTED,
    TraceContext,
    bind_log_context,
    get_logger,
    get_request_id,
    get_trace_context,
)
from opsconductor_shared._context import (
    begin_request,
    bind_request_context,
    get_log_context,
    new_request_id,
    parse_traceparent,
)
from opsconductor_shared.testing import CapturedLogs

HEX32 = re.compile(r"^[0-9a-f]{32}$")
HEX16 = re.compile(r"^[0-9a-f]{16}$")


def _fresh(fn: object) -> contextvars.Context:
    context = contextvars.copy_context()
    context.run(fn)  # type: ignore[arg-type]
    return context


@pytest.mark.parametrize("repeat", range(50))
def test_generated_ids_are_well_formed(repeat: int) -> None:
    root = TraceContext.start()
    child = TraceContext.start(root)
    assert HEX32.match(root.trace_id)
    assert HEX16.match(root.span_id)
    assert child.trace_id == root.trace_id
    assert child.parent_id == root.span_id
    assert HEX16.match(child.span_id)
    assert child.span_id != root.span_id
    assert parse_traceparent(root.traceparent()) == TraceContext(root.trace_id, root.span_id)
    assert HEX32.match(new_request_id())


def test_begin_request_without_caller_starts_a_trace() -> None:
    def run() -> None:
        request_id = begin_request(None, None)
        trace = get_trace_context()
        assert trace is not None
        assert HEX32.match(request_id)
        assert get_request_id() == request_id
        assert HEX32.match(trace.trace_id)
        assert HEX16.match(trace.span_id)
        assert trace.parent_id is None
        assert trace.flags == "01"
        assert len({request_id, trace.trace_id}) == 2
        assert dict(get_log_context()) == {"request_id": request_id, "trace_id": trace.trace_id}

    _fresh(run)


def test_begin_request_continues_the_caller() -> None:
    caller = parse_traceparent("00-" + "ab" * 16 + "-" + "cd" * 8 + "-00")
    assert caller is not None

    def run() -> None:
        assert begin_request("given-id", caller) == "given-id"
        trace = get_trace_context()
        assert trace is not None
        assert trace.trace_id == caller.trace_id
        assert trace.parent_id == caller.span_id
        assert trace.flags == "00"
        assert trace.span_id != caller.span_id
        assert HEX16.match(trace.span_id)

    _fresh(run)


def test_outside_a_request_there_is_no_context() -> None:
    def run() -> None:
        assert get_request_id() is None
        assert get_trace_context() is None
        assert dict(get_log_context()) == {}

    contextvars.Context().run(run)


def test_bound_values_are_merged_and_the_event_wins() -> None:
    def run() -> None:
        bind_request_context("r-1", None)
        bind_log_context(user_id="u-1", tenant="t")
        event = structlog.contextvars.merge_contextvars(
            None, "info", {"event": "x", "tenant": "own"}
        )
        assert event == {"event": "x", "tenant": "own", "request_id": "r-1", "user_id": "u-1"}

    _fresh(run)


def test_a_new_request_drops_what_the_last_one_bound() -> None:
    def run() -> None:
        bind_request_context("r-1", None)
        bind_log_context(user_id="u-1")
        bind_request_context("r-2", None)
        assert dict(get_log_context()) == {"request_id": "r-2"}

    _fresh(run)


def test_the_log_context_cannot_be_changed_through_its_view() -> None:
    def run() -> None:
        bind_request_context("r-1", None)
        view = get_log_context()
        with pytest.raises(TypeError):
            view["user_id"] = "x"  # type: ignore[index]
        assert "user_id" not in get_log_context()

    _fresh(run)


@pytest.mark.anyio
async def test_a_child_task_binding_does_not_reach_its_parent_or_siblings() -> None:
    bind_request_context("parent", None)

    async def child(name: str) -> dict[str, object]:
        bind_log_context(user_id=name)
        await asyncio.sleep(0)
        return dict(get_log_context())

    first, second = await asyncio.gather(child("a"), child("b"))
    assert first["user_id"] == "a"
    assert second["user_id"] == "b"
    assert "user_id" not in get_log_context()
    assert get_request_id() == "parent"


def test_structlog_contextvars_are_merged_and_masked(captured_logs: CapturedLogs) -> None:
    def run() -> None:
        bind_request_context("r-1", None)
        structlog.contextvars.bind_contextvars(deployment="blue", api_token="t0k3n")
        try:
            get_logger("test").info("event-with-both")
        finally:
            structlog.contextvars.unbind_contextvars("deployment", "api_token")

    _fresh(run)
    (line,) = captured_logs.events("event-with-both")
    assert line["request_id"] == "r-1"
    assert line["deployment"] == "blue"
    assert line["api_token"] == REDACTED


def test_bound_values_are_masked_once_when_bound(captured_logs: CapturedLogs) -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"

    def run() -> None:
        begin_request(jwt, None)
        bind_log_context(session_id="s-1", note=f"Bearer {jwt}", user_id="u-1")
        assert dict(get_log_context())["session_id"] == REDACTED
        get_logger("test").info("masked-context")
        assert get_request_id() == jwt  # the id itself is kept for the response header

    _fresh(run)
    (line,) = captured_logs.events("masked-context")
    assert jwt not in json.dumps(line)
    assert line["session_id"] == REDACTED
    assert line["user_id"] == "u-1"
    assert line["note"] == f"Bearer {REDACTED}"
