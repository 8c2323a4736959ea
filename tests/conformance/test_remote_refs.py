"""`http(s)` `$ref`s (issue 14): refused unless `--allow-remote-refs`, then fetched within the
same bounds (count, size) and one deadline for them all; relative refs inside a fetched
document are relative to its URL."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from opsconductor_conformance import bundle, load_source

from .conftest import CLI

ROOT = """\
openapi: 3.0.3
info: {{title: remote, version: 1.0.0}}
paths:
  /things:
    get:
      operationId: list_things
      responses:
        '200':
          description: things
          content:
            application/json:
              schema: {{$ref: '{base}/schemas/things.yaml#/ThingList'}}
"""
FILES = {
    "/schemas/things.yaml": b"ThingList:\n  type: object\n  properties:\n"
    b"    things: {type: array, items: {$ref: 'thing.yaml'}}\n    total: {type: integer}\n",
    "/schemas/thing.yaml": b"type: object\nproperties:\n  name: {type: string}\n",
}


class _Server(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/slow.yaml":  # a byte every 0.5 s, for ever
            self.send_response(200)
            self.end_headers()
            while not self.server.stopping.wait(0.5):  # type: ignore[attr-defined]
                try:
                    self.wfile.write(b" ")
                    self.wfile.flush()
                except OSError:
                    return
            return
        body = FILES.get(self.path)
        self.server.seen.append(self.path)  # type: ignore[attr-defined]
        self.send_response(200 if body else 404)
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base signature
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, list[str]]]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Server)
    httpd.stopping = threading.Event()  # type: ignore[attr-defined]
    httpd.seen = []  # type: ignore[attr-defined]
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", httpd.seen  # type: ignore[attr-defined]
    httpd.stopping.set()  # type: ignore[attr-defined]
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def _root(tmp_path: Path, base: str, path: str = "/schemas/things.yaml#/ThingList") -> Path:
    root = tmp_path / "openapi.yaml"
    text = ROOT.format(base=base).replace("/schemas/things.yaml#/ThingList", path)
    root.write_text(text)
    return root


def test_remote_refs_are_refused_by_default_naming_the_flag(
    cli: CLI, tmp_path: Path, server: tuple[str, list[str]]
) -> None:
    base, seen = server
    run = cli("validate", _root(tmp_path, base))
    assert run.code == 2, run.err
    assert "--allow-remote-refs" in run.err
    assert seen == []  # nothing was fetched


def test_allowed_remote_refs_are_fetched_and_bundled(
    cli: CLI, tmp_path: Path, server: tuple[str, list[str]]
) -> None:
    base, seen = server
    root = _root(tmp_path, base)
    document = load_source(str(root), allow_remote_refs=True).document
    assert set(document[bundle.BUNDLE_KEY]) == {
        f"{base}/schemas/things.yaml",
        f"{base}/schemas/thing.yaml",  # relative to the fetched document's URL
    }
    run = cli("validate", root, "--allow-remote-refs", "--format", "json")
    assert run.code == 1, run.err
    assert "pagination" in {f["rule"] for f in run.json()["findings"]}
    assert sorted(set(seen)) == sorted(FILES)


def test_a_missing_remote_file_is_exit_2(
    cli: CLI, tmp_path: Path, server: tuple[str, list[str]]
) -> None:
    base, _ = server
    run = cli("validate", _root(tmp_path, base, "/gone.yaml"), "--allow-remote-refs")
    assert run.code == 2, run.err
    assert "404" in run.err


def test_remote_refs_share_one_deadline(
    cli: CLI, tmp_path: Path, server: tuple[str, list[str]]
) -> None:
    base, _ = server
    started = time.perf_counter()
    run = cli(
        "validate", _root(tmp_path, base, "/slow.yaml"), "--allow-remote-refs", "--timeout", "2"
    )
    elapsed = time.perf_counter() - started
    assert run.code == 2, run.err
    assert "2 s" in run.err
    assert elapsed < 10, elapsed


def test_remote_refs_count_against_the_file_bound(
    cli: CLI, tmp_path: Path, server: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, _ = server
    monkeypatch.setattr(bundle, "MAX_FILES", 1)
    run = cli("validate", _root(tmp_path, base), "--allow-remote-refs")
    assert run.code == 2, run.err
    assert "more than 1 files" in run.err
