"""Storage of targets and audit entries: the interface, and the in-memory default.

The in-memory repository is the embedded default (the demo needs nothing installed);
`postgres.PostgresTargetRepository` implements the same interface on the runtime's
`Database`. Both page with offset (`page`) or keyset cursors (`page_token`: the sort values
and id of the last item, signed: the library's `Keyset`), sort by any of `SORTABLE_FIELDS`
(text case-insensitively), and filter by the shared `FilterParams` plus `os_type` and `tag`.
Every write stores its audit entry (built by the request's `AuditTrail`) with it: both are
kept, or neither. A create takes the request's `IdempotencyKey`: the PostgreSQL repository
records the response in the transaction of the write (`key.record`), so a crash between the
commit and the answer cannot make the client's retry create again; in memory the
idempotency middleware stores the response as it is sent.
"""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from opsconductor_contracts import (
    AuditLog,
    BulkItemResult,
    BulkItemStatus,
    BulkOperationResult,
    FilterParams,
    PaginationParams,
    SortParams,
)
from opsconductor_shared import (
    ConflictError,
    Keyset,
    NotFoundError,
    PaginatedResponse,
    StandardHTTPException,
    get_request_id,
    paginate,
)
from opsconductor_shared.idempotency import IdempotencyKey

from .models import OsType, Target, TargetCreate, TargetUpdate

if TYPE_CHECKING:
    from .audit import AuditTrail

DEFAULT_SORT = "name"
TEXT_KEYS = frozenset({"name", "hostname", "os_type"})


NO_KEY = IdempotencyKey(None)


def bulk_result(outcomes: list[Target | StandardHTTPException]) -> BulkOperationResult:
    """The answer of `POST /targets/bulk`: one item per outcome, a problem for each failure."""
    items = []
    for index, outcome in enumerate(outcomes):
        if isinstance(outcome, StandardHTTPException):
            problem = outcome.to_problem(
                request_id=get_request_id() or "", instance=f"/targets/bulk#/items/{index}"
            )
            items.append(
                BulkItemResult(index=index, status=BulkItemStatus.failed, id=None, error=problem)
            )
        else:
            items.append(
                BulkItemResult(
                    index=index, status=BulkItemStatus.succeeded, id=str(outcome.id), error=None
                )
            )
    succeeded = sum(1 for item in items if item.status is BulkItemStatus.succeeded)
    return BulkOperationResult(
        total=len(items), succeeded=succeeded, failed=len(items) - succeeded, items=items
    )


def sort_value(field: str, value: Any) -> Any:
    """Text keys sort case-insensitively (PostgreSQL: `lower(column)`)."""
    return value.lower() if field in TEXT_KEYS and isinstance(value, str) else value


class TargetQuery:
    """One list request, normalised: page, filters, and the keyset of its order (`id` last)."""

    def __init__(
        self,
        page: PaginationParams,
        filters: FilterParams,
        sort: SortParams | None,
        *,
        os_type: OsType | None,
        tag: str | None,
        cursor_secret: str,
    ) -> None:
        self.page = page
        self.filters = filters
        self.os_type = os_type
        self.tag = tag
        self.keyset = Keyset(sort, model=Target, default=DEFAULT_SORT, secret=cursor_secret)
        self.after = self.keyset.after(page)  # a 422 for a token of another order, up front


class TargetRepository(Protocol):
    """What the routes need from storage."""

    async def list(self, query: TargetQuery) -> PaginatedResponse[Target]: ...
    async def get(self, target_id: int) -> Target: ...
    async def create(
        self, data: TargetCreate, *, actor: str, audit: AuditTrail, key: IdempotencyKey = NO_KEY
    ) -> Target: ...
    async def create_many(
        self, items: list[TargetCreate], *, actor: str, audit: AuditTrail, key: IdempotencyKey
    ) -> BulkOperationResult: ...
    async def update(
        self, target_id: int, change: TargetUpdate, *, actor: str, audit: AuditTrail
    ) -> Target: ...
    async def delete(self, target_id: int, *, audit: AuditTrail) -> Target: ...
    async def list_audit(self, page: PaginationParams) -> PaginatedResponse[AuditLog]: ...


class InMemoryTargetRepository:
    """Targets and audit entries in process memory (the embedded default)."""

    def __init__(self) -> None:
        self._targets: dict[int, Target] = {}
        self._audit: list[AuditLog] = []
        self._ids = itertools.count(1)
        self._lock = asyncio.Lock()

    def _matches(self, target: Target, query: TargetQuery) -> bool:
        filters = query.filters
        if (
            filters.search
            and filters.search.lower()
            not in f"{target.name} {target.hostname} {target.description or ''}".lower()
        ):
            return False
        if query.os_type and target.os_type is not query.os_type:
            return False
        if query.tag and query.tag not in target.tags:
            return False
        bounds = (
            (filters.created_after, target.created_at, True),
            (filters.created_before, target.created_at, False),
            (filters.updated_after, target.updated_at, True),
            (filters.updated_before, target.updated_at, False),
        )
        return all(
            bound is None or (value >= bound if after else value < bound)
            for bound, value, after in bounds
        )

    async def list(self, query: TargetQuery) -> PaginatedResponse[Target]:
        found = [t for t in self._targets.values() if self._matches(t, query)]
        return paginate(found, query.page, keyset=query.keyset, sort_value=sort_value)

    async def get(self, target_id: int) -> Target:
        target = self._targets.get(target_id)
        if target is None:
            raise NotFoundError("Target", target_id)
        return target

    async def create(
        self,
        data: TargetCreate,
        *,
        actor: str,
        audit: AuditTrail,
        key: IdempotencyKey = NO_KEY,  # noqa: ARG002 - in memory the middleware stores
    ) -> Target:
        async with self._lock:
            if any(t.name.lower() == data.name.lower() for t in self._targets.values()):
                raise ConflictError(f"A target named {data.name} already exists.")
            now = datetime.now(UTC)
            target = Target(
                id=next(self._ids),
                created_at=now,
                updated_at=now,
                created_by=actor,
                updated_by=actor,
                lock_version=1,
                **data.model_dump(),
            )
            entry = audit.entry(target.id, before=None, after=target)
            self._targets[target.id] = target
            self._audit.append(entry)
        audit.committed(entry)
        return target

    async def create_many(
        self,
        items: list[TargetCreate],
        *,
        actor: str,
        audit: AuditTrail,
        key: IdempotencyKey,  # noqa: ARG002 - in memory the middleware stores
    ) -> BulkOperationResult:
        outcomes: list[Target | StandardHTTPException] = []
        for item in items:
            try:
                outcomes.append(await self.create(item, actor=actor, audit=audit))
            except StandardHTTPException as exc:
                outcomes.append(exc)
        return bulk_result(outcomes)

    async def update(
        self, target_id: int, change: TargetUpdate, *, actor: str, audit: AuditTrail
    ) -> Target:
        async with self._lock:
            current = await self.get(target_id)
            if change.lock_version != current.lock_version:
                raise ConflictError(
                    f"Target {target_id} changed since lock_version {change.lock_version}; it is at lock_version {current.lock_version}. Read it again and retry."
                )
            values = change.model_dump(exclude_unset=True, exclude={"lock_version"})
            updated = current.model_copy(
                update={
                    **values,
                    "lock_version": current.lock_version + 1,
                    "updated_at": datetime.now(UTC),
                    "updated_by": actor,
                }
            )
            target = Target.model_validate(updated.model_dump())
            entry = audit.entry(target_id, before=current, after=target)
            self._targets[target_id] = target
            self._audit.append(entry)
        audit.committed(entry)
        return target

    async def delete(self, target_id: int, *, audit: AuditTrail) -> Target:
        async with self._lock:
            target = await self.get(target_id)
            entry = audit.entry(target_id, before=target, after=None)
            del self._targets[target_id]
            self._audit.append(entry)
        audit.committed(entry)
        return target

    async def list_audit(self, page: PaginationParams) -> PaginatedResponse[AuditLog]:
        return paginate(list(reversed(self._audit)), page)
