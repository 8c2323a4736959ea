"""The HTTP-method shortcuts of `ServiceClient`, typed: `get(path, response_model=Target)`
returns a `Target`, `get(path)` the `httpx.Response`.

And the two lookups of a record another service owns, so that checking it exists takes a
line instead of a try/except around a status check:

    target = await targets.get_or_none(f"/targets/{target_id}", response_model=Target)
    if target is None: ...                                     # 404: there is none

    target = await targets.get_or_raise(                       # 404: raise my own error
        f"/targets/{body.target_id}",
        ValidationError("target_id names no target"),
        response_model=Target,
    )

Every other failure (the upstream failed, is down, answered something else) is the usual
`ServiceCommunicationError`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypedDict, TypeVar, Unpack, overload

import httpx

from .._errors import ServiceCommunicationError
from ._responses import parse_response, raise_for_upstream_status
from ._retry import RetryPolicy
from ._upstream import DEFAULT_MAX_RETRY_AFTER

__all__ = [
    "CallOptions",
    "HTTPMethods",
    "RequestOptions",
]

T = TypeVar("T")


class CallOptions(TypedDict, total=False):
    """Keyword options of every `ServiceClient` call (see `ServiceClient.request`)."""

    params: Mapping[str, Any] | None
    json: Any
    content: bytes | str | None
    headers: Mapping[str, str] | None
    idempotency_key: str | None
    idempotent: bool
    timeout: httpx.Timeout | float | None
    forward_authorization: bool | None
    retry: RetryPolicy | None


class RequestOptions(CallOptions, total=False):
    """`CallOptions` and whether to raise for 4xx and 5xx answers."""

    raise_for_status: bool


class HTTPMethods:
    """`get`, `head`, `options`, `delete`, `post`, `put` and `patch` on top of `request`,
    and the lookups `get_or_none` and `get_or_raise`."""

    name: str
    max_retry_after: float = DEFAULT_MAX_RETRY_AFTER

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
        **options: Unpack[RequestOptions],
    ) -> T | httpx.Response:
        raise NotImplementedError

    @overload
    async def get(
        self, path: str, *, response_model: type[T], **options: Unpack[RequestOptions]
    ) -> T: ...
    @overload
    async def get(
        self, path: str, *, response_model: None = None, **options: Unpack[RequestOptions]
    ) -> httpx.Response: ...
    async def get(
        self, path: str, *, response_model: type[T] | None = None, **options: Unpack[RequestOptions]
    ) -> T | httpx.Response:
        """`request("GET", path, ...)`."""
        return await self.request("GET", path, response_model=response_model, **options)

    @overload
    async def head(
        self, path: str, *, response_model: type[T], **options: Unpack[RequestOptions]
    ) -> T: ...
    @overload
    async def head(
        self, path: str, *, response_model: None = None, **options: Unpack[RequestOptions]
    ) -> httpx.Response: ...
    async def head(
        self, path: str, *, response_model: type[T] | None = None, **options: Unpack[RequestOptions]
    ) -> T | httpx.Response:
        """`request("HEAD", path, ...)`."""
        return await self.request("HEAD", path, response_model=response_model, **options)

    @overload
    async def options(
        self, path: str, *, response_model: type[T], **options: Unpack[RequestOptions]
    ) -> T: ...
    @overload
    async def options(
        self, path: str, *, response_model: None = None, **options: Unpack[RequestOptions]
    ) -> httpx.Response: ...
    async def options(
        self, path: str, *, response_model: type[T] | None = None, **options: Unpack[RequestOptions]
    ) -> T | httpx.Response:
        """`request("OPTIONS", path, ...)`."""
        return await self.request("OPTIONS", path, response_model=response_model, **options)

    @overload
    async def delete(
        self, path: str, *, response_model: type[T], **options: Unpack[RequestOptions]
    ) -> T: ...
    @overload
    async def delete(
        self, path: str, *, response_model: None = None, **options: Unpack[RequestOptions]
    ) -> httpx.Response: ...
    async def delete(
        self, path: str, *, response_model: type[T] | None = None, **options: Unpack[RequestOptions]
    ) -> T | httpx.Response:
        """`request("DELETE", path, ...)`."""
        return await self.request("DELETE", path, response_model=response_model, **options)

    @overload
    async def post(
        self, path: str, *, response_model: type[T], **options: Unpack[RequestOptions]
    ) -> T: ...
    @overload
    async def post(
        self, path: str, *, response_model: None = None, **options: Unpack[RequestOptions]
    ) -> httpx.Response: ...
    async def post(
        self, path: str, *, response_model: type[T] | None = None, **options: Unpack[RequestOptions]
    ) -> T | httpx.Response:
        """`request("POST", path, ...)`."""
        return await self.request("POST", path, response_model=response_model, **options)

    @overload
    async def put(
        self, path: str, *, response_model: type[T], **options: Unpack[RequestOptions]
    ) -> T: ...
    @overload
    async def put(
        self, path: str, *, response_model: None = None, **options: Unpack[RequestOptions]
    ) -> httpx.Response: ...
    async def put(
        self, path: str, *, response_model: type[T] | None = None, **options: Unpack[RequestOptions]
    ) -> T | httpx.Response:
        """`request("PUT", path, ...)`."""
        return await self.request("PUT", path, response_model=response_model, **options)

    @overload
    async def patch(
        self, path: str, *, response_model: type[T], **options: Unpack[RequestOptions]
    ) -> T: ...
    @overload
    async def patch(
        self, path: str, *, response_model: None = None, **options: Unpack[RequestOptions]
    ) -> httpx.Response: ...
    async def patch(
        self, path: str, *, response_model: type[T] | None = None, **options: Unpack[RequestOptions]
    ) -> T | httpx.Response:
        """`request("PATCH", path, ...)`."""
        return await self.request("PATCH", path, response_model=response_model, **options)

    async def _lookup(
        self, path: str, response_model: Any, options: CallOptions
    ) -> tuple[Any, ServiceCommunicationError | None]:
        """The record (or response) and None, or None and the upstream's 404 as an error."""
        response = await self.request("GET", path, raise_for_status=False, **options)
        try:
            raise_for_upstream_status(
                response, service=self.name, max_retry_after=self.max_retry_after
            )
        except ServiceCommunicationError as exc:
            if response.status_code == 404:
                return None, exc
            raise
        if response_model is None:
            return response, None
        return parse_response(response, response_model, service=self.name), None

    @overload
    async def get_or_none(
        self, path: str, *, response_model: type[T], **options: Unpack[CallOptions]
    ) -> T | None: ...
    @overload
    async def get_or_none(
        self, path: str, *, response_model: None = None, **options: Unpack[CallOptions]
    ) -> httpx.Response | None: ...
    async def get_or_none(
        self, path: str, *, response_model: type[T] | None = None, **options: Unpack[CallOptions]
    ) -> T | httpx.Response | None:
        """`get(path, ...)`, or None when the upstream answers 404.

        Raises:
            ServiceCommunicationError: any other failure, as `request` raises it.
        """
        found, _ = await self._lookup(path, response_model, options)
        return found  # type: ignore[no-any-return]

    @overload
    async def get_or_raise(
        self,
        path: str,
        error: BaseException | Callable[[], BaseException],
        *,
        response_model: type[T],
        **options: Unpack[CallOptions],
    ) -> T: ...
    @overload
    async def get_or_raise(
        self,
        path: str,
        error: BaseException | Callable[[], BaseException],
        *,
        response_model: None = None,
        **options: Unpack[CallOptions],
    ) -> httpx.Response: ...
    async def get_or_raise(
        self,
        path: str,
        error: BaseException | Callable[[], BaseException],
        *,
        response_model: type[T] | None = None,
        **options: Unpack[CallOptions],
    ) -> T | httpx.Response:
        """`get(path, ...)`, raising `error` when the upstream answers 404.

        Args:
            path: the path of the record, such as `/targets/7`.
            error: the exception to raise for a 404 (such as `NotFoundError("Target", 7)`
                or a `ValidationError` naming the field that pointed at it), or a function
                making it; the upstream's error is its `__cause__`.
            response_model: validate the record into this type.
            **options: as for `request`.

        Raises:
            BaseException: `error`, when the upstream answers 404.
            ServiceCommunicationError: any other failure, as `request` raises it.
        """
        found, missing = await self._lookup(path, response_model, options)
        if missing is not None:
            raise (error if isinstance(error, BaseException) else error()) from missing
        return found  # type: ignore[no-any-return]
