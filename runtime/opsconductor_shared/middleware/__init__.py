"""Pure-ASGI middleware of the runtime (never `BaseHTTPMiddleware`)."""

from .body_limit import DEFAULT_MAX_BODY_BYTES, RequestBodyLimitMiddleware
from .cors import cors_middleware_options
from .errors import RESPONSE_PROGRESS_KEY, ResponseProgress, UnhandledErrorMiddleware
from .metrics import RequestMetrics
from .performance import (
    DEFAULT_SLOW_REQUEST_MS,
    PerformanceMiddleware,
    route_template,
    server_timing,
)
from .request_id import DEFAULT_REQUEST_ID_HEADER, RequestIDMiddleware
from .security_headers import SecurityHeadersMiddleware
from .standard import StandardMiddleware

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_REQUEST_ID_HEADER",
    "DEFAULT_SLOW_REQUEST_MS",
    "PerformanceMiddleware",
    "RESPONSE_PROGRESS_KEY",
    "RequestBodyLimitMiddleware",
    "RequestIDMiddleware",
    "RequestMetrics",
    "ResponseProgress",
    "SecurityHeadersMiddleware",
    "StandardMiddleware",
    "UnhandledErrorMiddleware",
    "cors_middleware_options",
    "route_template",
    "server_timing",
]
