"""The resilient service client: `ServiceClient`, its retry policy and circuit breaker.

targets = get_service_client("targets")          # TARGETS_SERVICE_URL, pooled, closed
target = await targets.get("/targets/1", response_model=Target)   # with the app
"""

from ._breaker import (
    DEFAULT_FAILURE_THRESHOLD,
    DEFAULT_RESET_TIMEOUT,
    CircuitBreaker,
    CircuitOpenError,
    CircuitState,
)
from ._client import DEFAULT_LIMITS, DEFAULT_TIMEOUT, ServiceClient
from ._health import DEFAULT_HEALTH_TIMEOUT, validate_service_health
from ._propagation import bind_caller_token, get_caller_token, propagation_headers
from ._registry import (
    ServiceClientRegistry,
    default_registry,
    get_service_client,
    install_service_clients,
)
from ._requests import HTTPMethods, RequestOptions
from ._responses import parse_response, raise_for_upstream_status
from ._retry import (
    DEFAULT_BACKOFF_INITIAL,
    DEFAULT_BACKOFF_MAX,
    DEFAULT_RETRY_AFTER_LIMIT,
    DEFAULT_RETRY_ATTEMPTS,
    DEFAULT_RETRY_DEADLINE,
    DEFAULT_RETRY_POLICY,
    IDEMPOTENCY_KEY_HEADER,
    IDEMPOTENT_METHODS,
    RETRYABLE_EXCEPTIONS,
    RETRYABLE_STATUSES,
    RetryableStatusError,
    RetryPolicy,
    retries_enabled,
    retry_async,
    set_retries_enabled,
)
from ._settings import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_KEEPALIVE_EXPIRY,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_TIMEOUT_SECONDS,
    ServiceClientSettings,
    upstream_env_prefix,
)
from ._upstream import (
    DEFAULT_MAX_RETRY_AFTER,
    HTTPX_ERRORS,
    HTTPX_EXCEPTIONS,
    HTTPXError,
    handle_service_communication_error,
    parse_retry_after,
    upstream_error_body,
)

__all__ = [
    "CircuitBreaker",
    "CircuitOpenError",
    "CircuitState",
    "DEFAULT_BACKOFF_INITIAL",
    "DEFAULT_BACKOFF_MAX",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_FAILURE_THRESHOLD",
    "DEFAULT_HEALTH_TIMEOUT",
    "DEFAULT_KEEPALIVE_EXPIRY",
    "DEFAULT_LIMITS",
    "DEFAULT_MAX_CONNECTIONS",
    "DEFAULT_MAX_RETRY_AFTER",
    "DEFAULT_RESET_TIMEOUT",
    "DEFAULT_RETRY_AFTER_LIMIT",
    "DEFAULT_RETRY_ATTEMPTS",
    "DEFAULT_RETRY_DEADLINE",
    "DEFAULT_RETRY_POLICY",
    "DEFAULT_TIMEOUT",
    "DEFAULT_TIMEOUT_SECONDS",
    "HTTPMethods",
    "HTTPXError",
    "HTTPX_ERRORS",
    "HTTPX_EXCEPTIONS",
    "IDEMPOTENCY_KEY_HEADER",
    "IDEMPOTENT_METHODS",
    "RETRYABLE_EXCEPTIONS",
    "RETRYABLE_STATUSES",
    "RequestOptions",
    "RetryPolicy",
    "RetryableStatusError",
    "ServiceClient",
    "ServiceClientRegistry",
    "ServiceClientSettings",
    "bind_caller_token",
    "default_registry",
    "get_caller_token",
    "get_service_client",
    "handle_service_communication_error",
    "install_service_clients",
    "parse_response",
    "parse_retry_after",
    "propagation_headers",
    "raise_for_upstream_status",
    "retries_enabled",
    "retry_async",
    "set_retries_enabled",
    "upstream_env_prefix",
    "upstream_error_body",
    "validate_service_health",
]
