"""The targets service, the template every OpsConductor service starts from.

    GET    /targets                  viewer    page of targets (offset or cursor), sort, filters
    POST   /targets                  operator  create (409 on a duplicate name); Idempotency-Key
    POST   /targets/bulk             operator  create many; BulkOperationResult per item; Idempotency-Key
    GET    /targets/{target_id}      viewer    one target (404)
    PATCH  /targets/{target_id}      operator  change it; `lock_version` guards against lost updates (409)
    DELETE /targets/{target_id}      admin     remove it
    GET    /targets/{target_id}/owner  viewer  its creator, from the auth service asked as itself
    GET    /audit                    admin     page of audit entries, newest first

Run: `uvicorn examples.targets_service.app:create_app --factory`. Tokens are verified locally
against the auth service's JWKS (`TARGETS_SERVICE_AUTH__JWKS_URL`); storage is in memory
unless `DATABASE_URL` (or `TARGETS_SERVICE_DATABASE__DSN`) names a PostgreSQL database.
Rate limits: 600 requests a minute per client by default, and `write_limit` per principal on
every write route. Both create routes honour `Idempotency-Key` (`settings.idempotency`: in
memory, Redis shared by replicas, or PostgreSQL, where the response commits with the write),
so a client's retry after a lost answer gets the first answer again instead of a 409 or a
second batch.

Routes declare no `operation_id=` (the handler's name is the id) and document only the errors
nothing else can tell (409; the owner lookup's 502 and 504): 401, 403 and 503 come from the
auth dependencies, 404 from the path parameters, 422 from the parameters and bodies, 429 from
the rate limits.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Query, Request, Response
from opsconductor_contracts import (
    AuditLog,
    BulkOperationResult,
    Identity,
    Role,
    SortParams,
    UserSummary,
)
from opsconductor_shared import (
    CurrentUser,
    FilterQuery,
    OffsetPaginationQuery,
    PaginatedResponse,
    PaginationQuery,
    create_service_app,
    error_responses,
    install_auth,
    require_admin,
    require_role,
    sort_params,
)
from opsconductor_shared.idempotency import IdempotencyKey, idempotency, install_idempotency
from opsconductor_shared.ratelimit import install_rate_limiting, rate_limit

from .audit import AuditTrail
from .models import (
    SORTABLE_FIELDS,
    TAG_PATTERN,
    BulkCreateRequest,
    OsType,
    Target,
    TargetCreate,
    TargetUpdate,
)
from .owners import OwnerLookup
from .repository import InMemoryTargetRepository, TargetQuery, TargetRepository
from .settings import SERVICE_NAME, TargetsSettings

VERSION = "1.0.0"
TargetId = Annotated[int, Path(ge=1, le=2**63 - 1, description="Id of the target.")]
Operator = Annotated[Identity, Depends(require_role(Role.operator))]
Admin = Annotated[Identity, Depends(require_admin)]
# Declared after the caller's identity in a route's signature, so that a request without
# credentials is a 401 before its Idempotency-Key is looked at (FastAPI solves a route's
# `dependencies=` first, then its parameters in order).
Keyed = Annotated[IdempotencyKey, Depends(idempotency())]


def create_app(
    settings: TargetsSettings | None = None,
    *,
    repository: TargetRepository | None = None,
    auth_client_options: dict[str, Any] | None = None,
) -> FastAPI:
    """The targets service app (see the module docstring); `auth_client_options` go to the
    auth service's `ServiceClient` (tests pass a `transport`)."""
    settings = settings or TargetsSettings.for_service(SERVICE_NAME)
    app = create_service_app(
        SERVICE_NAME,
        VERSION,
        settings,
        description="Managed hosts of OpsConductor: the service template.",
    )
    install_auth(app, settings.auth)
    install_rate_limiting(app, settings.rate_limit)
    store = repository or _storage(app, settings)
    install_idempotency(app, settings.idempotency)  # after the database it may use
    app.state.repository = store
    owners = OwnerLookup(app, settings.auth_client, **(auth_client_options or {}))
    app.state.owners = owners
    writes = Depends(rate_limit(settings.write_limit, name="writes"))
    cursor_secret = settings.cursor_secret.get_secret_value()

    @app.get("/targets", response_model=PaginatedResponse[Target], tags=["targets"])
    async def list_targets(
        _: CurrentUser,
        page: PaginationQuery,
        filters: FilterQuery,
        order: Annotated[SortParams | None, Depends(sort_params(*SORTABLE_FIELDS))],
        os_type: Annotated[
            OsType | None, Query(description="Only targets of this OS family.")
        ] = None,
        tag: Annotated[
            str | None,
            Query(max_length=64, pattern=TAG_PATTERN, description="Only targets with this tag."),
        ] = None,
    ) -> PaginatedResponse[Target]:
        query = TargetQuery(
            page, filters, order, os_type=os_type, tag=tag, cursor_secret=cursor_secret
        )
        return await store.list(query)

    @app.post(
        "/targets",
        status_code=201,
        response_model=Target,
        responses=error_responses(409),
        dependencies=[writes],
        tags=["targets"],
    )
    async def create_target(
        body: TargetCreate, request: Request, user: Operator, key: Keyed
    ) -> Target:
        trail = AuditTrail(request, user, "target.create")
        return await store.create(body, actor=user.user_id, audit=trail, key=key)

    @app.post(
        "/targets/bulk",
        response_model=BulkOperationResult,
        dependencies=[writes],
        tags=["targets"],
    )
    async def bulk_create_targets(
        body: BulkCreateRequest, request: Request, user: Operator, key: Keyed
    ) -> BulkOperationResult:
        trail = AuditTrail(request, user, "target.create")
        items = body.items[: settings.max_bulk_items]
        return await store.create_many(items, actor=user.user_id, audit=trail, key=key)

    @app.get("/targets/{target_id:int}", response_model=Target, tags=["targets"])
    async def get_target(target_id: TargetId, _: CurrentUser) -> Target:
        return await store.get(target_id)

    @app.get(
        "/targets/{target_id:int}/owner",
        response_model=UserSummary,
        responses=error_responses(502, 504),
        tags=["targets"],
    )
    async def get_target_owner(target_id: TargetId, _: CurrentUser) -> UserSummary:
        return await owners.owner_of(await store.get(target_id))

    @app.patch(
        "/targets/{target_id:int}",
        response_model=Target,
        responses=error_responses(409),
        dependencies=[writes],
        tags=["targets"],
    )
    async def update_target(
        target_id: TargetId, change: TargetUpdate, request: Request, user: Operator
    ) -> Target:
        trail = AuditTrail(request, user, "target.update")
        return await store.update(target_id, change, actor=user.user_id, audit=trail)

    @app.delete(
        "/targets/{target_id:int}", status_code=204, dependencies=[writes], tags=["targets"]
    )
    async def delete_target(target_id: TargetId, request: Request, user: Admin) -> Response:
        await store.delete(target_id, audit=AuditTrail(request, user, "target.delete"))
        return Response(status_code=204)

    @app.get("/audit", response_model=PaginatedResponse[AuditLog], tags=["audit"])
    async def list_audit_entries(
        page: OffsetPaginationQuery, _: Admin
    ) -> PaginatedResponse[AuditLog]:
        return await store.list_audit(page)

    return app


def _storage(app: FastAPI, settings: TargetsSettings) -> TargetRepository:
    """In memory, or PostgreSQL when a database is configured: its schema is the database's
    startup work, run once PostgreSQL is reachable (the service starts without it)."""
    if settings.database is None:
        return InMemoryTargetRepository()
    from opsconductor_shared.database import install_database  # noqa: PLC0415 - the postgres extra

    from .postgres import PostgresTargetRepository  # noqa: PLC0415

    db = install_database(app, settings.database, fields={"targets_name_key": "name"})
    repository = PostgresTargetRepository(db, schema=settings.database_schema)
    db.add_startup_work(f"{settings.database_schema}.schema", repository.create_schema)
    return repository
