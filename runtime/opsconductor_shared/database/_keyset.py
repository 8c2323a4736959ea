"""Keyset paging in SQL: the `ORDER BY` of a `Keyset` and the condition for the rows after
its cursor, NULL-safe and in PostgreSQL's default NULL order.

    keyset = Keyset(order, model=Target, default="name", secret=secret)
    after = keyset.after(page)                                 # None on the first page
    where, params = keyset_condition(keyset, after)
    rows = await db.fetch_all(
        sql.SQL("SELECT ... FROM targets WHERE {} ORDER BY {} LIMIT %s").format(
            where, keyset_order(keyset)
        ),
        [*params, page.per_page + 1],
        model=Target,
    )
    return keyset.page(rows, page, total_items=total)

The condition is the expansion of "the key tuple comes after the cursor's" that an index on
the key columns serves: `(k1 > v1) OR (k1 = v1 AND k2 > v2) OR ...`, with `<` for a
descending key. NULLs sort as PostgreSQL sorts them by default, and as `paginate` sorts them
in memory: after every value in an ascending key, before them in a descending one. `column`
maps a field to its SQL expression (`lower(name)` for case-insensitive text) and
`sort_value` maps a cursor value the same way (`str.lower`), so the two agree.
psycopg is imported when these are called, not when the package is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .._paging import Keyset, SortValue

if TYPE_CHECKING:
    from psycopg import sql

__all__ = ["keyset_condition", "keyset_order"]

Column = Callable[[str], "sql.Composable"]


def _identifier(field: str) -> sql.Composable:
    from psycopg import sql  # noqa: PLC0415 - the postgres extra, imported on use

    return sql.Identifier(field)


def _same(_: str, value: Any) -> Any:
    return value


def keyset_order(keyset: Keyset, *, column: Column = _identifier) -> sql.Composable:
    """`k1 ASC, k2 DESC, ..., id ASC`: the keyset's order as an `ORDER BY` list."""
    from psycopg import sql  # noqa: PLC0415

    return sql.SQL(", ").join(
        sql.SQL("{} {}").format(column(field), sql.SQL("DESC" if descending else "ASC"))
        for field, descending in keyset.keys
    )


def keyset_condition(
    keyset: Keyset,
    after: Sequence[Any] | None,
    *,
    column: Column = _identifier,
    sort_value: SortValue = _same,
) -> tuple[sql.Composable, list[Any]]:
    """The condition for the rows after `after` (from `Keyset.after`) and its parameters;
    `TRUE` and none when `after` is None (the first page).

    Raises:
        ValueError: `after` has not one value per key.
    """
    from psycopg import sql  # noqa: PLC0415

    if after is None:
        return sql.SQL("TRUE"), []
    if len(after) != len(keyset.keys):
        raise ValueError(f"a position of {keyset.signature} has {len(keyset.keys)} values")
    alternatives: list[sql.Composable] = []
    params: list[Any] = []
    for index, (field, descending) in enumerate(keyset.keys):
        parts: list[sql.Composable] = []
        part_params: list[Any] = []
        for (equal_field, _), value in zip(keyset.keys[:index], after[:index], strict=True):
            if value is None:
                parts.append(sql.SQL("{} IS NULL").format(column(equal_field)))
            else:
                parts.append(sql.SQL("{} = %s").format(column(equal_field)))
                part_params.append(sort_value(equal_field, value))
        value = after[index]
        expression = column(field)
        if value is None:
            if not descending:
                continue  # nothing sorts after NULL in an ascending key
            parts.append(sql.SQL("{} IS NOT NULL").format(expression))
        elif descending:
            parts.append(sql.SQL("{} < %s").format(expression))
            part_params.append(sort_value(field, value))
        else:
            parts.append(sql.SQL("({} > %s OR {} IS NULL)").format(expression, expression))
            part_params.append(sort_value(field, value))
        alternatives.append(sql.SQL("(") + sql.SQL(" AND ").join(parts) + sql.SQL(")"))
        params.extend(part_params)
    if not alternatives:
        return sql.SQL("FALSE"), []
    return sql.SQL("(") + sql.SQL(" OR ").join(alternatives) + sql.SQL(")"), params
