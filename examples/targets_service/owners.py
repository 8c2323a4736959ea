"""Who created a target: the targets service asking the auth service, as itself.

`GET /targets/{target_id}/owner` (in `app`) answers the `UserSummary` of the user who created
the target. The targets service gets it from the auth service's admin lookup
(`GET /auth/users/{user_id}`, which admits only the `targets-service` service account with the
`users:read` scope), calling with its **own** identity: a `ServiceClient` with
`ServiceCredentials`, so the call carries a client-credentials token, fetched once per expiry
and shared by every concurrent request (single flight), never the user's token.

Settings (`TargetsSettings.auth_client`, a `ServiceClientSettings`):

    TARGETS_SERVICE_AUTH_CLIENT__URL=http://auth:8000
    TARGETS_SERVICE_AUTH_CLIENT__CREDENTIALS__TOKEN_URL=http://auth:8000/auth/token
    TARGETS_SERVICE_AUTH_CLIENT__CREDENTIALS__CLIENT_ID=targets-service
    TARGETS_SERVICE_AUTH_CLIENT__CREDENTIALS__CLIENT_SECRET=...

Fails closed: while the auth service cannot be reached (no token can be had, the lookup
cannot connect, or its circuit is open) the route answers 503 in the envelope, never a 401
and never a guess; without `auth_client` configured it is a 503 too, saying so.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI
from opsconductor_contracts import UserSummary
from opsconductor_shared import (
    NotFoundError,
    ServiceCommunicationError,
    ServiceUnavailableError,
    get_logger,
    get_runtime,
)
from opsconductor_shared.client import ServiceClient, ServiceClientSettings

from .models import Target

__all__ = ["AUTH_UPSTREAM", "OwnerLookup"]

AUTH_UPSTREAM = "auth"
_log = get_logger("targets_service.owners")


class OwnerLookup:
    """The owner of a target, from the auth service (see the module docstring).

    Args:
        app: the targets app; its lifespan closes the client.
        settings: the auth service's client settings with the service's `credentials`;
            None: not configured (every lookup is a 503).
        client_options: `ServiceClient` keyword arguments over the settings (tests pass a
            `transport`).

    Raises:
        ValueError: the settings carry no `credentials` (the lookup admits the service's own
            identity only, never a user's).
    """

    def __init__(
        self, app: FastAPI, settings: ServiceClientSettings | None, **client_options: Any
    ) -> None:
        self.client: ServiceClient | None = None
        if settings is None:
            return
        if settings.credentials is None:
            raise ValueError(
                "TARGETS_SERVICE_AUTH_CLIENT__CREDENTIALS__TOKEN_URL, __CLIENT_ID and "
                "__CLIENT_SECRET are required with TARGETS_SERVICE_AUTH_CLIENT__URL: the auth "
                "service's user lookup admits the targets service's own identity only"
            )
        # The lookup goes out as the targets service, whatever the settings say about
        # forwarding: the caller's token never reaches the auth service's user lookup.
        self.client = ServiceClient.from_settings(
            AUTH_UPSTREAM, settings, **{**client_options, "forward_authorization": False}
        )
        get_runtime(app).add_lifespan_hook(self._lifespan)

    @asynccontextmanager
    async def _lifespan(self, _: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if self.client is not None:
                await self.client.aclose()

    async def owner_of(self, target: Target) -> UserSummary:
        """The `UserSummary` of the user who created `target`.

        Raises:
            ServiceUnavailableError: not configured, or the auth service cannot be reached.
            NotFoundError: the target has no creator, or the auth service does not know it.
            ServiceCommunicationError: the auth service failed or refused this service.
        """
        if self.client is None:
            raise ServiceUnavailableError(
                "The owner lookup is not configured on this service.",
                metadata={"reason": "auth_client_not_configured"},
            )
        if target.created_by is None:
            raise NotFoundError(detail=f"Target {target.id} has no recorded owner.")
        path = f"/auth/users/{quote(target.created_by, safe='')}"
        try:
            owner = await self.client.get(path, response_model=UserSummary)
        except ServiceCommunicationError as exc:
            if exc.upstream_status == 404:
                raise NotFoundError(
                    detail=f"The owner of target {target.id} is not a known user."
                ) from exc
            raise
        _log.info("target_owner", target_id=target.id, owner=owner.user_id)
        return owner
