"""Real uvicorn servers on loopback for tests: `LiveServer(app)` in a background thread.

    with LiveServer(app) as server:
        httpx.get(server.url + "/health/live")

The socket is bound before the server starts (port 0: the OS picks a free port), so there
is no race for the port; the server runs in its own thread with its own event loop, with
the app's lifespan, and stops within `shutdown_timeout` seconds even with requests hanging.
`closed_port()` gives a loopback URL where nothing listens, for "service down" tests.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from types import TracebackType
from typing import Any, Self

import uvicorn

__all__ = ["LiveServer", "closed_port_url"]


class LiveServer:
    """A uvicorn server for `app` on 127.0.0.1, started and stopped by a context manager.

    Args:
        app: the ASGI app.
        lifespan: uvicorn's lifespan mode (`on`, `off`, `auto`).
        shutdown_timeout: seconds that in-flight requests get at shutdown.
        **config: more `uvicorn.Config` options.
    """

    def __init__(
        self, app: Any, *, lifespan: str = "on", shutdown_timeout: float = 1.0, **config: Any
    ) -> None:
        self.app = app
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self.config = uvicorn.Config(
            app,
            lifespan=lifespan,
            log_config=None,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=shutdown_timeout,
            **config,
        )
        self.server = uvicorn.Server(self.config)
        self._thread = threading.Thread(
            target=self._run, name=f"live-server-{self.port}", daemon=True
        )
        self.loop: asyncio.AbstractEventLoop | None = None

    @property
    def url(self) -> str:
        """The base URL, such as `http://127.0.0.1:54321`."""
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        async def serve() -> None:
            self.loop = asyncio.get_running_loop()
            await self.server.serve(sockets=[self._socket])

        asyncio.run(serve())

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the live server on port {self.port} did not start")
            time.sleep(0.005)

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    def call_soon(self, callback: Any, *args: Any) -> None:
        """Run `callback(*args)` on the server's event loop."""
        if self.loop is None:
            raise RuntimeError("the server is not running")
        self.loop.call_soon_threadsafe(callback, *args)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def closed_port_url() -> str:
    """A loopback URL where nothing listens (connections are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
