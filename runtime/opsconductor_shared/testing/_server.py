"""Running an app under test: in-process with `app_client`, or on a real uvicorn with `LiveServer`.

    async with app_client(app) as client:            # httpx, in this event loop, lifespan on
        await client.get("/health/live")

    with LiveServer(app) as server:                  # real sockets, in a background thread
        httpx.get(server.url + "/health/live")

`LiveServer` binds its socket before the server starts (port 0: the OS picks a free port), so
there is no race for the port; the server runs in its own thread with its own event loop and
the app's lifespan, and stops within `shutdown_timeout` seconds even with requests hanging.
`closed_port()` and `closed_port_url()` name a loopback port where nothing listens, for "service down" tests. uvicorn
(the `server` extra) is imported only when a `LiveServer` is made.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import httpx

from ._wait import wait_until

if TYPE_CHECKING:
    import uvicorn

__all__ = [
    "DEFAULT_START_TIMEOUT",
    "LiveServer",
    "app_client",
    "closed_port",
    "closed_port_url",
]

DEFAULT_START_TIMEOUT = 30.0


@contextlib.asynccontextmanager
async def app_client(
    app: Any,
    *,
    base_url: str = "http://testserver",
    client: tuple[str, int] = ("127.0.0.1", 50000),
    lifespan: bool = True,
) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client that calls `app` in this event loop, with the app's lifespan running.

    Args:
        app: the ASGI app (a FastAPI app for the lifespan).
        base_url: the URL the client sends to.
        client: the client address the app sees.
        lifespan: run the app's lifespan (startup hooks, the auth verifier, pools) around it.
    """
    transport = httpx.ASGITransport(app=app, client=client)
    async with contextlib.AsyncExitStack() as stack:
        if lifespan:
            await stack.enter_async_context(app.router.lifespan_context(app))
        http = await stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url=base_url)
        )
        yield http


def _import_uvicorn() -> Any:
    try:
        import uvicorn  # noqa: PLC0415 - optional: the `server` extra
    except ImportError as exc:
        raise ImportError(
            'LiveServer needs uvicorn: pip install "opsconductor-shared[server]"'
        ) from exc
    return uvicorn


class LiveServer:
    """A uvicorn server for `app` on 127.0.0.1, started and stopped by a context manager.

    Args:
        app: the ASGI app.
        lifespan: uvicorn's lifespan mode (`on`, `off`, `auto`).
        shutdown_timeout: seconds that in-flight requests get at shutdown.
        **config: more `uvicorn.Config` options.

    Raises:
        ImportError: uvicorn is not installed (the `server` extra).
    """

    def __init__(
        self, app: Any, *, lifespan: str = "on", shutdown_timeout: float = 1.0, **config: Any
    ) -> None:
        server_module = _import_uvicorn()
        self.app = app
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self.config: uvicorn.Config = server_module.Config(
            app,
            lifespan=lifespan,
            log_config=None,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=shutdown_timeout,
            **config,
        )
        self.server: uvicorn.Server = server_module.Server(self.config)
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

    def start(self, timeout: float = DEFAULT_START_TIMEOUT) -> None:
        """Start the server and wait until it accepts connections.

        Raises:
            RuntimeError: the server stopped, or did not start within `timeout` seconds.
        """
        self._thread.start()

        def started() -> bool:
            if not self._thread.is_alive():
                raise RuntimeError(f"the live server on port {self.port} stopped while starting")
            return bool(self.server.started)

        try:
            wait_until(started, timeout=timeout, interval=0.005)
        except TimeoutError as exc:
            self.stop()
            raise RuntimeError(
                f"the live server on port {self.port} did not start within {timeout:g} s"
            ) from exc

    def stop(self) -> None:
        """Ask the server to exit, and wait for its thread."""
        self.server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        self._socket.close()

    def call_soon(self, callback: Callable[..., object], *args: Any) -> None:
        """Run `callback(*args)` on the server's event loop.

        Raises:
            RuntimeError: the server is not running.
        """
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


def closed_port() -> int:
    """A loopback TCP port that nothing listens on (connections are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def closed_port_url() -> str:
    """A loopback URL where nothing listens (connections are refused)."""
    return f"http://127.0.0.1:{closed_port()}"
