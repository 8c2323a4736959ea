"""One crash boundary (issue 14): a defect is exit 3 with one line, never a traceback or exit 1.

Exit 1 means findings and 2 unreadable input or bad usage, so CI can tell a failed check from a
broken input and from a broken tool. Options are validated, URL downloads have a total deadline,
and `$ref`s that dangle or leave the document are reported wherever they sit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opsconductor_conformance import validate as validate_module

from tests.conftest import ROOT

from .conftest import CLI, OPENAPI_FIXTURES

SYNTHETIC = ROOT / "tests" / "fixtures" / "real" / "synthetic"
COMPLIANT = OPENAPI_FIXTURES / "compliant.yaml"


def test_an_unexpected_exception_is_exit_3_with_one_line(
    cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise KeyError("/definitions/error")

    monkeypatch.setattr(validate_module, "check_document", broken)
    run = cli("validate", COMPLIANT)
    assert run.code == 3, run.err
    assert run.out == ""
    assert run.err.count("\n") == 1, run.err
    assert "Traceback" not in run.err
    assert "KeyError" in run.err
    assert "please report" in run.err


@pytest.mark.parametrize("value", ["nan", "-1", "0", "inf", "-inf", "soon"])
def test_timeout_must_be_a_positive_finite_number(cli: CLI, value: str) -> None:
    run = cli("validate", COMPLIANT, f"--timeout={value}")
    assert run.code == 2, run.err
    assert run.err.count("\n") == 1, run.err
    assert "--timeout" in run.err
    assert "positive" in run.err


@pytest.mark.parametrize(
    "name",
    [
        "dangling-ref-property-named-default.yaml",
        "dangling-ref-property-named-example.yaml",
        "dangling-ref-property-named-enum.yaml",
        "dangling-ref-property-named-const.yaml",
        "dangling-ref-under-response-default.yaml",
    ],
)
def test_a_dangling_ref_under_a_keyword_name_is_unreadable_input(cli: CLI, name: str) -> None:
    run = cli("validate", SYNTHETIC / name)
    assert run.code == 2, run.err
    assert "does not resolve" in run.err
    assert "Traceback" not in run.err


def test_an_external_ref_under_a_keyword_name_is_reported(cli: CLI) -> None:
    run = cli("validate", SYNTHETIC / "external-ref-property-named-keywords.yaml")
    assert run.code == 2, run.err
    assert "Traceback" not in run.err
    assert "$ref" in run.err


def test_refs_inside_keyword_values_are_data(cli: CLI) -> None:
    run = cli("validate", SYNTHETIC / "ref-in-keyword-values.yaml", "--format", "json")
    assert run.code in (0, 1), run.err
    assert run.json()["findings"]


class _Trickle(BaseHTTPRequestHandler):
    """Sends headers, then one byte every 0.5 s, for ever (each read succeeds in time)."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        try:
            while not self.server.stopping.is_set():  # type: ignore[attr-defined]
                self.wfile.write(b" ")
                self.wfile.flush()
                self.server.stopping.wait(0.5)  # type: ignore[attr-defined]
        except (OSError, BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base signature
        pass


@pytest.fixture
def trickle() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Trickle)
    httpd.stopping = threading.Event()  # type: ignore[attr-defined]
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/openapi.json"
    httpd.stopping.set()  # type: ignore[attr-defined]
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def test_a_url_has_a_total_deadline(cli: CLI, trickle: str) -> None:
    started = time.perf_counter()
    run = cli("validate", trickle, "--timeout", "2")
    elapsed = time.perf_counter() - started
    assert run.code == 2, run.err
    assert "2 s" in run.err
    assert elapsed < 8, elapsed


def test_refs_that_only_reach_each_other_through_one_member_combinators_are_circular(
    cli: CLI,
) -> None:
    run = cli("validate", SYNTHETIC / "one-member-combinator-cycle.yaml")
    assert run.code == 2, run.err
    assert "circular $ref" in run.err
    assert "never reaches a schema" in run.err
