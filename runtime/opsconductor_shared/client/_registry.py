"""One `ServiceClient` per upstream for the whole service, closed with the app.

`get_service_client("targets")` returns the process's client of the targets service, created
on first use from `TARGETS_SERVICE_URL` and the other `TARGETS_SERVICE_*` variables (or from
the settings passed on that first use). `install_service_clients(app)` closes every client
when the app shuts down; a later `get_service_client` opens a fresh one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from .._app import get_runtime
from ._client import ServiceClient
from ._settings import ServiceClientSettings

__all__ = [
    "ServiceClientRegistry",
    "default_registry",
    "get_service_client",
    "install_service_clients",
]


class ServiceClientRegistry:
    """The `ServiceClient`s of one process (or one app), by upstream name."""

    def __init__(self) -> None:
        self._clients: dict[str, ServiceClient] = {}

    def __repr__(self) -> str:
        return f"ServiceClientRegistry({sorted(self._clients)!r})"

    def __contains__(self, name: object) -> bool:
        return name in self._clients

    def get(self, name: str, *, settings: ServiceClientSettings | None = None) -> ServiceClient:
        """The client of upstream `name`, created on first use.

        Args:
            name: the upstream (`targets`, never `targets-service`).
            settings: its settings; default: `ServiceClientSettings.for_upstream(name)`.
                Used only when the client is created.

        Raises:
            ValueError: the upstream is not configured (the message names the variable).
        """
        client = self._clients.get(name)
        if client is None or client.is_closed:
            settings = settings or ServiceClientSettings.for_upstream(name)
            client = ServiceClient.from_settings(name, settings)
            self._clients[name] = client
        return client

    def add(self, client: ServiceClient) -> ServiceClient:
        """Register a client built by hand under its name, replacing any other.

        Raises:
            ValueError: an open client of that name is already registered.
        """
        current = self._clients.get(client.name)
        if current is not None and current is not client and not current.is_closed:
            raise ValueError(f"a client of the {client.name} service is already registered")
        self._clients[client.name] = client
        return client

    async def aclose(self) -> None:
        """Close and forget every client."""
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()

    @asynccontextmanager
    async def lifespan(self, _: FastAPI) -> AsyncIterator[None]:
        """A lifespan hook that closes every client at shutdown."""
        try:
            yield
        finally:
            await self.aclose()


_DEFAULT = ServiceClientRegistry()


def default_registry() -> ServiceClientRegistry:
    """The process's registry, used by `get_service_client`."""
    return _DEFAULT


def get_service_client(
    name: str, *, settings: ServiceClientSettings | None = None
) -> ServiceClient:
    """The process's `ServiceClient` of upstream `name` (see `ServiceClientRegistry.get`)."""
    return _DEFAULT.get(name, settings=settings)


def install_service_clients(
    app: FastAPI, registry: ServiceClientRegistry | None = None
) -> ServiceClientRegistry:
    """Close the clients of `registry` (default: the process's) when `app` shuts down.

    Raises:
        RuntimeError: the app was not made by `create_service_app`, or has started.
    """
    registry = registry or _DEFAULT
    get_runtime(app).add_lifespan_hook(registry.lifespan)
    app.state.service_clients = registry
    return registry
