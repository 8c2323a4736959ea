"""Every old name and where it goes: the codemod's knowledge of the old `shared` package.

Data only; `_rewrite.py` applies it. Four tables:

    RENAMES            old qualified name  -> new name (same arguments): a reference is renamed
    CALLS              old callable        -> new callable with its arguments remapped
    STATUS_CLASSES     HTTP status literal -> the library's exception class for it
    MANUAL             old qualified name  -> the manual step when a reference is left as it is

plus the names the context rewrites recognise (app set-up, auth dependencies, pages, the
success envelope). An old name in none of them is reported as a manual step with the generic
advice in `UNKNOWN_STEP`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "APP_SETUP_CALLS",
    "APP_SETUP_MIDDLEWARE",
    "AUTH_DEPENDENCIES",
    "CALLS",
    "CONTRACTS",
    "CORS_MIDDLEWARE",
    "CallRule",
    "DEPENDS",
    "EXCEPTION_ATTRIBUTES",
    "FASTAPI_APP",
    "HEALTH_PATHS",
    "HTTP_EXCEPTIONS",
    "IDENTITY_KEYS",
    "IDENTITY_OPTIONAL_KEYS",
    "LIBRARY",
    "MANUAL",
    "NewName",
    "OLD_PACKAGE",
    "QUERY",
    "RENAMES",
    "REVIEW",
    "ROLES",
    "ROLE_DEPENDENCIES",
    "STATUS_CLASSES",
    "STATUS_CONSTANT_MODULES",
    "SUCCESS_ENVELOPE",
    "StatusClass",
    "UNKNOWN_STEP",
]

OLD_PACKAGE = "shared"
LIBRARY = "opsconductor_shared"
CONTRACTS = "opsconductor_contracts"


@dataclass(frozen=True)
class NewName:
    """A public name of the library: `from <module> import <name>`."""

    module: str
    name: str


def _lib(name: str) -> NewName:
    return NewName(LIBRARY, name)


def _contracts(name: str) -> NewName:
    return NewName(CONTRACTS, name)


# References renamed one for one: the call signature (where called) is the same.
RENAMES: Mapping[str, NewName] = {
    "shared.errors.StandardHTTPException": _lib("StandardHTTPException"),
    "shared.errors.NotFoundError": _lib("NotFoundError"),
    "shared.errors.ValidationError": _lib("BadRequestError"),
    "shared.errors.PermissionError": _lib("PermissionDeniedError"),
    "shared.errors.AuthError": _lib("AuthenticationError"),
    "shared.errors.DatabaseError": _lib("DatabaseError"),
    "shared.errors.ServiceCommunicationError": _lib("ServiceCommunicationError"),
    "shared.auth.require_admin": _lib("require_admin"),
    "shared.auth.require_role": _lib("require_role"),
    "shared.logging.get_logger": _lib("get_logger"),
    "shared.models.HealthResponse": _contracts("HealthResponse"),
    "shared.models.ErrorResponse": _contracts("ErrorResponse"),
    "shared.models.StandardResponse": _contracts("StandardResponse"),
    "shared.models.BulkOperationResult": _contracts("BulkOperationResult"),
    "shared.models.AuditLog": _contracts("AuditLog"),
    "shared.models.PaginationParams": _contracts("PaginationParams"),
    "shared.models.SortParams": _contracts("SortParams"),
    "shared.models.FilterParams": _contracts("FilterParams"),
    "shared.utils.mask_sensitive_data": _lib("mask_sensitive_data"),
    "shared.utils.ServiceClient": _lib("ServiceClient"),
    "shared.utils.get_service_client": NewName(f"{LIBRARY}.client", "get_service_client"),
}


@dataclass(frozen=True)
class CallRule:
    """How a call of an old callable becomes a call of a new one.

    Args:
        new: the callable it becomes.
        kind: the rewrite kind it is counted as.
        positional: the old callable's parameters, in order (to name positional arguments).
        keywords: old parameter -> new parameter.
        new_positional: the new callable's leading positional parameters: an argument that
            was positional stays positional while it lands on the same place.
        metadata: old parameter -> key of the new `metadata=` mapping (log-only context).
        spread_metadata: the old parameter whose mapping is merged into `metadata=`.
        manual: old parameter -> the manual step when it is passed (the call stays).
        required: new parameters that must end up passed (else the call stays, manual).
    """

    new: NewName
    kind: str
    positional: tuple[str, ...]
    keywords: Mapping[str, str]
    new_positional: tuple[str, ...] = ()
    metadata: Mapping[str, str] = field(default_factory=dict)
    spread_metadata: str | None = None
    manual: Mapping[str, str] = field(default_factory=dict)
    required: tuple[str, ...] = ()


_FIELD_STEP = (
    "the library's BadRequestError has no `field`: name the field in the detail, or raise "
    "ValidationError (422) with errors=[ErrorDetail(pointer=..., field=..., code=..., detail=...)]"
)
_DETAIL = ("detail",)
_NOT_FOUND = {"resource": "resource", "resource_id": "id"}

# Old callables whose arguments change. The helpers that returned exceptions become the
# exception classes themselves: `raise not_found("Target", 7)` -> `raise NotFoundError("Target", 7)`.
CALLS: Mapping[str, CallRule] = {
    "shared.errors.NotFoundError": CallRule(
        _lib("NotFoundError"), "exception", ("resource", "resource_id"), _NOT_FOUND,
        new_positional=("resource", "id"),
    ),
    "shared.errors.not_found": CallRule(
        _lib("NotFoundError"), "exception-helper", ("resource", "resource_id"), _NOT_FOUND,
        new_positional=("resource", "id"),
    ),
    "shared.errors.ValidationError": CallRule(
        _lib("BadRequestError"), "exception", ("message", "field", "context"),
        {"message": "detail"}, _DETAIL, spread_metadata="context", manual={"field": _FIELD_STEP},
    ),
    "shared.errors.validation_error": CallRule(
        _lib("BadRequestError"), "exception-helper", ("message", "field"),
        {"message": "detail"}, _DETAIL, manual={"field": _FIELD_STEP},
    ),
    "shared.errors.PermissionError": CallRule(
        _lib("PermissionDeniedError"), "exception", ("message",), {"message": "detail"}, _DETAIL,
    ),
    "shared.errors.permission_denied": CallRule(
        _lib("PermissionDeniedError"), "exception-helper", ("message",), {"message": "detail"},
        _DETAIL,
    ),
    "shared.errors.AuthError": CallRule(
        _lib("AuthenticationError"), "exception", ("message",), {"message": "detail"}, _DETAIL,
    ),
    "shared.errors.DatabaseError": CallRule(
        _lib("DatabaseError"), "exception", ("message", "operation", "context"),
        {"message": "detail"}, _DETAIL, metadata={"operation": "operation"},
        spread_metadata="context",
    ),
    "shared.errors.database_error": CallRule(
        _lib("DatabaseError"), "exception-helper", ("message", "operation"),
        {"message": "detail"}, _DETAIL, metadata={"operation": "operation"},
    ),
    "shared.errors.ServiceCommunicationError": CallRule(
        _lib("ServiceCommunicationError"), "exception", ("service_name", "message", "status_code"),
        {"service_name": "service", "message": "detail", "status_code": "status"}, _DETAIL,
    ),
    "shared.errors.service_unavailable": CallRule(
        _lib("ServiceUnavailableError"), "exception-helper", ("service_name", "message"),
        {"message": "detail"}, _DETAIL, metadata={"service_name": "service"},
    ),
    "shared.logging.log_service_call": CallRule(
        _lib("log_service_call"), "logging",
        ("service_name", "method", "url", "status_code", "duration_ms"),
        {"service_name": "upstream", "method": "method", "url": "route", "status_code": "status",
         "duration_ms": "duration_ms"},
        ("upstream", "method", "route"), required=("status", "duration_ms"),
    ),
    "shared.logging.log_database_operation": CallRule(
        _lib("log_database_operation"), "logging", ("operation", "duration_ms", "rows"),
        {"operation": "operation", "duration_ms": "duration_ms", "rows": "rows"},
        ("operation",), required=("duration_ms",),
    ),
}  # fmt: skip


@dataclass(frozen=True)
class StatusClass:
    """The exception class of one status, and how it takes its detail."""

    name: str
    code: str
    detail_keyword: bool = False  # NotFoundError(resource, id, *, detail=...)
    # 5xx details reach the client as they are: only a literal string is known to be safe.
    server_error: bool = False


# Literal statuses of `HTTPException(status_code=...)` and the old `StandardHTTPException`.
STATUS_CLASSES: Mapping[int, StatusClass] = {
    400: StatusClass("BadRequestError", "BAD_REQUEST"),
    401: StatusClass("AuthenticationError", "UNAUTHORIZED"),
    403: StatusClass("PermissionDeniedError", "FORBIDDEN"),
    404: StatusClass("NotFoundError", "NOT_FOUND", detail_keyword=True),
    409: StatusClass("ConflictError", "CONFLICT"),
    422: StatusClass("ValidationError", "VALIDATION_ERROR"),
    500: StatusClass("StandardHTTPException", "INTERNAL_ERROR", server_error=True),
    502: StatusClass("ServiceCommunicationError", "UPSTREAM_ERROR", server_error=True),
    503: StatusClass("ServiceUnavailableError", "SERVICE_UNAVAILABLE", server_error=True),
}

# The exceptions rewritten by status: (status, detail) parameters by position, old -> new.
HTTP_EXCEPTIONS: Mapping[str, tuple[str, ...]] = {
    "fastapi.HTTPException": ("status_code", "detail", "headers"),
    "fastapi.exceptions.HTTPException": ("status_code", "detail", "headers"),
    "starlette.exceptions.HTTPException": ("status_code", "detail", "headers"),
    "shared.errors.StandardHTTPException": ("status_code", "error_code", "message", "context"),
}
STATUS_CONSTANT_MODULES = ("fastapi.status", "starlette.status")

FASTAPI_APP = ("fastapi.FastAPI", "fastapi.applications.FastAPI")
DEPENDS = ("fastapi.Depends", "fastapi.param_functions.Depends")
QUERY = ("fastapi.Query", "fastapi.param_functions.Query")

# The old app set-up, replaced as a whole by `create_service_app(name, version, ...)`:
# what each call contributes (the argument holding the service name, by position/keyword).
APP_SETUP_CALLS: Mapping[str, tuple[int, str] | None] = {
    "shared.middleware.add_standard_middleware": (1, "service_name"),
    "shared.errors.add_error_handlers": None,
    "shared.logging.setup_service_logging": (0, "service_name"),
}
# Middleware classes `create_service_app` installs itself: `app.add_middleware(X)` goes.
APP_SETUP_MIDDLEWARE = (
    "shared.logging.RequestLoggingMiddleware",
    "shared.middleware.RequestIDMiddleware",
    "shared.middleware.SecurityHeadersMiddleware",
    "shared.middleware.RequestLoggingMiddleware",
    "shared.middleware.PerformanceMiddleware",
    "shared.middleware.ErrorHandlingMiddleware",
)

# Dependencies that gave the caller as a dict; now the verified `Identity`.
AUTH_DEPENDENCIES = ("shared.auth.get_current_user", "shared.auth.verify_token_dependency")
ROLE_DEPENDENCIES = ("shared.auth.require_role", "shared.auth.require_admin")
# Keys of the old user dict that `Identity` has as attributes.
IDENTITY_KEYS = frozenset({"user_id", "username", "email", "role", "permissions"})
# Keys whose attribute may be None, where `.get(key, default)` gave the default.
IDENTITY_OPTIONAL_KEYS = frozenset({"email"})
ROLES = frozenset({"admin", "operator", "viewer"})
SUCCESS_ENVELOPE = "shared.models.create_success_response"
CORS_MIDDLEWARE = (
    "fastapi.middleware.cors.CORSMiddleware",
    "starlette.middleware.cors.CORSMiddleware",
)
# Routes the runtime answers itself.
HEALTH_PATHS = frozenset({"/health", "/healthz", "/health/live", "/health/ready", "/ready"})

# Attributes of the old exceptions, as the library's exceptions name them.
EXCEPTION_ATTRIBUTES: Mapping[str, str] = {
    "message": "detail",
    "error_code": "code",
    "context": "metadata",
}

# Renamed, but every call needs a look: the new callable behaves differently.
REVIEW: Mapping[str, str] = {
    "shared.utils.ServiceClient": (
        "the library's ServiceClient answers an httpx.Response (or a model with "
        "response_model=), not the parsed JSON, and raises ServiceCommunicationError: check "
        "how the results are used"
    ),
    "shared.utils.get_service_client": (
        "the library's client is configured by ServiceClientSettings.for_upstream(name) "
        "(<NAME>_SERVICE_URL, ...), answers an httpx.Response (or a model with response_model=), not "
        "the parsed JSON: check how the results are used"
    ),
}

UNKNOWN_STEP = (
    "no library equivalent is known to the codemod: replace it by hand "
    "(see docs/migration-codemod.md)"
)

# Old names the codemod recognises but leaves: the manual step for each reference.
MANUAL: Mapping[str, str] = {
    "shared.database": (
        "the psycopg2 pool has no drop-in replacement: use opsconductor_shared.database "
        "(install_database(app, settings), psycopg 3, async)"
    ),
    "shared.auth.AuthService": (
        "tokens are verified by install_auth(app) (AuthSettings); use the CurrentUser, "
        "require_role and require_admin dependencies"
    ),
    "shared.errors.handle_database_error": (
        "translate the database error with opsconductor_shared.database (its SQLSTATE table), "
        "or raise DatabaseError(metadata={...})"
    ),
    "shared.errors.handle_service_communication_error": (
        "ServiceClient raises ServiceCommunicationError itself; drop the translation or use "
        "the library's handle_service_communication_error(exc, service=...)"
    ),
    "shared.middleware.RateLimitMiddleware": (
        "rate limits are opsconductor_shared.ratelimit.install_rate_limiting(app, settings)"
    ),
    "shared.models.PaginatedResponse": (
        "the old page had `data` and `meta`; answer PaginatedResponse[Item].from_offset(...) "
        "(items, pagination) with the PaginationQuery dependency"
    ),
    "shared.models.create_success_response": (
        "the success envelope is gone: return the payload itself (a deletion answers 204)"
    ),
    "shared.logging.setup_service_logging": (
        "create_service_app configures logging (level from <PREFIX>_LOG__LEVEL): remove the call"
    ),
    "shared.middleware.add_standard_middleware": (
        "create_service_app installs the standard middleware: create the app with it"
    ),
    "shared.errors.add_error_handlers": (
        "create_service_app installs the error handlers: create the app with it"
    ),
}
