"""`install_database`: one `Database` per app, opened by the lifespan and checked by readiness.

    app = create_service_app("targets", "1.0.0", settings)
    install_database(app)                    # reads settings.database
    ...
    @app.get("/targets")
    async def list_targets(db: Annotated[Database, Depends(get_database)]) -> ...:
        return await db.fetch_all("SELECT id, name FROM targets", model=Target)

It also registers a handler for raw psycopg errors, so code that uses `db.pool` directly
still answers in the envelope, mapped by `handle_database_error`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from .._app import get_runtime
from .._errors import StandardHTTPException
from .._operations import raises_errors
from .._problem import problem_instance
from ._errors import handle_database_error
from ._pool import Database, _require_postgres
from ._settings import DatabaseSettings
from ._stats import PoolMetrics, pool_figures

__all__ = ["get_database", "install_database"]

_STATE_ATTRIBUTE = "database"


def install_database(
    app: FastAPI,
    settings: DatabaseSettings | None = None,
    *,
    health_check: str = "database",
    critical: bool = True,
    fields: Mapping[str, str] | None = None,
) -> Database:
    """Create the app's `Database`, open it in the lifespan, add its readiness check (with the
    pool's counts as its `details`: `pool_figures`) and, when the app has metrics, its pool
    gauges (`PoolMetrics`) on `/metrics`.

    Args:
        app: an app made by `create_service_app`.
        settings: default: the service settings' `database` field.
        health_check: the readiness check's name.
        critical: whether the service is unhealthy (503) while PostgreSQL is unreachable.
        fields: constraint name -> public field name, for error responses.

    Raises:
        RuntimeError: the app was not made by `create_service_app`, or has a database.
        ValueError: no settings were given and the service settings have no `database`.
    """
    runtime = get_runtime(app)
    if getattr(app.state, _STATE_ATTRIBUTE, None) is not None:
        raise RuntimeError("install_database was already called for this app")
    if settings is None:
        settings = getattr(runtime.settings, "database", None)
        if not isinstance(settings, DatabaseSettings):
            raise ValueError(
                "install_database needs DatabaseSettings: pass settings=, or add a "
                "`database: DatabaseSettings` field to the service settings"
            )
    database = Database(settings, application_name=runtime.name, fields=fields)
    runtime.add_lifespan_hook(database.lifespan)
    runtime.health.register(
        health_check,
        database.health_check,
        timeout=settings.acquire_timeout + 1.0,
        critical=critical,
        details=lambda: pool_figures(database.stats()),
    )
    psycopg, _ = _require_postgres()

    async def driver_error(request: Request, exc: Exception) -> Response:
        mapped = handle_database_error(
            exc, operation="request", fields=database.fields, retry_after=settings.retry_after
        )
        handler: Any = request.app.exception_handlers.get(StandardHTTPException)
        if handler is None:
            response: Response = mapped.to_response(instance=problem_instance(request.scope))
        else:
            response = await handler(request, mapped)
        return response

    app.add_exception_handler(psycopg.Error, driver_error)
    if runtime.metrics is not None:
        runtime.metrics.registry.register(PoolMetrics(database.stats, service=runtime.name))
    setattr(app.state, _STATE_ATTRIBUTE, database)
    return database


@raises_errors(503)
def get_database(request: Request) -> Database:
    """FastAPI dependency: the app's `Database` (routes using it document 503, the database
    being unavailable for now).

    Raises:
        RuntimeError: `install_database` was not called for this app.
    """
    database = getattr(request.app.state, _STATE_ATTRIBUTE, None)
    if not isinstance(database, Database):
        raise RuntimeError("no database: call install_database(app) when creating the app")
    return database
