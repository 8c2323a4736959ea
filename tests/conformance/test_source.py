"""Sources: files (JSON, YAML), http(s) URLs (a real loopback server and MockTransport), module:app."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import yaml
from opsconductor_conformance import SourceError, load_source

from .conftest import CLI, OPENAPI_FIXTURES

COMPLIANT = yaml.safe_load((OPENAPI_FIXTURES / "compliant.yaml").read_text())


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/openapi.json":
            body = json.dumps(COMPLIANT).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_error(404)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base signature
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def test_json_and_yaml_files_load_alike(tmp_path: Path) -> None:
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(COMPLIANT))
    assert load_source(str(path)).document == COMPLIANT
    source = load_source(str(OPENAPI_FIXTURES / "compliant.yaml"))
    assert source.document == COMPLIANT
    assert source.name == "targets-service"


def test_url_of_a_running_service(cli: CLI, server: str) -> None:
    run = cli("validate", f"{server}/openapi.json", "--format", "json")
    assert run.code == 0, run.err
    assert run.json()["summary"]["services"][0]["location"] == f"{server}/openapi.json"


def test_url_not_found(cli: CLI, server: str) -> None:
    run = cli("validate", f"{server}/nope.json")
    assert run.code == 2
    assert "HTTP 404" in run.err


def test_url_connection_refused(cli: CLI) -> None:
    run = cli("validate", "http://127.0.0.1:9/openapi.json", "--timeout", "2")
    assert run.code == 2
    assert "cannot fetch" in run.err


def test_url_timeout_and_non_json_through_mock_transport() -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(SourceError, match=r"timed out after 0\.5 s"):
        load_source("http://svc/openapi.json", timeout=0.5, transport=httpx.MockTransport(timeout))

    def html(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html><body>login</body>")

    with pytest.raises(SourceError, match="not an OpenAPI"):
        load_source("http://svc/openapi.json", transport=httpx.MockTransport(html))


APP_MODULE = """
from fastapi import FastAPI
app = FastAPI(title="imported-service")

@app.get("/things")
def things() -> list[int]:
    return []

def create_app() -> FastAPI:
    return app

broken = object()
"""


@pytest.fixture
def app_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    name = "contracts_test_app_module"
    (tmp_path / f"{name}.py").write_text(APP_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def test_module_app(cli: CLI, app_module: str) -> None:
    run = cli("validate", f"{app_module}:app", "--format", "json")
    assert run.code == 1
    rules = {f["rule"] for f in run.json()["findings"]}
    assert "pagination" in rules
    assert run.json()["summary"]["services"][0]["service"] == "imported-service"


def test_module_factory(cli: CLI, app_module: str) -> None:
    assert cli("validate", f"{app_module}:create_app").code == 1


def test_module_attribute_without_openapi(cli: CLI, app_module: str) -> None:
    run = cli("validate", f"{app_module}:broken")
    assert run.code == 2
    assert "has no openapi() method" in run.err


def test_module_missing_attribute(cli: CLI, app_module: str) -> None:
    run = cli("validate", f"{app_module}:nothing")
    assert run.code == 2
    assert "AttributeError" in run.err
