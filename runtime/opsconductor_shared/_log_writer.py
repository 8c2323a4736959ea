"""`LineWriter`: log lines written to a file descriptor off the request path.

A request that logs a line (the access log's, above all) only appends the rendered bytes to
a bounded in-memory buffer, under a lock held for the append; a writer thread of its own
writes what gathered in one `os.write` every `interval` seconds, or as soon as `batch` lines
are waiting. So a request never waits for a system call, and a thousand lines cost one.

- **Bounded, never blocking.** At most `max_lines` lines wait; a line that finds the buffer
  full is dropped and counted (`dropped`), and the writer reports the count in a
  `log_lines_dropped` warning as soon as there is room again.
- **Urgent lines go at once.** `write(..., urgent=True)` (errors) writes everything waiting
  and the line itself on the caller's thread before returning, in order.
- **Nothing lost on a clean stop.** `flush()` writes everything waiting now; the runtime calls
  it when the app shuts down, and an `atexit` hook calls it when the interpreter exits. Lines
  still waiting when the process is killed outright (`SIGKILL`, `os._exit`) are lost: at most
  `interval` seconds of them.

A process that forks gets a new writer thread in the child on its first line.
"""

from __future__ import annotations

import os
import select
import threading
import weakref
from collections.abc import Callable

__all__ = [
    "DEFAULT_BATCH_LINES",
    "DEFAULT_FLUSH_INTERVAL",
    "DEFAULT_MAX_LINES",
    "LineWriter",
]

DEFAULT_MAX_LINES = 10_000
DEFAULT_BATCH_LINES = 256
DEFAULT_FLUSH_INTERVAL = 0.05


class LineWriter:
    """Writes lines to `fd` from a thread of its own (see the module docstring).

    Args:
        fd: the file descriptor lines go to.
        max_lines: lines kept waiting at most; more are dropped and counted.
        batch: lines that wake the writer before the interval is over.
        interval: seconds a line waits at most before it is written.
        on_dropped: called by the writer thread with the count of lines dropped since the
            last call, once there is room again (the logging pipeline logs a warning).

    Raises:
        ValueError: a bound or the interval is not positive.
    """

    def __init__(
        self,
        fd: int,
        *,
        max_lines: int = DEFAULT_MAX_LINES,
        batch: int = DEFAULT_BATCH_LINES,
        interval: float = DEFAULT_FLUSH_INTERVAL,
        on_dropped: Callable[[int], None] | None = None,
    ) -> None:
        if max_lines < 1 or batch < 1:
            raise ValueError("max_lines and batch must be at least 1")
        if interval <= 0:
            raise ValueError("interval must be positive")
        self.fd = fd
        self.max_lines = max_lines
        self.batch = min(batch, max_lines)
        self.interval = interval
        self.dropped = 0
        self._on_dropped = on_dropped
        self._reported = 0
        self._lines: list[bytes] = []
        # `_lock` guards the buffer and is only ever held for a list operation; `_writing`
        # keeps the writes of the thread and of `flush()` in order.
        self._lock = threading.Lock()
        self._writing = threading.Lock()
        self._waiting = threading.Condition(self._lock)
        self._full = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None
        ref = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: _after_fork(ref()))

    def __repr__(self) -> str:
        return (
            f"LineWriter(fd={self.fd}, waiting={len(self._lines)}, max_lines={self.max_lines}, "
            f"dropped={self.dropped})"
        )

    def write(self, line: bytes, *, urgent: bool = False) -> bool:
        """Queue `line` (with its newline); False when the buffer was full and it was dropped.

        With `urgent`, everything waiting and `line` are written before this returns.
        """
        if urgent or self._closed:
            with self._writing:
                with self._lock:
                    lines, self._lines = self._lines, []
                lines.append(line)
                _write_all(self.fd, b"".join(lines))
            return True
        with self._lock:
            waiting = len(self._lines)
            if waiting >= self.max_lines:
                self.dropped += 1
                return False
            self._lines.append(line)
            if self._thread is None:
                self._start()
            if waiting == 0:
                self._waiting.notify()
            elif waiting + 1 == self.batch:
                self._full.set()
        return True

    def flush(self) -> None:
        """Write every line waiting now, on the caller's thread."""
        with self._writing:
            with self._lock:
                lines, self._lines = self._lines, []
            if lines:
                _write_all(self.fd, b"".join(lines))
        self._report_drops()

    def close(self) -> None:
        """Flush, stop the writer thread; later lines are written at once."""
        with self._lock:
            self._closed = True
            self._waiting.notify()
        self._full.set()
        thread = self._thread
        if thread is not None and thread.is_alive() and thread is not threading.current_thread():
            thread.join(timeout=5)
        self.flush()

    def _forked(self) -> None:
        # In a child process: no writer thread, locks maybe held by a thread that is gone,
        # and the parent's waiting lines are the parent's to write.
        self._lock = threading.Lock()
        self._writing = threading.Lock()
        self._waiting = threading.Condition(self._lock)
        self._full = threading.Event()
        self._lines = []
        self._thread = None

    def _start(self) -> None:
        # Called with `_lock` held: the first line of this process.
        self._thread = threading.Thread(
            target=self._run, name="opsconductor-log-writer", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._lines and not self._closed:
                    self._waiting.wait()
                closed = self._closed
            if not closed:
                self._full.wait(self.interval)  # let a batch gather
                self._full.clear()
            try:
                self.flush()
            except OSError:  # the descriptor went away: nothing sensible is left to do
                return
            if closed:
                return

    def _report_drops(self) -> None:
        dropped = self.dropped - self._reported
        if dropped and self._on_dropped is not None:
            self._reported += dropped
            self._on_dropped(dropped)


def _after_fork(writer: LineWriter | None) -> None:
    if writer is not None:
        writer._forked()


def _write_all(fd: int, data: bytes) -> None:
    # A short write (a full pipe, a signal): the rest goes out, waiting while the descriptor
    # cannot take it (it may be non-blocking), so no line is ever cut.
    rest = memoryview(data)
    while rest:
        try:
            rest = rest[os.write(fd, rest) :]
        except BlockingIOError:
            select.select([], [fd], [])
