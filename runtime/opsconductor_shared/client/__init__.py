"""The resilient service client: `ServiceClient`, its retry policy and circuit breaker.

targets = get_service_client("targets")          # TARGETS_SERVICE_URL, pooled, closed
target = await targets.get("/targets/1", response_model=Target)   # with the app
"""

from ._breaker import CircuitBreaker, CircuitOpenError, CircuitState
from ._client import ServiceClient
from ._health import validate_service_health
from ._registry import ServiceClientRegistry, get_service_client, install_service_clients
from ._retry import RetryPolicy, set_retries_enabled
from ._settings import ServiceClientSettings
from ._upstream import handle_service_communication_error

__all__ = [
    "CircuitBreaker",
    "CircuitOpenError",
    "CircuitState",
    "RetryPolicy",
    "ServiceClient",
    "ServiceClientRegistry",
    "ServiceClientSettings",
    "get_service_client",
    "handle_service_communication_error",
    "install_service_clients",
    "set_retries_enabled",
    "validate_service_health",
]
