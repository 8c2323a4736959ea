"""The library's exceptions: each one is an HTTP error in the shared envelope.

    StandardHTTPException                  (a starlette HTTPException)
    ├── BadRequestError                    BAD_REQUEST
    ├── AuthenticationError                UNAUTHORIZED, WWW-Authenticate: Bearer
    ├── PermissionDeniedError              FORBIDDEN
    ├── NotFoundError(resource, id)        NOT_FOUND
    ├── ConflictError                      CONFLICT
    ├── PreconditionFailedError            PRECONDITION_FAILED
    ├── PayloadTooLargeError               PAYLOAD_TOO_LARGE
    ├── ValidationError                    VALIDATION_ERROR, with `errors`
    ├── RateLimitedError                   RATE_LIMITED, with `retry_after`
    ├── InternalError                      INTERNAL_ERROR: what an unhandled exception becomes
    ├── ServiceUnavailableError            SERVICE_UNAVAILABLE, with `retry_after`
    ├── ServiceCommunicationError          UPSTREAM_ERROR, SERVICE_UNAVAILABLE or
    │                                      UPSTREAM_TIMEOUT: a dependency failed
    └── DatabaseError                      DATABASE_ERROR, or SERVICE_UNAVAILABLE

A class names its `ErrorCode`; the HTTP status of every code is `ERROR_STATUS`, generated
from `x-status` in `schemas/errors.yaml`, and nowhere else (a class whose status disagrees with
it is refused when it is defined). `code_for_status` reads the same table the other way, for
errors that only have a status (a bare `HTTPException(404)`).

Every exception carries `status`, `code`, `title`, a `detail` that is safe to show a client,
optional `errors` (validation problems), response `headers`, `retry_after` (sent as
`Retry-After`, in whole seconds, at least one), and `metadata` that goes to the log only.
`to_problem()` is the one place an error becomes the `ErrorResponse` envelope; every error
response, from a handler or from a middleware, is built by it (see `_problem`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, ClassVar

from opsconductor_contracts import ERROR_STATUS, ErrorCode, ErrorDetail, ErrorResponse
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
    "code_for_status",
    "retry_after_header",
    "status_line",
]

GENERIC_SERVER_ERROR_DETAIL = (
    "An unexpected error occurred. The request id identifies it in the service log."
)
_STATUS_OF: Mapping[str, int] = {str(code): status for code, status in ERROR_STATUS.items()}
# A status's own code is the first one listed with it (INTERNAL_ERROR before DATABASE_ERROR).
_CODE_OF: dict[int, str] = {}
for _code, _status in _STATUS_OF.items():
    _CODE_OF.setdefault(_status, _code)
_NON_CODE = re.compile(r"[^A-Z0-9_]")


def code_for_status(status: int) -> str:
    """The code of an error that has only a status: its `ErrorCode` (`NOT_FOUND`), else the
    status's name (`IM_A_TEAPOT`)."""
    found = _CODE_OF.get(status)
    if found is not None:
        return found
    try:
        return HTTPStatus(status).name
    except ValueError:
        return str(ErrorCode.BAD_REQUEST if status < 500 else ErrorCode.INTERNAL_ERROR)


def retry_after_header(seconds: float) -> str:
    """The `Retry-After` value for a wait of `seconds`: whole seconds, rounded up, at least 1."""
    return str(max(1, math.ceil(seconds)))


def status_line(status: int) -> str:
    """A status with its phrase, as in a status line: `404 Not Found`."""
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class StandardHTTPException(HTTPException):
    """Base of every library error: an HTTP status with a stable code and a safe detail.

    A subclass sets `default_code`; its status is that code's in `ERROR_STATUS`. A subclass
    with a code of its own (a domain code such as `TARGET_LOCKED`) keeps its parent's status,
    or sets `default_status`.

    Args:
        detail: explanation safe to show to a client (never SQL, hosts, secrets or stacks).
        status: HTTP status; default: the code's (or the class's, for a domain code).
        code: machine code in UPPER_SNAKE case; default: the class's, or the status's own
            code when only `status` is given.
        errors: individual problems (validation failures).
        headers: response headers to add.
        metadata: context for the log line only; never sent to the client.
        type_uri: the problem type URI (default `about:blank`).
        retry_after: seconds the client should wait; sent as `Retry-After` (see
            `retry_after_header`).

    Raises:
        ValueError: `status` and `code` are both given and the code's status is another.
    """

    default_code: ClassVar[str] = ErrorCode.INTERNAL_ERROR
    default_status: ClassVar[int] = ERROR_STATUS[ErrorCode.INTERNAL_ERROR]
    default_detail: ClassVar[str] = GENERIC_SERVER_ERROR_DETAIL

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        standard = _STATUS_OF.get(str(cls.default_code))
        if standard is None:
            return
        if "default_status" in cls.__dict__ and cls.default_status != standard:
            raise TypeError(
                f"{cls.__name__}: the status of {cls.default_code} is {standard} "
                f"(x-status in schemas/errors.yaml), not {cls.default_status}"
            )
        cls.default_status = standard

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
        if code is None:
            code = (
                self.default_code
                if status is None or status == self.default_status
                else code_for_status(status)
            )
        standard = _STATUS_OF.get(str(code))
        if status is None:
            status = standard if standard is not None else self.default_status
        elif standard is not None and standard != status:
            raise ValueError(
                f"the status of {code} is {standard} (x-status in schemas/errors.yaml), not {status}"
            )
        merged = dict(headers or {})
        if retry_after is not None:
            merged["Retry-After"] = retry_after_header(retry_after)
        super().__init__(status_code=status, detail=detail or self.default_detail, headers=merged)
        self.code = str(code)
        self.retry_after = retry_after
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
        return _title(self.status_code)

    def to_problem(self, *, request_id: str, instance: str | None = None) -> ErrorResponse:
        """This error as the shared envelope, for the occurrence `request_id` at `instance`.

        Every error response is built here: the code is made UPPER_SNAKE, and every member is
        cut to the length the schema allows, so whatever a caller put in, the envelope is valid.
        """
        code = _NON_CODE.sub("_", self.code.upper()).lstrip("_0123456789") or str(
            ErrorCode.INTERNAL_ERROR
        )
        return ErrorResponse(
            type=self.type_uri,
            title=self.title,
            status=self.status_code,
            detail=self.detail[:4096],
            instance=instance[:2048] if instance else None,
            code=code[:64],
            request_id=request_id[:128],
            timestamp=datetime.now(UTC),
            errors=self.errors[:1000],
        )

    def to_response(self, *, request_id: str | None = None, instance: str | None = None) -> Any:
        """This error as a `ProblemResponse`, for routes that return errors instead of raising.

        The request id defaults to the current request's.
        """
        from ._problem import problem_response  # noqa: PLC0415 - _problem imports this module

        return problem_response(self, request_id=request_id, instance=instance)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status_code}, code={self.code!r}, detail={self.detail!r})"


class BadRequestError(StandardHTTPException):
    """The request is malformed in a way validation does not describe."""

    default_code = ErrorCode.BAD_REQUEST
    default_detail = "The request is malformed."


class AuthenticationError(StandardHTTPException):
    """Credentials are missing, invalid or expired. Carries `WWW-Authenticate: Bearer`."""

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
    """Authenticated, but not allowed to do this."""

    default_code = ErrorCode.FORBIDDEN
    default_detail = "You are not allowed to do this."


class NotFoundError(StandardHTTPException):
    """No `resource` with this `id` exists.

    Args:
        resource: what was looked for, such as `Target`.
        id: the id that was looked for; named in the detail only when it is an integer (a
            string id is the client's text, and no envelope echoes what the client sent).
    """

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
            # Only a number is named: a string id is the client's text, never echoed.
            detail = (
                f"{resource} {id} was not found."
                if isinstance(id, int) and not isinstance(id, bool)
                else f"{resource} was not found."
            )
        super().__init__(detail, **kwargs)


class ConflictError(StandardHTTPException):
    """The change conflicts with the current state (a duplicate, a stale version)."""

    default_code = ErrorCode.CONFLICT
    default_detail = "The request conflicts with the current state of the resource."


class PreconditionFailedError(StandardHTTPException):
    """An `If-Match` or version precondition failed."""

    default_code = ErrorCode.PRECONDITION_FAILED
    default_detail = "A precondition of the request failed."


class PayloadTooLargeError(StandardHTTPException):
    """The request body is larger than the service accepts."""

    default_code = ErrorCode.PAYLOAD_TOO_LARGE
    default_detail = "The request body is too large."


class ValidationError(StandardHTTPException):
    """The request failed validation; `errors` says where and why."""

    default_code = ErrorCode.VALIDATION_ERROR
    default_detail = "The request failed validation."


class RateLimitedError(StandardHTTPException):
    """Too many requests; `retry_after` seconds until the next one is admitted."""

    default_code = ErrorCode.RATE_LIMITED
    default_detail = "Too many requests. Retry after the time in the Retry-After header."


class InternalError(StandardHTTPException):
    """An unexpected failure (an unhandled exception); the detail stays generic, the log has
    the rest."""

    default_code = ErrorCode.INTERNAL_ERROR


class ServiceUnavailableError(StandardHTTPException):
    """This service cannot serve the request now; retry later."""

    default_code = ErrorCode.SERVICE_UNAVAILABLE
    default_detail = "The service is temporarily unavailable. Retry later."


class ServiceCommunicationError(StandardHTTPException):
    """A service this one depends on failed (UPSTREAM_ERROR), was unreachable
    (SERVICE_UNAVAILABLE), or was too slow (UPSTREAM_TIMEOUT).

    The `detail` our own caller gets never names the upstream's host; the message of the
    exception (`str(error)`, in tracebacks) and the log line name the call: `method`, `url`
    (without credentials or secret query values) and what it answered.

    Args:
        service: name of the upstream service.
        upstream_status: the HTTP status it answered with, if it answered.
        upstream_error: its `ErrorResponse`, if it sent one; kept as the cause.
        method: the method of the call, such as `GET`.
        url: the URL of the call, fit to be shown (see `client._urls.public_url`).
        retry_after: seconds to wait, passed through from the upstream's `Retry-After`.
    """

    default_code = ErrorCode.UPSTREAM_ERROR
    default_detail = "A service this one depends on failed."

    def __init__(
        self,
        detail: str | None = None,
        *,
        service: str | None = None,
        upstream_status: int | None = None,
        upstream_error: ErrorResponse | None = None,
        method: str | None = None,
        url: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.service = service
        self.upstream_status = upstream_status
        self.upstream_error = upstream_error
        self.method = method
        self.url = url
        metadata = {
            "upstream": service,
            "upstream_status": upstream_status,
            **({"upstream_method": method, "upstream_url": url} if url else {}),
            **dict(kwargs.pop("metadata", None) or {}),
        }
        if upstream_error is not None:
            metadata |= {
                "upstream_code": upstream_error.code,
                "upstream_request_id": upstream_error.request_id,
            }
        super().__init__(detail, metadata=metadata, **kwargs)

    def __str__(self) -> str:
        if self.url is None:
            return super().__str__()
        call = f"{self.method or 'call'} {self.url}"
        if self.upstream_status is not None:
            answer = f"answered {status_line(self.upstream_status)}"
        else:
            answer = f"failed: {self.metadata.get('error', 'no answer')}"
        return f"{super().__str__()} ({call} {answer})"

    @property
    def upstream_code(self) -> str | None:
        """The upstream's error code, when it answered with the envelope."""
        return self.upstream_error.code if self.upstream_error else None

    @property
    def upstream_request_id(self) -> str | None:
        """The upstream's request id, when it answered with the envelope."""
        return self.upstream_error.request_id if self.upstream_error else None


class DatabaseError(StandardHTTPException):
    """The database failed (DATABASE_ERROR), or is unavailable for now (SERVICE_UNAVAILABLE,
    with Retry-After)."""

    default_code = ErrorCode.DATABASE_ERROR
    default_detail = "The database could not complete the request."
