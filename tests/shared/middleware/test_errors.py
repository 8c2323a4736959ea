"""UnhandledErrorMiddleware on its own, without StandardMiddleware's progress in the scope."""

from __future__ import annotations

import asyncio
import json

import pytest
from opsconductor_shared.middleware import (
    RESPONSE_PROGRESS_KEY,
    ResponseProgress,
    UnhandledErrorMiddleware,
)
from starlette.types import Message, Receive, Scope, Send


def _run(fail_after: int, scope_extra: dict[str, object] | None = None) -> list[Message]:
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

    scope = {"type": "http", "method": "GET", "path": "/x", "headers": [], **(scope_extra or {})}
    asyncio.run(UnhandledErrorMiddleware(app)(scope, receive, send))
    return sent


def test_before_the_response_it_answers_500_in_the_envelope() -> None:
    start, body = _run(0)
    assert start["status"] == 500
    assert json.loads(body["body"])["code"] == "INTERNAL_ERROR"


def test_a_started_but_incomplete_response_is_aborted() -> None:
    with pytest.raises(RuntimeError, match="boom"):
        _run(2)


def test_a_complete_response_is_left_as_it_is() -> None:
    sent = _run(3)
    assert [m["type"] for m in sent] == [
        "http.response.start",
        "http.response.body",
        "http.response.body",
    ]


def test_progress_kept_by_an_outer_layer_is_used() -> None:
    # The outer layer's record says the response already started, so no 500 may be sent.
    progress = ResponseProgress()
    progress.started = True
    with pytest.raises(RuntimeError, match="boom"):
        _run(0, {RESPONSE_PROGRESS_KEY: progress})
