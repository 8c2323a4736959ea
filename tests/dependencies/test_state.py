"""`DependencyState`: one log line per change of an outage, never a traceback, reminders at
most every N seconds; `describe_error`: nothing of where a server is or how to log in."""

from __future__ import annotations

import psycopg
import pytest
from hypothesis import given
from hypothesis import strategies as st
from opsconductor_shared._health import DependencyState, HealthCheckError, describe_error
from structlog.testing import capture_logs


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_outage_is_one_line_down_reminders_and_one_line_up() -> None:
    clock = Clock()
    state = DependencyState("redis", effect="admitted unlimited", still_down_every=10, clock=clock)
    with capture_logs() as logs:
        state.succeeded()  # first contact: nothing to say
        for _ in range(50):  # fifty failures within 5 s: one line
            state.failed(ConnectionError("Error 111 connecting to 127.0.0.1:6390."))
            clock.now += 0.1
        clock.now += 6
        state.failed(ConnectionError("refused"))  # 11 s into the outage: a reminder
        state.failed(ConnectionError("refused"))
        state.succeeded()
        state.succeeded()
    assert [(log["event"], log["log_level"]) for log in logs] == [
        ("dependency_down", "warning"),
        ("dependency_still_down", "warning"),
        ("dependency_up", "warning"),
    ]
    down, still, up = logs
    assert down["error"] == "ConnectionError: Error 111 connecting to <address>."
    assert down["effect"] == "admitted unlimited"
    assert (still["failures"], still["down_for_s"]) == (51, 11.0)
    assert up["failures"] == 52
    assert not any("exc_info" in log for log in logs)


def test_readiness_says_the_last_error_while_down() -> None:
    clock = Clock()
    state = DependencyState("database", clock=clock)
    state.raise_if_down()  # unknown: not down
    state.failed(
        psycopg.OperationalError(
            'connection failed: connection to server at "10.1.2.3", port 5432 failed: '
            'FATAL:  database "targets" does not exist'
        )
    )
    clock.now += 3
    with pytest.raises(HealthCheckError) as raised:
        state.raise_if_down()
    assert str(raised.value) == (
        'database unreachable for 3 s: OperationalError: FATAL: database "targets" does not exist'
    )
    state.succeeded()
    state.raise_if_down()


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ("GET https://svc:pw@auth.internal:8443/jwks failed", "GET <url> failed"),
        ("host=db.internal port=5432 password=hunter2 user=ops", "host=<hidden> port=5432 password=<hidden> user=<hidden>"),
        ("cannot reach [::1]:6379 or db.example.com:5432", "cannot reach <address> or <address>"),
        (TimeoutError(), "TimeoutError: no message"),
    ],
)  # fmt: skip
def test_describe_error_hides_addresses_and_credentials(
    error: BaseException | str, expected: str
) -> None:
    assert describe_error(error) == expected


@given(st.text(max_size=500))
def test_describe_error_is_one_short_line(text: str) -> None:
    described = describe_error(RuntimeError(text))
    assert "\n" not in described
    assert len(described) <= 200
