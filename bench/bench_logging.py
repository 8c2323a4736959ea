"""Logging cost per event: the runtime's pipeline (masking, context, orjson) against
structlog's plain JSON renderer writing the same event to the same sink."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import structlog
from opsconductor_shared import get_logger, setup_service_logging
from opsconductor_shared._context import bind_request_context, new_request_id

from bench.common import Row, interleaved_medians, row, sync_per_call_us

FIELDS = {
    "method": "GET",
    "route": "/targets/{target_id}",
    "path": "/targets/42",
    "status": 200,
    "duration_ms": 1.234,
    "bytes": 512,
    "client": "198.51.100.4",
    "slow": False,
}
SECRET_FIELDS = {
    "dsn": "postgresql://ops:hunter2@db/ops",
    "headers": {"authorization": "Bearer abc.def.ghi"},
    "note": "retrying with password=hunter2",
}


def _plain_structlog(sink: io.StringIO) -> structlog.BoundLogger:
    return structlog.wrap_logger(
        structlog.PrintLogger(sink),
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.JSONRenderer(),
        ],
    )


def run(quick: bool) -> list[Row]:
    repeat, rounds = (3_000, 3) if quick else (20_000, 7)
    devnull = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the benchmark
    setup_service_logging("bench-service", json=True, stream=devnull)
    bind_request_context(new_request_id(), None)
    ours = get_logger("bench.logging")
    access = get_logger("opsconductor.access")
    plain = _plain_structlog(devnull)  # type: ignore[arg-type]
    medians = interleaved_medians(
        rounds,
        {
            "plain": lambda: sync_per_call_us(lambda: plain.info("request", **FIELDS), repeat),
            "ours": lambda: sync_per_call_us(lambda: ours.info("request", **FIELDS), repeat),
            "access": lambda: sync_per_call_us(lambda: access.info("request", **FIELDS), repeat),
            "secrets": lambda: sync_per_call_us(
                lambda: ours.info("request", **FIELDS, **SECRET_FIELDS), repeat
            ),
            "plain_secrets": lambda: sync_per_call_us(
                lambda: plain.info("request", **FIELDS, **SECRET_FIELDS), repeat
            ),
        },
    )
    setup_service_logging("bench-service", json=True)
    plain_name = "structlog JSONRenderer (contextvars, level, timestamp), no masking"
    return [
        row(
            "logging",
            "event cost: runtime logger vs plain structlog JSON",
            baseline=plain_name,
            contender="runtime pipeline (masking, service, logger, orjson)",
            baseline_value=medians["plain"],
            contender_value=medians["ours"],
            unit="µs/event",
            notes="8-field access-style event",
        ),
        row(
            "logging",
            "event cost: access log vs plain structlog JSON",
            baseline=plain_name,
            contender="runtime access log (the one pipeline, its cached logger)",
            baseline_value=medians["plain"],
            contender_value=medians["access"],
            unit="µs/event",
        ),
        row(
            "logging",
            "event cost with secrets to mask vs plain structlog JSON",
            baseline=plain_name + ", same event",
            contender="runtime pipeline masking 3 secrets",
            baseline_value=medians["plain_secrets"],
            contender_value=medians["secrets"],
            unit="µs/event",
        ),
    ]


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
