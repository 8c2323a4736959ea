"""`LiveServer`, `app_client`, `closed_port_url`, and what importing the kit costs the runtime."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from opsconductor_shared.testing import LiveServer, app_client, closed_port, closed_port_url


def _app() -> FastAPI:
    started: list[bool] = []

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:  # both helpers must run it
        started.append(True)
        yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"started": bool(started)}

    return app


@pytest.mark.integration
def test_live_server_serves_with_its_lifespan_and_stops() -> None:
    with LiveServer(_app()) as server:
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert httpx.get(f"{server.url}/ping").json() == {"started": True}
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/ping", timeout=2)


@pytest.mark.anyio
async def test_app_client_runs_the_lifespan() -> None:
    async with app_client(_app()) as client:
        assert (await client.get("/ping")).json() == {"started": True}
    async with app_client(_app(), lifespan=False) as client:
        assert (await client.get("/ping")).json() == {"started": False}


def test_closed_ports_refuse_connections() -> None:
    with pytest.raises(httpx.ConnectError):
        httpx.get(closed_port_url(), timeout=2)
    assert 0 < closed_port() < 65536


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)


def test_the_runtime_does_not_import_the_kit_pytest_or_uvicorn() -> None:
    result = _run(
        "import sys, opsconductor_shared\n"
        "print(sorted(m for m in ('opsconductor_shared.testing', 'pytest', 'uvicorn')"
        " if m in sys.modules))"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_kit_imports_without_uvicorn_until_a_live_server_is_made() -> None:
    result = _run(
        "import sys\n"
        "sys.modules['uvicorn'] = None\n"
        "import opsconductor_shared.testing as kit\n"
        "assert 'pytest' not in sys.modules\n"
        "kit.KeySet(); kit.wait_until(lambda: True)\n"
        "try:\n"
        "    kit.LiveServer(object())\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.strip()
        == 'LiveServer needs uvicorn: pip install "opsconductor-shared[server]"'
    )
