"""A live fake upstream on loopback, shared by the client tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opsconductor_shared.testing import LiveServer

from .upstream import FakeUpstream


@pytest.fixture(scope="session")
def upstream_server() -> Iterator[tuple[FakeUpstream, LiveServer]]:
    fake = FakeUpstream()
    with LiveServer(fake.app, lifespan="off") as server:
        yield fake, server


@pytest.fixture
def upstream(upstream_server: tuple[FakeUpstream, LiveServer]) -> FakeUpstream:
    fake, server = upstream_server
    fake.reset()
    fake.url = server.url  # type: ignore[attr-defined]
    return fake
