"""The HTTP-method shortcuts of `ServiceClient`, typed: `get(path, response_model=Target)`
returns a `Target`, `get(path)` the `httpx.Response`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict, TypeVar, Unpack, overload

import httpx

from ._retry import RetryPolicy

__all__ = [
    "HTTPMethods",
    "RequestOptions",
]

T = TypeVar("T")


class RequestOptions(TypedDict, total=False):
    """Keyword options of every `ServiceClient` call (see `ServiceClient.request`)."""

    params: Mapping[str, Any] | None
    json: Any
    content: bytes | str | None
    headers: Mapping[str, str] | None
    idempotency_key: str | None
    timeout: httpx.Timeout | float | None
    forward_authorization: bool | None
    retry: RetryPolicy | None
    raise_for_status: bool


class HTTPMethods:
    """`get`, `head`, `options`, `delete`, `post`, `put` and `patch` on top of `request`."""

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
