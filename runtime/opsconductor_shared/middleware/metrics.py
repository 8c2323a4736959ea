"""Prometheus request metrics (the `prometheus` extra): count and latency per route template.

`prometheus_client` is imported only when a `RequestMetrics` is created, so services without
the extra still import the runtime.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DEFAULT_LATENCY_BUCKETS", "RequestMetrics"]

DEFAULT_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class RequestMetrics:
    """`http_requests_total` and `http_request_duration_seconds`, labelled by method, route
    template and status.

    Args:
        service: value of the `service` label.
        registry: the Prometheus registry (default: a new one, served by `render`).

    Raises:
        RuntimeError: `prometheus_client` is not installed (install the `prometheus` extra).
    """

    def __init__(
        self,
        service: str,
        *,
        registry: Any = None,
        buckets: tuple[float, ...] = DEFAULT_LATENCY_BUCKETS,
    ) -> None:
        try:
            import prometheus_client  # noqa: PLC0415 - optional dependency
        except ImportError as exc:
            raise RuntimeError(
                "metrics need prometheus-client: install opsconductor-shared[prometheus]"
            ) from exc
        self._client = prometheus_client
        self.registry = registry if registry is not None else prometheus_client.CollectorRegistry()
        labels = ("service", "method", "route", "status")
        self.requests = prometheus_client.Counter(
            "http_requests_total", "HTTP requests handled.", labels, registry=self.registry
        )
        self.latency = prometheus_client.Histogram(
            "http_request_duration_seconds",
            "Time to handle an HTTP request.",
            labels,
            registry=self.registry,
            buckets=buckets,
        )
        self.service = service

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Record one request."""
        labels = (self.service, method, route, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)

    def render(self) -> tuple[bytes, str]:
        """The metrics in the Prometheus text format, with its content type."""
        return self._client.generate_latest(self.registry), self._client.CONTENT_TYPE_LATEST
