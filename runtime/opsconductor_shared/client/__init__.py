"""The resilient service client: `ServiceClient`, its retry policy and circuit breaker.

targets = get_service_client("targets")          # TARGETS_SERVICE_URL, pooled, closed
target = await targets.get("/targets/1", response_model=Target)   # with the app
target = await targets.get_or_none(f"/targets/{target_id}", response_model=Target)  # 404: None
target = await targets.get_or_raise(path, NotFoundError("Target", target_id), response_model=Target)
register_health_check(app, "targets", targets.health_check)      # readiness, in one call
jobs = ServiceClient("jobs", url, credentials=ServiceCredentials(token_url=..., client_id="scheduler", client_secret=...))
await jobs.post("/jobs/7/runs", json=run, idempotent=True)       # its own token; one Idempotency-Key

A path goes under the base URL's prefix with or without its leading `/`. Failures are
`ServiceCommunicationError`s whose message names the call (`GET http://targets:8000/targets/1
answered 500 Internal Server Error`, no credentials, no secret query values); the detail our
own caller gets stays generic.
"""

from ._breaker import CircuitBreaker, CircuitOpenError, CircuitState
from ._client import ServiceClient
from ._credentials import ServiceCredentials
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
    "ServiceCredentials",
    "get_service_client",
    "handle_service_communication_error",
    "install_service_clients",
    "set_retries_enabled",
    "validate_service_health",
]
