"""Targets and audit entries in PostgreSQL, through the runtime's `Database`.

The same interface and paging as the in-memory repository: offset pages with a total, keyset
cursors on (sort keys..., id) by the library's `keyset_condition`, filters as SQL. The schema
is created by `create_schema`, the database's startup work (idempotent; the runtime runs it
once PostgreSQL is reachable, one replica at a time). A duplicate name violates the unique
index `targets_name_key`, which the runtime's SQLSTATE mapping turns into 409 CONFLICT with
`errors[].field = "name"`. Each write and its audit entry are one transaction: a fault between
them (a lost backend, a failed insert) rolls both back, so the client's retry succeeds. A
keyed create records its response in that transaction too (`IdempotencyKey.record`, with the
PostgreSQL idempotency store); a bulk create is one transaction, each item in a savepoint of
its own, so that a failed item undoes only itself and the answer commits with all of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import psycopg
from opsconductor_contracts import AuditLog, BulkOperationResult, PaginationParams
from opsconductor_shared import (
    ConflictError,
    NotFoundError,
    PaginatedResponse,
    StandardHTTPException,
)
from opsconductor_shared.database import (
    Database,
    execute,
    fetch_one,
    handle_database_error,
    keyset_condition,
    keyset_order,
)
from opsconductor_shared.idempotency import IdempotencyKey
from psycopg import AsyncConnection, sql
from psycopg.types.json import Jsonb

from .models import Target, TargetCreate, TargetUpdate
from .repository import NO_KEY, TEXT_KEYS, TargetQuery, bulk_result, sort_value

if TYPE_CHECKING:
    from .audit import AuditTrail

_COLUMNS = "id, name, hostname, host(ip_address) AS ip_address, os_type, port, tags, description, created_at, updated_at, created_by, updated_by, lock_version"


class PostgresTargetRepository:
    """Targets in `<schema>.targets`, audit entries in `<schema>.target_audit`."""

    def __init__(self, db: Database, *, schema: str = "targets_service") -> None:
        self.db = db
        self.schema = sql.Identifier(schema)
        self.targets = sql.SQL("{}.targets").format(self.schema)
        self.audit = sql.SQL("{}.target_audit").format(self.schema)

    async def create_schema(self, conn: AsyncConnection[Any]) -> None:
        """The schema, its tables and indexes, if missing (the database's startup work)."""
        statements = [
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(self.schema),
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} ("
                " id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL, hostname TEXT NOT NULL,"
                " ip_address INET, os_type TEXT NOT NULL,"
                " port INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),"
                " tags TEXT[] NOT NULL DEFAULT '{{}}', description TEXT,"
                " created_at TIMESTAMPTZ NOT NULL DEFAULT now(), updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),"
                " created_by TEXT, updated_by TEXT, lock_version INTEGER NOT NULL DEFAULT 1)"
            ).format(self.targets),
            sql.SQL(
                "CREATE UNIQUE INDEX IF NOT EXISTS targets_name_key ON {} (lower(name))"
            ).format(self.targets),
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (id TEXT PRIMARY KEY, at TIMESTAMPTZ NOT NULL, entry JSONB NOT NULL)"
            ).format(self.audit),
        ]
        for statement in statements:
            await conn.execute(statement)

    def _where(self, query: TargetQuery) -> tuple[sql.Composable, list[Any]]:
        clauses: list[sql.Composable] = []
        params: list[Any] = []
        filters = query.filters
        if filters.search:
            clauses.append(
                sql.SQL(
                    "(name ILIKE %s OR hostname ILIKE %s OR coalesce(description, '') ILIKE %s)"
                )
            )
            pattern = (
                "%"
                + filters.search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                + "%"
            )
            params += [pattern, pattern, pattern]
        for column, bound, operator in (
            ("created_at", filters.created_after, ">="),
            ("created_at", filters.created_before, "<"),
            ("updated_at", filters.updated_after, ">="),
            ("updated_at", filters.updated_before, "<"),
        ):
            if bound is not None:
                clauses.append(
                    sql.SQL("{} {} %s").format(sql.Identifier(column), sql.SQL(operator))
                )
                params.append(bound)
        if query.os_type is not None:
            clauses.append(sql.SQL("os_type = %s"))
            params.append(query.os_type.value)
        if query.tag is not None:
            clauses.append(sql.SQL("%s = ANY(tags)"))
            params.append(query.tag)
        return (sql.SQL(" AND ").join(clauses) if clauses else sql.SQL("TRUE")), params

    @staticmethod
    def _key(field: str) -> sql.Composable:
        column = sql.Identifier(field)
        return sql.SQL("lower({})").format(column) if field in TEXT_KEYS else column

    async def list(self, query: TargetQuery) -> PaginatedResponse[Target]:
        where, params = self._where(query)
        order = keyset_order(query.keyset, column=self._key)
        per_page = query.page.per_page
        total = await self.db.fetch_value(
            sql.SQL("SELECT count(*) FROM {} WHERE {}").format(self.targets, where),
            params,
            operation="count targets",
        )
        if query.after is None:
            statement = sql.SQL("SELECT {} FROM {} WHERE {} ORDER BY {} LIMIT %s OFFSET %s").format(
                sql.SQL(_COLUMNS), self.targets, where, order
            )
            items = await self.db.fetch_all(
                statement,
                [*params, per_page, (query.page.page - 1) * per_page],
                model=Target,
                operation="list targets",
            )
            return PaginatedResponse[Target].from_offset(
                items,
                page=query.page.page,
                per_page=per_page,
                total_items=total,
                next_page_token=query.keyset.token(items[-1]) if items else None,
            )
        after, after_params = keyset_condition(
            query.keyset, query.after, column=self._key, sort_value=sort_value
        )
        statement = sql.SQL("SELECT {} FROM {} WHERE {} AND {} ORDER BY {} LIMIT %s").format(
            sql.SQL(_COLUMNS), self.targets, where, after, order
        )
        rows = await self.db.fetch_all(
            statement,
            [*params, *after_params, per_page + 1],
            model=Target,
            operation="list targets after cursor",
        )
        return query.keyset.page(rows, query.page, total_items=total)

    async def get(self, target_id: int) -> Target:
        target = await self.db.fetch_one(
            sql.SQL("SELECT {} FROM {} WHERE id = %s").format(sql.SQL(_COLUMNS), self.targets),
            [target_id],
            model=Target,
            operation="get target",
        )
        if target is None:
            raise NotFoundError("Target", target_id)
        result: Target = target
        return result

    async def _insert(
        self, conn: AsyncConnection[Any], data: TargetCreate, actor: str, audit: AuditTrail
    ) -> tuple[Target, AuditLog]:
        values = data.model_dump(mode="json")
        statement = sql.SQL(
            "INSERT INTO {} (name, hostname, ip_address, os_type, port, tags, description, created_by, updated_by)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING {}"
        ).format(self.targets, sql.SQL(_COLUMNS))
        params = [
            values["name"],
            values["hostname"],
            values["ip_address"],
            values["os_type"],
            values["port"],
            values["tags"],
            values["description"],
            actor,
            actor,
        ]
        created: Target = await fetch_one(
            conn, statement, params, model=Target, operation="create target"
        )
        entry = await self._record(conn, audit.entry(created.id, before=None, after=created))
        return created, entry

    async def create(
        self, data: TargetCreate, *, actor: str, audit: AuditTrail, key: IdempotencyKey = NO_KEY
    ) -> Target:
        async with self.db.transaction() as conn:
            created, entry = await self._insert(conn, data, actor, audit)
            await key.record(conn, created, status_code=201)
        audit.committed(entry)
        return created

    async def create_many(
        self, items: list[TargetCreate], *, actor: str, audit: AuditTrail, key: IdempotencyKey
    ) -> BulkOperationResult:
        outcomes: list[Target | StandardHTTPException] = []
        entries: list[AuditLog] = []
        async with self.db.transaction() as conn:
            for item in items:
                try:
                    async with conn.transaction():  # a savepoint: a failed item undoes itself
                        created, entry = await self._insert(conn, item, actor, audit)
                except psycopg.Error as exc:
                    mapped = handle_database_error(exc, fields=self.db.fields)
                    if mapped.status >= 500:  # not this item's fault: the whole batch fails
                        raise mapped from exc
                    outcomes.append(mapped)
                    continue
                outcomes.append(created)
                entries.append(entry)
            result = bulk_result(outcomes)
            await key.record(conn, result)
        for entry in entries:
            audit.committed(entry)
        return result

    async def update(
        self, target_id: int, change: TargetUpdate, *, actor: str, audit: AuditTrail
    ) -> Target:
        values = change.model_dump(mode="json", exclude_unset=True, exclude={"lock_version"})
        assignments = [sql.SQL("{} = %s").format(sql.Identifier(column)) for column in values]
        statement = sql.SQL("UPDATE {} SET {} WHERE id = %s RETURNING {}").format(
            self.targets,
            sql.SQL(", ").join(
                [
                    *assignments,
                    sql.SQL("lock_version = lock_version + 1, updated_at = now(), updated_by = %s"),
                ]
            ),
            sql.SQL(_COLUMNS),
        )
        async with self.db.transaction() as conn:
            current = await self._locked(conn, target_id)
            if current.lock_version != change.lock_version:
                raise ConflictError(
                    f"Target {target_id} changed since lock_version {change.lock_version}; it is at lock_version {current.lock_version}. Read it again and retry."
                )
            updated: Target = await fetch_one(
                conn,
                statement,
                [*values.values(), actor, target_id],
                model=Target,
                operation="update target",
            )
            entry = await self._record(conn, audit.entry(target_id, before=current, after=updated))
        audit.committed(entry)
        return updated

    async def delete(self, target_id: int, *, audit: AuditTrail) -> Target:
        async with self.db.transaction() as conn:
            deleted = await fetch_one(
                conn,
                sql.SQL("DELETE FROM {} WHERE id = %s RETURNING {}").format(
                    self.targets, sql.SQL(_COLUMNS)
                ),
                [target_id],
                model=Target,
                operation="delete target",
            )
            if deleted is None:
                raise NotFoundError("Target", target_id)
            entry = await self._record(conn, audit.entry(target_id, before=deleted, after=None))
        audit.committed(entry)
        result: Target = deleted
        return result

    async def _locked(self, conn: AsyncConnection[Any], target_id: int) -> Target:
        target = await fetch_one(
            conn,
            sql.SQL("SELECT {} FROM {} WHERE id = %s FOR UPDATE").format(
                sql.SQL(_COLUMNS), self.targets
            ),
            [target_id],
            model=Target,
            operation="lock target",
        )
        if target is None:
            raise NotFoundError("Target", target_id)
        result: Target = target
        return result

    async def _record(self, conn: AsyncConnection[Any], entry: AuditLog) -> AuditLog:
        await execute(
            conn,
            sql.SQL("INSERT INTO {} (id, at, entry) VALUES (%s, %s, %s)").format(self.audit),
            [entry.id, entry.timestamp, Jsonb(entry.model_dump(mode="json"))],
            operation="record audit",
        )
        return entry

    async def list_audit(self, page: PaginationParams) -> PaginatedResponse[AuditLog]:
        total = await self.db.fetch_value(
            sql.SQL("SELECT count(*) FROM {}").format(self.audit), operation="count audit"
        )
        rows = await self.db.fetch_all(
            sql.SQL("SELECT entry FROM {} ORDER BY at DESC, id DESC LIMIT %s OFFSET %s").format(
                self.audit
            ),
            [page.per_page, (page.page - 1) * page.per_page],
            operation="list audit",
        )
        entries = [AuditLog.model_validate(row["entry"]) for row in rows]
        return PaginatedResponse[AuditLog].from_offset(
            entries, page=page.page, per_page=page.per_page, total_items=total
        )
