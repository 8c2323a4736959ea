"""Storage of targets and audit entries: the interface, and the in-memory default.

The in-memory repository is the embedded default (the demo needs nothing installed);
`postgres.PostgresTargetRepository` implements the same interface on the runtime's
`Database`. Both page with offset (`page`) or keyset cursors (`page_token`: the sort values
and id of the last item, signed), sort by any of `SORTABLE_FIELDS`, and filter by the shared
`FilterParams` plus `os_type` and `tag`.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from opsconductor_contracts import (
    AuditLog,
    FilterParams,
    PaginationParams,
    SortDirection,
    SortKey,
    SortParams,
)
from opsconductor_shared import (
    ConflictError,
    NotFoundError,
    PaginatedResponse,
    ValidationError,
    decode_cursor,
    encode_cursor,
)

from .models import OsType, Target, TargetCreate, TargetUpdate

DEFAULT_SORT = SortParams(sort=[SortKey(field="name", direction=SortDirection.asc)])


class TargetQuery:
    """One list request, normalised: page, filters, order, and the cursor position if any."""

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
        self.sort = sort or DEFAULT_SORT
        self.os_type = os_type
        self.tag = tag
        self.cursor_secret = cursor_secret
        self.after: list[Any] | None = None
        if page.page_token:
            position = decode_cursor(page.page_token, secret=cursor_secret)
            after = position.get("after")
            if (
                position.get("order") != self.order_signature
                or not isinstance(after, list)
                or len(after) != len(self.keys)
            ):
                raise ValidationError(
                    "page_token belongs to another sort order; start again from the first page"
                )
            self.after = position["after"]

    @property
    def keys(self) -> list[tuple[str, bool]]:
        """Sort fields with their direction (True: descending), `id` last as the tiebreaker."""
        return [(key.field, key.direction is SortDirection.desc) for key in self.sort.sort] + [
            ("id", False)
        ]

    @property
    def order_signature(self) -> str:
        return ",".join(f"{'-' if desc else ''}{field}" for field, desc in self.keys)

    def next_token(self, last: Target) -> str:
        after = [_json_value(getattr(last, field)) for field, _ in self.keys]
        return encode_cursor(
            {"order": self.order_signature, "after": after}, secret=self.cursor_secret
        )


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value) if not isinstance(value, int | float | str | type(None)) else value


class TargetRepository(Protocol):
    """What the routes need from storage."""

    async def list(self, query: TargetQuery) -> PaginatedResponse[Target]: ...
    async def get(self, target_id: int) -> Target: ...
    async def create(self, data: TargetCreate, *, actor: str) -> Target: ...
    async def update(self, target_id: int, change: TargetUpdate, *, actor: str) -> Target: ...
    async def delete(self, target_id: int) -> Target: ...
    async def record_audit(self, entry: AuditLog) -> None: ...
    async def list_audit(self, page: PaginationParams) -> PaginatedResponse[AuditLog]: ...


def _sort_value(target: Target, field: str) -> Any:
    value = getattr(target, field)
    return value.lower() if isinstance(value, str) else value


class _Descending:
    """Wraps a value so that it sorts in reverse."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Descending) -> bool:
        return bool(other.value < self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and self.value == other.value

    def __hash__(self) -> int:
        return hash(self.value)


def _order_key(keys: Sequence[tuple[str, bool]], values: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(
        _Descending(value) if desc else value for (_, desc), value in zip(keys, values, strict=True)
    )


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
        keys = query.keys
        rows = sorted(
            (t for t in self._targets.values() if self._matches(t, query)),
            key=lambda t: _order_key(keys, [_sort_value(t, field) for field, _ in keys]),
        )
        per_page = query.page.per_page
        if query.after is None:
            start = (query.page.page - 1) * per_page
            items = rows[start : start + per_page]
            token = query.next_token(items[-1]) if items else None
            return PaginatedResponse[Target].from_offset(
                items,
                page=query.page.page,
                per_page=per_page,
                total_items=len(rows),
                next_page_token=token,
            )
        after = _order_key(keys, _restore(keys, query.after))
        remaining = [
            t
            for t in rows
            if _order_key(keys, [_sort_value(t, field) for field, _ in keys]) > after
        ]
        items = remaining[:per_page]
        token = query.next_token(items[-1]) if len(remaining) > per_page else None
        return PaginatedResponse[Target].from_cursor(
            items, per_page=per_page, next_page_token=token, has_prev=True, total_items=len(rows)
        )

    async def get(self, target_id: int) -> Target:
        target = self._targets.get(target_id)
        if target is None:
            raise NotFoundError("Target", target_id)
        return target

    async def create(self, data: TargetCreate, *, actor: str) -> Target:
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
            self._targets[target.id] = target
            return target

    async def update(self, target_id: int, change: TargetUpdate, *, actor: str) -> Target:
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
            self._targets[target_id] = Target.model_validate(updated.model_dump())
            return self._targets[target_id]

    async def delete(self, target_id: int) -> Target:
        async with self._lock:
            target = await self.get(target_id)
            del self._targets[target_id]
            return target

    async def record_audit(self, entry: AuditLog) -> None:
        self._audit.append(entry)

    async def list_audit(self, page: PaginationParams) -> PaginatedResponse[AuditLog]:
        newest_first = list(reversed(self._audit))
        start = (page.page - 1) * page.per_page
        return PaginatedResponse[AuditLog].from_offset(
            newest_first[start : start + page.per_page],
            page=page.page,
            per_page=page.per_page,
            total_items=len(newest_first),
        )


def _restore(keys: Sequence[tuple[str, bool]], values: Sequence[Any]) -> list[Any]:
    """Cursor values back in the types the sort compares (timestamps, lowered names)."""
    restored = []
    for (field, _), value in zip(keys, values, strict=False):
        if field in ("created_at", "updated_at") and isinstance(value, str):
            restored.append(datetime.fromisoformat(value))
        elif isinstance(value, str):
            restored.append(value.lower())
        else:
            restored.append(value)
    return restored
