"""Captured logs: the JSON lines the logging pipeline writes, parsed, for assertions.

    with capture_json_logs() as logs:
        client.get("/targets")
    assert logs.events("request")[0]["status"] == 200

The lines go through the whole pipeline a service runs in production (masking, the request
context, the JSON renderer), so a test sees exactly what would reach the log collector. For a
unit test of one logger call without the pipeline, structlog's own
`structlog.testing.capture_logs` returns the event dictionaries before any processor runs.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from typing import Any

from .. import setup_service_logging

__all__ = [
    "CapturedLogs",
    "DEFAULT_TEST_SERVICE",
    "capture_json_logs",
]

DEFAULT_TEST_SERVICE = "test-service"


class CapturedLogs:
    """The JSON lines written by the logging pipeline, parsed (see the module docstring)."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def lines(self) -> list[dict[str, Any]]:
        """Every line so far, parsed, oldest first."""
        # Split on newlines only: a JSON line may hold U+2028 and the like, which
        # `str.splitlines` would split on too.
        lines = self.stream.getvalue().split("\n")
        return [json.loads(line) for line in lines if line.strip()]

    def events(self, event: str) -> list[dict[str, Any]]:
        """The lines whose `event` is `event`."""
        return [line for line in self.lines if line.get("event") == event]

    def text(self) -> str:
        """Everything written so far, as written."""
        return self.stream.getvalue()

    def clear(self) -> None:
        """Forget the lines so far."""
        self.stream.seek(0)
        self.stream.truncate()


@contextlib.contextmanager
def capture_json_logs(
    service: str = DEFAULT_TEST_SERVICE,
    *,
    level: str | int = "DEBUG",
    restore_level: str | int = "INFO",
) -> Iterator[CapturedLogs]:
    """Configure the service logging pipeline to write JSON lines into a `CapturedLogs`.

    Args:
        service: the `service` field of every line.
        level: the minimum level captured.
        restore_level: the level of the pipeline afterwards, which writes to standard output
            again.
    """
    captured = CapturedLogs()
    setup_service_logging(service, level=level, json=True, stream=captured.stream)
    try:
        yield captured
    finally:
        setup_service_logging(service, level=restore_level, json=True)
