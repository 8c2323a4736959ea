"""The launcher owns its port before the service starts: a port another process took since
it was chosen is a clear error at once, never a health check answered by a stranger."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from examples.launcher import bind_port, targets_service


def test_a_taken_port_fails_at_once_saying_so(tmp_path: Path) -> None:
    with socket.socket() as stranger:
        stranger.bind(("127.0.0.1", 0))
        stranger.listen()
        port = stranger.getsockname()[1]
        service = targets_service(port=port, auth_url=None, workdir=tmp_path)
        with pytest.raises(RuntimeError, match=f"port {port} on 127.0.0.1 is taken"):
            service.start()
        assert service.process is None  # nothing was launched


def test_port_zero_binds_a_free_port() -> None:
    with bind_port(0) as sock:
        assert sock.getsockname()[1] > 0
