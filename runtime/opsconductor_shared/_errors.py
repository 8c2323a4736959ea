"""The library's exceptions: each one is an HTTP error in the shared envelope.

    StandardHTTPException                  (a starlette HTTPException)
    ├── BadRequestError                    400 BAD_REQUEST
    ├── AuthenticationError                401 UNAUTHORIZED, WWW-Authenticate: Bearer
    ├── PermissionDeniedError              403 FORBIDDEN
    ├── NotFoundError(resource, id)        404 NOT_FOUND
    ├── ConflictError                      409 CONFLICT
    ├── PreconditionFailedError            412 PRECONDITION_FAILED
    ├── PayloadTooLargeError               413 PAYLOAD_TOO_LARGE
    ├── ValidationError                    422 VALIDATION_ERROR, with `errors`
    ├── RateLimitedError                   429 RATE_LIMITED, with `retry_after`
    ├── InternalError                      500 INTERNAL_ERROR
    ├── ServiceUnavailableError            503 SERVICE_UNAVAILABLE, with `retry_after`
    ├── ServiceCommunicationError          502 UPSTREAM_ERROR, 503 SERVICE_UNAVAILABLE,
    │                                      504 UPSTREAM_TIMEOUT: a dependency failed
    └── DatabaseError                      500 DATABASE_ERROR, 503 SERVICE_UNAVAILABLE

Every exception carries `status`, `code`, `title`, a `detail` that is safe to show a client,
optional `errors` (validation problems), response `headers`, `retry_after` (sent as
`Retry-After`), and `metadata` that goes to the log only. `add_error_handlers` turns them into `ErrorResponse` bodies; `to_response()` does
the same for code that prefers to return an error rather than raise it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, ClassVar

from opsconductor_contracts import ErrorCode, ErrorDetail, ErrorResponse
from starlette.exceptions import HTTPException

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "DatabaseError",
    "InternalError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "PreconditionFailedError",
    "RateLimitedError",
    "ServiceCommunicationError",
    "ServiceUnavailableError",
    "StandardHTTPException",
    "ValidationError",
]


class StandardHTTPException(HTTPException):
    """Base of every library error: an HTTP status with a stable code and a safe detail.

    Args:
        detail: explanation safe to show to a client (never SQL, hosts, secrets or stacks).
        status: HTTP status; defaults to the class's.
        code: machine code in UPPER_SNAKE case; defaults to the class's.
        errors: individual problems (validation failures).
        headers: response headers to add.
        metadata: context for the log line only; never sent to the client.
        type_uri: the problem type URI (default `about:blank`).
        retry_after: seconds the client should wait; sent as `Retry-After` (rounded up).
    """

    default_status: ClassVar[int] = 500
    default_code: ClassVar[str] = ErrorCode.INTERNAL_ERROR
    default_detail: ClassVar[str] = "An unexpected error occurred."

    def __init__(
        self,
        detail: str | None = None,
        *,
        status: int | None = None,
        code: str | None = None,
        errors: Sequence[ErrorDetail] = (),
        headers: Mapping[str, str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        type_uri: str = "about:blank",
        retry_after: float | None = None,
    ) -> None:
        status = status or self.default_status
        self.retry_after = retry_after
        headers = _retry_after_headers(retry_after, headers)
        super().__init__(
            status_code=status, detail=detail or self.default_detail, headers=dict(headers or {})
        )
        self.code = str(code or self.default_code)
        self.errors = list(errors)
        self.metadata = dict(metadata or {})
        self.type_uri = type_uri

    @property
    def status(self) -> int:
        """The HTTP status code."""
        return self.status_code

    @property
    def title(self) -> str:
        """The standard phrase of the status, such as `Not Found`."""
        try:
            return HTTPStatus(self.status_code).phrase
        except ValueError:
            return "Error"

    def to_problem(self, *, request_id: str, instance: str | None = None) -> ErrorResponse:
        """This error as the shared envelope."""
        from ._problem import build_problem  # noqa: PLC0415 - _problem imports this module

        return build_problem(
            self.status_code,
            code=self.code,
            detail=self.detail,
            request_id=request_id,
            instance=instance,
            errors=self.errors,
            type_uri=self.type_uri,
        )

    def to_response(self, *, request_id: str | None = None, instance: str | None = None) -> Any:
        """This error as a `ProblemResponse`, for routes that return errors instead of raising.

        The request id defaults to the current request's.
        """
        from ._context import get_request_id, new_request_id  # noqa: PLC0415
        from ._problem import ProblemResponse  # noqa: PLC0415

        problem = self.to_problem(
            request_id=request_id or get_request_id() or new_request_id(), instance=instance
        )
        return ProblemResponse(problem, headers=self.headers)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status_code}, code={self.code!r}, detail={self.detail!r})"


def _retry_after_headers(
    retry_after: float | None, headers: Mapping[str, str] | None
) -> dict[str, str]:
    merged = dict(headers or {})
    if retry_after is not None:
        merged["Retry-After"] = str(max(0, math.ceil(retry_after)))
    return merged


class BadRequestError(StandardHTTPException):
    """400: the request is malformed in a way validation does not describe."""

    default_status = 400
    default_code = ErrorCode.BAD_REQUEST
    default_detail = "The request is malformed."


class AuthenticationError(StandardHTTPException):
    """401: credentials are missing, invalid or expired. Carries `WWW-Authenticate: Bearer`."""

    default_status = 401
    default_code = ErrorCode.UNAUTHORIZED
    default_detail = "Authentication is required."

    def __init__(
        self, detail: str | None = None, *, error: str = "invalid_token", **kwargs: Any
    ) -> None:
        headers = {
            "WWW-Authenticate": f'Bearer error="{error}"',
            **dict(kwargs.pop("headers", None) or {}),
        }
        super().__init__(detail, headers=headers, **kwargs)


class PermissionDeniedError(StandardHTTPException):
    """403: authenticated, but not allowed to do this."""

    default_status = 403
    default_code = ErrorCode.FORBIDDEN
    default_detail = "You are not allowed to do this."


class NotFoundError(StandardHTTPException):
    """404: no `resource` with this `id` exists.

    Args:
        resource: what was looked for, such as `Target`.
        id: the id that was looked for.
    """

    default_status = 404
    default_code = ErrorCode.NOT_FOUND
    default_detail = "The resource was not found."

    def __init__(
        self,
        resource: str | None = None,
        id: object = None,  # noqa: A002 - the signature the services already use
        *,
        detail: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.resource = resource
        self.resource_id = id
        if detail is None and resource is not None:
            detail = (
                f"{resource} {id} was not found."
                if id is not None
                else f"{resource} was not found."
            )
        super().__init__(detail, **kwargs)


class ConflictError(StandardHTTPException):
    """409: the change conflicts with the current state (a duplicate, a stale version)."""

    default_status = 409
    default_code = ErrorCode.CONFLICT
    default_detail = "The request conflicts with the current state of the resource."


class PreconditionFailedError(StandardHTTPException):
    """412: an `If-Match` or version precondition failed."""

    default_status = 412
    default_code = ErrorCode.PRECONDITION_FAILED
    default_detail = "A precondition of the request failed."


class PayloadTooLargeError(StandardHTTPException):
    """413: the request body is larger than the service accepts."""

    default_status = 413
    default_code = ErrorCode.PAYLOAD_TOO_LARGE
    default_detail = "The request body is too large."


class ValidationError(StandardHTTPException):
    """422: the request failed validation; `errors` says where and why."""

    default_status = 422
    default_code = ErrorCode.VALIDATION_ERROR
    default_detail = "The request failed validation."


class RateLimitedError(StandardHTTPException):
    """429: too many requests; `retry_after` seconds until the next one is admitted."""

    default_status = 429
    default_code = ErrorCode.RATE_LIMITED
    default_detail = "Too many requests. Retry after the time in the Retry-After header."


class InternalError(StandardHTTPException):
    """500: an unexpected failure; the detail stays generic, the log has the rest."""


class ServiceUnavailableError(StandardHTTPException):
    """503: this service cannot serve the request now; retry later."""

    default_status = 503
    default_code = ErrorCode.SERVICE_UNAVAILABLE
    default_detail = "The service is temporarily unavailable. Retry later."


class ServiceCommunicationError(StandardHTTPException):
    """502, 503 or 504: a service this one depends on failed, was unreachable, or too slow.

    Args:
        service: name of the upstream service.
        upstream_status: the HTTP status it answered with, if it answered.
        upstream_error: its `ErrorResponse`, if it sent one; kept as the cause.
        retry_after: seconds to wait, passed through from the upstream's `Retry-After`.
    """

    default_status = 502
    default_code = ErrorCode.UPSTREAM_ERROR
    default_detail = "A service this one depends on failed."

    def __init__(
        self,
        detail: str | None = None,
        *,
        service: str | None = None,
        upstream_status: int | None = None,
        upstream_error: ErrorResponse | None = None,
        **kwargs: Any,
    ) -> None:
        self.service = service
        self.upstream_status = upstream_status
        self.upstream_error = upstream_error
        metadata = {
            "upstream": service,
            "upstream_status": upstream_status,
            **dict(kwargs.pop("metadata", None) or {}),
        }
        if upstream_error is not None:
            metadata |= {
                "upstream_code": upstream_error.code,
                "upstream_request_id": upstream_error.request_id,
            }
        super().__init__(detail, metadata=metadata, **kwargs)

    @property
    def upstream_code(self) -> str | None:
        """The upstream's error code, when it answered with the envelope."""
        return self.upstream_error.code if self.upstream_error else None

    @property
    def upstream_request_id(self) -> str | None:
        """The upstream's request id, when it answered with the envelope."""
        return self.upstream_error.request_id if self.upstream_error else None


class DatabaseError(StandardHTTPException):
    """500 DATABASE_ERROR, or 503 SERVICE_UNAVAILABLE (with Retry-After) when transient."""

    default_status = 500
    default_code = ErrorCode.DATABASE_ERROR
    default_detail = "The database could not complete the request."
