"""`ServiceClient`: calls to one upstream service, pooled, bounded, retried, broken and logged.

One `httpx.AsyncClient` per upstream holds a bounded pool of keep-alive connections
(explicit `httpx.Timeout` and `httpx.Limits`), so attempts and calls reuse connections
instead of opening one each. Every attempt goes through the upstream's `CircuitBreaker`,
carries the current request id and `traceparent` (and, when asked, the caller's verified
bearer token), and is logged with `log_service_call`. The `RetryPolicy` repeats only
requests that may be repeated: idempotent methods, or any request with an `Idempotency-Key`
(`idempotent=True` makes one for a `POST` or `PATCH`, kept across the retries).

With `credentials=ServiceCredentials(...)` every call carries the service's own access token
(client credentials, cached and renewed with single flight, see `client._credentials`); an
upstream's 401 renews it once and repeats the call once.

    targets = ServiceClient.from_settings("targets", ServiceClientSettings.for_upstream("targets"))
    target = await targets.get("/targets/1", response_model=Target)

Failures are `ServiceCommunicationError`s: 503 when the upstream is unreachable or its circuit
is open, 504 when it is too slow (per operation, or for the whole deadline), 502 when it
failed or answered with something that is not the expected JSON; the upstream's own
`ErrorResponse` (code, request id) rides along on the error.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self, TypeVar, Unpack, overload

import httpx
from opsconductor_contracts import ErrorCode, HealthStatus

from .._errors import ServiceCommunicationError
from .._logging import log_service_call
from ._breaker import CircuitBreaker, CircuitOpenError
from ._credentials import ClientCredentialsTokens, ServiceCredentials
from ._health import DEFAULT_HEALTH_PATH, check_upstream_health
from ._propagation import propagation_headers
from ._requests import HTTPMethods, RequestOptions
from ._responses import parse_response, raise_for_upstream_status
from ._retry import (
    DEFAULT_RETRY_POLICY,
    IDEMPOTENCY_KEY_HEADER,
    RetryableStatusError,
    RetryPolicy,
    retry_async,
)
from ._settings import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_KEEPALIVE_EXPIRY,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_TIMEOUT_SECONDS,
    ServiceClientSettings,
)
from ._upstream import (
    DEFAULT_MAX_RETRY_AFTER,
    HTTPX_EXCEPTIONS,
    call_of,
    handle_service_communication_error,
)
from ._urls import base_url_of, join_url, public_url

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_TIMEOUT",
    "ServiceClient",
]

T = TypeVar("T")

DEFAULT_TIMEOUT = httpx.Timeout(DEFAULT_TIMEOUT_SECONDS, connect=DEFAULT_CONNECT_TIMEOUT)
DEFAULT_LIMITS = httpx.Limits(
    max_connections=DEFAULT_MAX_CONNECTIONS,
    max_keepalive_connections=DEFAULT_MAX_CONNECTIONS,
    keepalive_expiry=DEFAULT_KEEPALIVE_EXPIRY,
)
_USER_AGENT = "opsconductor-service-client"
_KEYED_METHODS = frozenset({"POST", "PATCH"})


class ServiceClient(HTTPMethods):
    """A client of one upstream service (see the module docstring).

    Args:
        name: the upstream's name, in errors and logs (`targets`).
        base_url: where it listens, such as `http://targets:8000` (a path prefix such as
            `http://gateway/targets-api` is kept: every path goes under it).
        timeout: connect, read, write and pool timeouts per attempt.
        limits: the connection pool: its size and how many idle connections stay open.
        retry: the retry policy; `RetryPolicy.disabled()` for none.
        breaker: the circuit breaker; True for a default one, False for none.
        forward_authorization: forward the caller's verified bearer token on every call.
        credentials: call as this service account (its own token) instead.
        headers: headers sent on every call.
        request_id_header: the header that carries the request id.
        max_retry_after: cap on a `Retry-After` passed through to our own callers.
        transport: an httpx transport instead of the network (`httpx.MockTransport` in tests).
    """

    def __init__(
        self,
        name: str,
        base_url: str | httpx.URL,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        limits: httpx.Limits = DEFAULT_LIMITS,
        retry: RetryPolicy = DEFAULT_RETRY_POLICY,
        breaker: CircuitBreaker | bool = True,
        forward_authorization: bool = False,
        credentials: ServiceCredentials | None = None,
        headers: Mapping[str, str] | None = None,
        request_id_header: str = "X-Request-ID",
        max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not name:
            raise ValueError("a ServiceClient needs the upstream's name")
        self.name = name
        self.retry = retry
        self.breaker: CircuitBreaker | None = (
            breaker
            if isinstance(breaker, CircuitBreaker)
            else (CircuitBreaker(name) if breaker else None)
        )
        self.forward_authorization = forward_authorization
        self.request_id_header = request_id_header
        self.max_retry_after = max_retry_after
        self._base_url = base_url_of(base_url)
        self.tokens: ClientCredentialsTokens | None = (
            ClientCredentialsTokens(credentials, transport=transport) if credentials else None
        )
        self._client = httpx.AsyncClient(
            base_url=self._base_url,
            timeout=timeout,
            limits=limits,
            headers={"User-Agent": _USER_AGENT, **dict(headers or {})},
            transport=transport,
            follow_redirects=False,
        )

    @classmethod
    def from_settings(
        cls, name: str, settings: ServiceClientSettings, **overrides: Any
    ) -> ServiceClient:
        """A client configured by `settings`; keyword arguments override them."""
        options: dict[str, Any] = {
            "timeout": settings.httpx_timeout(),
            "limits": settings.httpx_limits(),
            "retry": settings.retry_policy(),
            "breaker": settings.circuit_breaker(name) or False,
            "forward_authorization": settings.forward_authorization,
            "credentials": settings.credentials,
        }
        return cls(name, str(settings.url), **(options | overrides))

    def __repr__(self) -> str:
        return f"ServiceClient({self.name!r}, base_url={public_url(self._base_url)!r})"

    @property
    def base_url(self) -> httpx.URL:
        """The upstream's base URL, its path prefix kept, never ending in `/`."""
        return self._base_url

    def url_for(self, path: str) -> httpx.URL:
        """Where a call of `path` goes: `path`, with or without its leading `/`, under the
        base URL's prefix (see `client._urls`); an absolute URL as it is."""
        return join_url(self._base_url, path)

    async def health_check(self, path: str = DEFAULT_HEALTH_PATH) -> HealthStatus:
        """A readiness check of the upstream: `register_health_check(app, "targets",
        targets.health_check)` (see `client._health`).

        Raises:
            HealthCheckError: unreachable, an error status, or unhealthy; the message says which.
        """
        return await check_upstream_health(self, path)

    @property
    def is_closed(self) -> bool:
        return self._client.is_closed

    async def aclose(self) -> None:
        """Close the pool's connections; the client cannot be used afterwards."""
        await self._client.aclose()
        if self.tokens is not None:
            await self.tokens.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    @overload
    async def request(
        self, method: str, path: str, *, response_model: type[T], **options: Unpack[RequestOptions]
    ) -> T: ...
    @overload
    async def request(
        self,
        method: str,
        path: str,
        *,
        response_model: None = None,
        **options: Unpack[RequestOptions],
    ) -> httpx.Response: ...
    async def request(
        self,
        method: str,
        path: str,
        *,
        response_model: type[T] | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        idempotent: bool = False,
        timeout: httpx.Timeout | float | None = None,  # noqa: ASYNC109 - httpx's per-request timeouts
        forward_authorization: bool | None = None,
        retry: RetryPolicy | None = None,
        raise_for_status: bool = True,
    ) -> T | httpx.Response:
        """Call the upstream: `path` relative to its base URL.

        Args:
            method: the HTTP method.
            path: the path (and query), such as `/targets/1`.
            response_model: validate a successful body into this type and return it;
                without it, the `httpx.Response` is returned.
            params: query parameters.
            json: a body to send as JSON.
            content: a raw body.
            headers: extra headers; they win over the propagated ones.
            idempotency_key: sent as `Idempotency-Key`; makes any method retryable.
            idempotent: generate an `Idempotency-Key` for a `POST` or `PATCH` without one.
            timeout: this call's per-attempt timeouts, instead of the client's.
            forward_authorization: forward the caller's bearer token (default: the client's).
            retry: this call's retry policy, instead of the client's.
            raise_for_status: raise for 4xx and 5xx answers (else they are returned).

        Raises:
            CircuitOpenError: the circuit to the upstream is open.
            ServiceCommunicationError: the upstream failed, was unreachable or too slow, or
                answered with an error or an unexpected body.
        """
        method = method.upper()
        forward = (
            self.forward_authorization if forward_authorization is None else forward_authorization
        )
        merged = propagation_headers(
            request_id_header=self.request_id_header, forward_authorization=forward
        )
        if headers:
            merged.update(headers)
        if idempotency_key is None and idempotent and method in _KEYED_METHODS:
            idempotency_key = str(uuid.uuid4())
        if idempotency_key is not None:
            merged[IDEMPOTENCY_KEY_HEADER] = idempotency_key
        tokens, token = self._add_service_token(merged)
        if tokens is not None and token is None:
            token = await tokens.token()
            merged["Authorization"] = f"Bearer {token}"
        try:
            request = self._client.build_request(
                method,
                self.url_for(path),
                params=params,
                json=json,
                content=content,
                headers=merged,
                timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
            )
        except HTTPX_EXCEPTIONS as exc:  # a path or parameters httpx cannot make a URL of
            raise handle_service_communication_error(exc, service=self.name) from exc
        policy = retry or self.retry
        response = await self._send_with_retries(request, policy)
        if response.status_code == httpx.codes.UNAUTHORIZED and tokens is not None and token:
            # The upstream refused our token (revoked, rotated key): one new token, one retry.
            token = await tokens.renew(token)
            headers = httpx.Headers(request.headers)
            headers["Authorization"] = f"Bearer {token}"
            request = httpx.Request(
                request.method,
                request.url,
                headers=headers,
                content=request.content,
                extensions=request.extensions,
            )
            response = await self._send_with_retries(request, policy)
        if raise_for_status:
            raise_for_upstream_status(
                response, service=self.name, max_retry_after=self.max_retry_after
            )
        if response_model is None:
            return response
        return parse_response(response, response_model, service=self.name)

    def _add_service_token(
        self, headers: dict[str, str]
    ) -> tuple[ClientCredentialsTokens | None, str | None]:
        """A call's authorization step: put the cached service token on `headers`, without
        awaiting anything (what a call with a fresh token pays for its identity).

        Returns:
            the tokens that apply (None: no credentials, or the caller gave its own
            `Authorization`, which wins) and the token put on `headers` (None: none cached;
            the call awaits `tokens.token()` first).
        """
        tokens = self.tokens if "Authorization" not in headers else None
        token = None if tokens is None else tokens.cached()
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return tokens, token

    async def _send_with_retries(
        self, request: httpx.Request, policy: RetryPolicy
    ) -> httpx.Response:
        attempt = 0

        async def send_once() -> httpx.Response:
            nonlocal attempt
            attempt += 1
            return await self._send(request, policy, attempt)

        try:
            response = await retry_async(
                send_once, policy=policy, retryable=policy.allows(request.method, request.headers)
            )
        except RetryableStatusError as exc:
            response = exc.response
        except CircuitOpenError:
            raise
        except HTTPX_EXCEPTIONS as exc:
            raise handle_service_communication_error(
                exc, service=self.name, max_retry_after=self.max_retry_after
            ) from exc
        except TimeoutError as exc:
            if self.breaker is not None:
                self.breaker.record_failure()
            raise ServiceCommunicationError(
                f"The {self.name} service did not answer within {policy.deadline:g} s.",
                code=ErrorCode.UPSTREAM_TIMEOUT,
                service=self.name,
                metadata={"error": "deadline_exceeded", "attempts": attempt},
                **call_of(request),
            ) from exc
        return response

    async def _send(
        self, request: httpx.Request, policy: RetryPolicy, attempt: int
    ) -> httpx.Response:
        breaker = self.breaker
        if breaker is not None:
            breaker.before_call()
        start = time.perf_counter()

        def log(status: int | None, error: str | None = None) -> None:
            duration_ms = (time.perf_counter() - start) * 1000
            log_service_call(
                self.name,
                request.method,
                request.url.path,
                status=status,
                duration_ms=duration_ms,
                attempt=attempt,
                error=error,
            )

        try:
            response = await self._client.send(request)
        except httpx.HTTPError as exc:
            if breaker is not None:
                breaker.record_failure()
            log(None, type(exc).__name__)
            raise
        except BaseException:
            if breaker is not None:
                breaker.release()
            log(None, "cancelled")
            raise
        status = response.status_code
        if breaker is not None:
            if status >= 500:
                breaker.record_failure()
            else:
                breaker.record_success()
        log(status)
        if status in policy.statuses:
            raise RetryableStatusError(response)
        return response
