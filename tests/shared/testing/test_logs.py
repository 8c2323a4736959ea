"""`capture_json_logs`: the lines the whole logging pipeline writes, masked, and nothing after."""

from __future__ import annotations

import logging

from opsconductor_shared import get_logger
from opsconductor_shared.testing import CapturedLogs, capture_json_logs


def test_lines_go_through_the_pipeline() -> None:
    with capture_json_logs("kit-service") as logs:
        get_logger("kit").info("job_started", job_id=3, password="hunter2")
        logging.getLogger("stdlib").warning("from the standard library")
    started, stdlib = logs.lines
    assert (started["event"], started["job_id"], started["service"]) == (
        "job_started",
        3,
        "kit-service",
    )
    assert started["password"] != "hunter2"  # masked, as in production
    assert "hunter2" not in logs.text()
    assert stdlib["event"] == "from the standard library"
    assert logs.events("job_started") == [started]


def test_level_clear_and_restore() -> None:
    with capture_json_logs(level="WARNING") as logs:
        get_logger("kit").info("too_quiet")
        get_logger("kit").warning("loud_enough")
        assert [line["event"] for line in logs.lines] == ["loud_enough"]
        logs.clear()
        assert logs.lines == []
    get_logger("kit").warning("after_the_block")
    assert logs.lines == []


def test_the_plugin_fixture(captured_logs: CapturedLogs) -> None:
    get_logger("kit").info("seen")
    assert [line["event"] for line in captured_logs.lines] == ["seen"]
