"""Fixtures for runtime tests: a small app built with the runtime, and captured JSON logs."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from opsconductor_shared import setup_service_logging


class CapturedLogs:
    """The JSON lines written by the logging pipeline, parsed."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines() if line.strip()]

    def events(self, event: str) -> list[dict[str, Any]]:
        return [line for line in self.lines if line.get("event") == event]

    def clear(self) -> None:
        self.stream.seek(0)
        self.stream.truncate()


@pytest.fixture
def logs() -> Iterator[CapturedLogs]:
    captured = CapturedLogs()
    setup_service_logging("test-service", level="DEBUG", json=True, stream=captured.stream)
    yield captured
    setup_service_logging("test-service", level="INFO", json=True)
