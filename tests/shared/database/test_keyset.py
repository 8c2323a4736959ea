"""Keyset paging in real PostgreSQL: walking every order by `keyset_condition` and
`keyset_order` gives each row once, in the order `paginate` gives in memory (NULLs and
case-insensitive text included)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from opsconductor_contracts import PaginationParams, SortDirection, SortKey, SortParams
from opsconductor_shared import Keyset, paginate
from opsconductor_shared.database import (
    Database,
    DatabaseSettings,
    keyset_condition,
    keyset_order,
)
from psycopg import sql
from pydantic import BaseModel

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
NAMES = ["web", "Web", "db", "api", "db", "cache", "API", "web", "queue", "db", "mail", "dns"]
RANKS = [3, None, 1, None, 2, 3, None, 1, 2, None, 3, 1]


class Row(BaseModel):
    id: int
    name: str
    created_at: datetime
    rank: int | None


ROWS = [
    Row(id=i + 1, name=name, created_at=EPOCH + timedelta(minutes=i % 4), rank=rank)
    for i, (name, rank) in enumerate(zip(NAMES, RANKS, strict=True))
]


def column(field: str) -> sql.Composable:
    identifier = sql.Identifier(field)
    return sql.SQL("lower({})").format(identifier) if field == "name" else identifier


def sort_value(field: str, value: Any) -> Any:
    return value.lower() if field == "name" else value


def order(*keys: str) -> SortParams | None:
    if not keys:
        return None
    return SortParams(
        sort=[
            SortKey(
                field=key.lstrip("-"),
                direction=SortDirection.desc if key.startswith("-") else SortDirection.asc,
            )
            for key in keys
        ]
    )


ORDERS = [(), ("name",), ("-name",), ("rank",), ("-rank", "name"), ("rank", "-created_at")]


@pytest.mark.parametrize("keys", ORDERS, ids=lambda keys: ",".join(keys) or "id")
@pytest.mark.parametrize("per_page", [1, 3, 5])
async def test_walking_every_order_in_sql_matches_memory(
    settings: DatabaseSettings, schema: str, keys: tuple[str, ...], per_page: int
) -> None:
    table = sql.Identifier(schema, "rows")
    async with Database(settings) as db:
        await db.execute(
            sql.SQL(
                "CREATE TABLE {} (id BIGINT PRIMARY KEY, name TEXT NOT NULL,"
                " created_at TIMESTAMPTZ NOT NULL, rank INTEGER)"
            ).format(table)
        )
        for row in ROWS:
            await db.execute(
                sql.SQL("INSERT INTO {} VALUES (%s, %s, %s, %s)").format(table),
                [row.id, row.name, row.created_at, row.rank],
            )
        keyset = Keyset(order(*keys), model=Row, secret="k")
        page = PaginationParams(per_page=per_page)
        seen: list[int] = []
        while True:
            where, params = keyset_condition(
                keyset, keyset.after(page), column=column, sort_value=sort_value
            )
            rows = await db.fetch_all(
                sql.SQL("SELECT * FROM {} WHERE {} ORDER BY {} LIMIT %s").format(
                    table, where, keyset_order(keyset, column=column)
                ),
                [*params, per_page + 1],
                model=Row,
            )
            result = keyset.page(rows, page)
            seen.extend(row.id for row in result.items)
            if result.pagination.next_page_token is None:
                break
            page = PaginationParams(per_page=per_page, page_token=result.pagination.next_page_token)
    everything = paginate(
        ROWS, PaginationParams(per_page=100), keyset=keyset, sort_value=sort_value
    )
    assert seen == [row.id for row in everything.items]
    assert sorted(seen) == [row.id for row in ROWS]


def test_a_position_must_have_a_value_per_key() -> None:
    keyset = Keyset(order("name"), model=Row)
    with pytest.raises(ValueError, match="has 2 values"):
        keyset_condition(keyset, ("web",))
