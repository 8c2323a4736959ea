"""OpsConductor service runtime: the hand-written half of opsconductor-shared.

What a service imports: the app factory and its settings, the exceptions of the error
envelope, logging and the request context, the page model and query parameters, health
checks, the auth dependencies, and the service client. The rest of each area lives in its
subpackage: `opsconductor_shared.auth`, `opsconductor_shared.client`,
`opsconductor_shared.database` (the PostgreSQL pool) and `opsconductor_shared.ratelimit`; the
last two are imported on their own, so a service without their optional dependencies still
imports this package. Everything else is private: modules whose names start with `_`.
"""

from ._app import ServiceRuntime, create_service_app, get_runtime, register_health_check
from ._context import TraceContext, bind_log_context, get_request_id, get_trace_context
from ._errors import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    DatabaseError,
    InternalError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    PreconditionFailedError,
    RateLimitedError,
    ServiceCommunicationError,
    ServiceUnavailableError,
    StandardHTTPException,
    ValidationError,
)
from ._health import HealthCheckError
from ._logging import get_logger, log_database_operation, log_service_call, setup_service_logging
from ._masking import REDACTED, mask_sensitive_data
from ._openapi import error_responses
from ._pagination import FilterQuery, PaginationQuery, decode_cursor, encode_cursor, sort_params
from ._settings import CORSSettings, LoggingSettings, SecurityHeadersSettings, ServiceSettings
from ._utils import sanitize_filename
from .auth import AuthSettings, CurrentUser, OptionalUser, install_auth, require_admin, require_role
from .client import RetryPolicy, ServiceClient
from .models import PaginatedResponse

__all__ = [
    "AuthSettings",
    "AuthenticationError",
    "BadRequestError",
    "CORSSettings",
    "ConflictError",
    "CurrentUser",
    "DatabaseError",
    "FilterQuery",
    "HealthCheckError",
    "InternalError",
    "LoggingSettings",
    "NotFoundError",
    "OptionalUser",
    "PaginatedResponse",
    "PaginationQuery",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "PreconditionFailedError",
    "REDACTED",
    "RateLimitedError",
    "RetryPolicy",
    "SecurityHeadersSettings",
    "ServiceClient",
    "ServiceCommunicationError",
    "ServiceRuntime",
    "ServiceSettings",
    "ServiceUnavailableError",
    "StandardHTTPException",
    "TraceContext",
    "ValidationError",
    "bind_log_context",
    "create_service_app",
    "decode_cursor",
    "encode_cursor",
    "error_responses",
    "get_logger",
    "get_request_id",
    "get_runtime",
    "get_trace_context",
    "install_auth",
    "log_database_operation",
    "log_service_call",
    "mask_sensitive_data",
    "register_health_check",
    "require_admin",
    "require_role",
    "sanitize_filename",
    "setup_service_logging",
    "sort_params",
]
