"""The log writer: lines off the caller's path, in batches, none lost on a clean stop, a full
buffer drops and counts and never blocks; and a service's access log written through it."""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from opsconductor_shared import ServiceSettings, create_service_app, setup_service_logging
from opsconductor_shared._log_writer import LineWriter
from opsconductor_shared._logging import flush_logs
from opsconductor_shared.testing import wait_until


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)
    yield read_fd, write_fd
    for fd in (read_fd, write_fd):
        with contextlib.suppress(OSError):
            os.close(fd)


def _read(fd: int) -> bytes:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 1 << 16)
        except BlockingIOError:
            return b"".join(chunks)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def test_lines_are_written_by_the_writer_thread_within_the_interval(
    pipe: tuple[int, int],
) -> None:
    read_fd, write_fd = pipe
    writer = LineWriter(write_fd, interval=0.02)
    received = bytearray()
    assert writer.write(b"one\n")
    assert writer.write(b"two\n")

    def arrived() -> bool:
        received.extend(_read(read_fd))
        return bytes(received) == b"one\ntwo\n"

    wait_until(arrived, message="the writer thread wrote the lines")
    writer.close()
    assert writer.dropped == 0


def test_the_caller_does_not_write_and_flush_writes_everything_now(
    pipe: tuple[int, int],
) -> None:
    read_fd, write_fd = pipe
    # An interval far longer than the test: only flush() can write these lines.
    writer = LineWriter(write_fd, interval=3600)
    for index in range(100):
        writer.write(b"line %d\n" % index)
    assert _read(read_fd) == b""
    writer.flush()
    assert _read(read_fd) == b"".join(b"line %d\n" % index for index in range(100))
    writer.close()


def test_a_full_batch_wakes_the_writer_before_the_interval(pipe: tuple[int, int]) -> None:
    read_fd, write_fd = pipe
    writer = LineWriter(write_fd, interval=3600, batch=10)
    for index in range(10):
        writer.write(b"%d\n" % index)
    received = bytearray()

    def arrived() -> bool:
        received.extend(_read(read_fd))
        return received.count(b"\n") == 10

    wait_until(arrived, message="a full batch was written without waiting for the interval")
    writer.close()


def test_no_line_is_lost_on_close(tmp_path: Path) -> None:
    path = tmp_path / "log"
    with path.open("wb") as stream:
        writer = LineWriter(stream.fileno(), interval=3600, batch=64)
        for index in range(5_000):
            assert writer.write(b"%d\n" % index)
        writer.close()
    assert path.read_bytes().split() == [b"%d" % index for index in range(5_000)]


def test_urgent_lines_are_written_at_once_after_the_waiting_ones(pipe: tuple[int, int]) -> None:
    read_fd, write_fd = pipe
    writer = LineWriter(write_fd, interval=3600)
    writer.write(b"info\n")
    writer.write(b"error\n", urgent=True)
    assert _read(read_fd) == b"info\nerror\n"
    writer.close()


def test_a_full_buffer_drops_and_counts_and_never_blocks() -> None:
    read_fd, write_fd = os.pipe()
    reports: list[int] = []
    writer = LineWriter(write_fd, max_lines=50, batch=10, interval=0.01, on_dropped=reports.append)
    # Nobody reads yet: the pipe fills up, the writer thread blocks in os.write, and the
    # buffer fills. Writing must go on, dropping lines, without ever waiting.
    line = b"x" * 1000 + b"\n"
    results: list[bool] = []

    def produce() -> None:
        results.extend(writer.write(line) for _ in range(2_000))

    producer = threading.Thread(target=produce)
    producer.start()
    producer.join(timeout=30)
    assert not producer.is_alive(), "write() blocked on a full buffer"
    dropped = results.count(False)
    assert dropped > 0
    assert writer.dropped == dropped
    # The reader comes back: what was kept arrives whole, and the drops are reported.
    received = bytearray()

    def consume() -> None:
        while chunk := os.read(read_fd, 1 << 16):
            received.extend(chunk)

    consumer = threading.Thread(target=consume)
    consumer.start()
    wait_until(lambda: reports, message="the drops were reported once there was room")
    writer.close()
    os.close(write_fd)
    consumer.join(timeout=30)
    os.close(read_fd)
    assert sum(reports) == dropped
    assert received.count(line) == results.count(True)
    assert len(received) == len(line) * results.count(True)


def test_a_service_access_log_goes_through_the_writer_and_nothing_is_lost_on_shutdown(
    tmp_path: Path,
) -> None:
    path = tmp_path / "service.log"
    with path.open("w") as stream:
        app = create_service_app("logged", "1.0.0", ServiceSettings(), configure_logging=False)
        setup_service_logging("logged", stream=stream, buffered=True)
        try:

            @app.get("/items/{item_id}")
            async def item(item_id: int) -> dict[str, int]:
                return {"id": item_id}

            with TestClient(app) as client:
                ids = [client.get(f"/items/{index}").headers["x-request-id"] for index in range(20)]
            # The lifespan's shutdown flushed: every line is in the file now.
            lines = [json.loads(line) for line in path.read_text().splitlines()]
        finally:
            setup_service_logging("test-service")
            flush_logs()
    requests = [line for line in lines if line["event"] == "request"]
    assert [line["request_id"] for line in requests] == ids
    assert lines[-1]["event"] == "service_stopping"
