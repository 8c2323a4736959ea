"""A service's own identity on its calls: the OAuth 2.0 client credentials grant.

    scheduler = ServiceCredentials(
        token_url="http://auth:8000/auth/token", client_id="scheduler", client_secret=secret
    )
    jobs = ServiceClient("jobs", "http://jobs:8000", credentials=scheduler)

`ClientCredentialsTokens` gets an access token from the auth service (`POST token_url` with
`grant_type=client_credentials`, RFC 6749 section 4.4), keeps it, and gets the next one
`renew_before` seconds before it expires. Single flight: however many calls need a token at
once, one token request is made, and the others wait for its answer. A renewal that fails
while the current token is still valid keeps using it; without a valid token, the call fails
with `ServiceUnavailableError` (503), never a 401: an auth service that cannot be reached is
an outage, not a verdict on the caller. The secret is a `SecretStr`, and neither it nor a
token ever reaches a log line or an error message.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import httpx
from opsconductor_contracts import TokenResponse
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, SecretStr

from .._errors import ServiceUnavailableError
from .._logging import get_logger

__all__ = [
    "DEFAULT_RENEW_BEFORE",
    "ClientCredentialsTokens",
    "ServiceCredentials",
]

DEFAULT_RENEW_BEFORE = 30.0
DEFAULT_TOKEN_TIMEOUT = 5.0
_FORM = "application/x-www-form-urlencoded"
_UNAVAILABLE_DETAIL = "A service this one depends on is unavailable. Retry later."
_log = get_logger("opsconductor.client")


class ServiceCredentials(BaseModel):
    """A service account at the auth service: where to get tokens, and with what.

    Usable as a settings field (`JOBS_CLIENT__CREDENTIALS__CLIENT_SECRET=...`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    token_url: AnyHttpUrl = Field(description="The auth service's token endpoint.")
    client_id: str = Field(min_length=1, max_length=128, description="The service account.")
    client_secret: SecretStr = Field(min_length=1, description="Its secret; never logged.")
    scope: str | None = Field(None, max_length=2048, description="Scopes to ask for.")
    renew_before: float = Field(
        DEFAULT_RENEW_BEFORE, ge=0, description="Renew this many seconds before expiry."
    )
    timeout: float = Field(
        DEFAULT_TOKEN_TIMEOUT, gt=0, description="Longest wait for one token request."
    )


class ClientCredentialsTokens:
    """The current access token of a `ServiceCredentials`, renewed with single flight.

    Args:
        credentials: the service account.
        transport: an httpx transport instead of the network (tests).
        clock: monotonic seconds (tests pass a fake one).
    """

    def __init__(
        self,
        credentials: ServiceCredentials,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.credentials = credentials
        self._clock = clock
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(credentials.timeout), transport=transport, follow_redirects=False
        )
        self._token: str | None = None
        self._renew_at = 0.0
        self._expires_at = 0.0
        self._inflight: asyncio.Task[str] | None = None
        self.requests = 0
        """Token requests made so far."""

    def __repr__(self) -> str:
        return f"ClientCredentialsTokens(client_id={self.credentials.client_id!r})"

    async def token(self) -> str:
        """A valid access token: the cached one, or a new one (see the module docstring).

        Raises:
            ServiceUnavailableError: no valid token, and the auth service cannot give one.
        """
        return self.cached() or await self._renew(stale=None)

    def cached(self) -> str | None:
        """The cached token while it needs no renewal, else None; no await, so a call with a
        fresh token pays no coroutine for it."""
        token = self._token
        if token is not None and self._clock() < self._renew_at:
            return token
        return None

    async def renew(self, stale: str) -> str:
        """A token other than `stale` (one an upstream refused with 401); one request for
        every caller that saw the same stale token."""
        if self._token is not None and self._token != stale:
            return self._token
        self._renew_at = 0.0
        return await self._renew(stale=stale)

    def invalidate(self) -> None:
        """Forget the cached token (for example after the secret changed)."""
        self._token = None
        self._renew_at = self._expires_at = 0.0

    async def _renew(self, *, stale: str | None) -> str:
        task = self._inflight
        if task is None:
            task = asyncio.create_task(self._fetch(), name="client-credentials")
            self._inflight = task
            task.add_done_callback(self._forget)
        try:
            return await asyncio.shield(task)
        except ServiceUnavailableError:
            token = self._token
            if token is not None and token != stale and self._clock() < self._expires_at:
                return token  # the renewal failed early; the current token still holds
            raise

    def _forget(self, task: asyncio.Task[str]) -> None:
        if self._inflight is task:
            self._inflight = None
        if not task.cancelled():
            task.exception()  # retrieved here, so a failure nobody awaited is not "lost"

    async def _fetch(self) -> str:
        credentials = self.credentials
        form = {
            "grant_type": "client_credentials",
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret.get_secret_value(),
        }
        if credentials.scope:
            form["scope"] = credentials.scope
        self.requests += 1
        started = self._clock()
        try:
            response = await self._http.post(
                str(credentials.token_url),
                content=urlencode(form),
                headers={"Content-Type": _FORM, "Accept": "application/json"},
            )
        except httpx.HTTPError as exc:
            _log.warning(
                "service_token_failed", client_id=credentials.client_id, error=type(exc).__name__
            )
            raise _unavailable("auth_service_unreachable") from exc
        if response.status_code != httpx.codes.OK:
            event = (
                "service_token_refused" if response.status_code < 500 else "service_token_failed"
            )
            log = _log.error if response.status_code in (400, 401) else _log.warning
            log(event, client_id=credentials.client_id, upstream_status=response.status_code)
            raise _unavailable(f"auth_service_status_{response.status_code}")
        try:
            answer = TokenResponse.model_validate_json(response.content)
        except ValueError as exc:
            _log.warning("service_token_failed", client_id=credentials.client_id, error="body")
            raise _unavailable("auth_service_answer_invalid") from exc
        lifetime = float(answer.expires_in)
        renew_before = min(credentials.renew_before, lifetime / 2)
        self._token = answer.access_token
        self._expires_at = started + lifetime
        self._renew_at = started + lifetime - renew_before
        return answer.access_token

    async def aclose(self) -> None:
        """Close the connections to the auth service."""
        await self._http.aclose()


def _unavailable(reason: str, **metadata: Any) -> ServiceUnavailableError:
    return ServiceUnavailableError(
        _UNAVAILABLE_DETAIL, retry_after=1, metadata={"reason": reason, **metadata}
    )
