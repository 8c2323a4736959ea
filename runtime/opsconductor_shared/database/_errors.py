"""`handle_database_error`: a driver exception as the library's HTTP error, by SQLSTATE.

Works for psycopg 3 (`sqlstate`), psycopg2 (`pgcode`) and asyncpg (`sqlstate`) alike, by
duck typing: no driver is imported here.

    SQLSTATE                                 status  code
    23505 unique, 23P01 exclusion            409     CONFLICT         errors[].field: column
    23503 foreign key, missing referent      422     VALIDATION_ERROR errors[].field: column
    23503 foreign key, still referenced      409     CONFLICT
    23502 not null, 23514 check, 22xxx data  422     VALIDATION_ERROR
    no SQLSTATE: DataError (a value the      422     VALIDATION_ERROR
      driver refuses to send, such as NUL)
    40001 serialization failure              409     CONFLICT         (after retries)
    40P01 deadlock                           503     SERVICE_UNAVAILABLE, Retry-After
    55P03 lock not available                 409     CONFLICT
    57014 statement timeout / cancel         504     UPSTREAM_TIMEOUT
    08xxx, 57P01-03, 53300, 25006            503     SERVICE_UNAVAILABLE, Retry-After
    no SQLSTATE: connection failures and     503     SERVICE_UNAVAILABLE, Retry-After
      pool timeout / full / closed
    everything else (42xxx, 28xxx, ...)      500     DATABASE_ERROR

The response never carries SQL, table, constraint, value or driver text. The one piece of
schema it may name is a column, as `errors[].field` (and `pointer` `/body/<field>`), and
only when it is a plain identifier; `fields` maps constraint names to the public field names
a service prefers. Everything the driver said goes to `metadata`, which only the log sees.
Telling the two foreign-key cases apart uses the server's English message (the default
`lc_messages`); with another language both are 409.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from opsconductor_contracts import ErrorCode, ErrorDetail

from .._errors import ConflictError, DatabaseError, StandardHTTPException, ValidationError
from ._settings import DEFAULT_RETRY_AFTER

__all__ = [
    "RETRYABLE_SQLSTATES",
    "UNAVAILABLE_SQLSTATES",
    "handle_database_error",
    "is_retryable",
    "sqlstate_of",
]

RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})
UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300", "25006", "40P01"})

_SQLSTATE = re.compile(r"^[0-9A-Z]{5}$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_KEY_COLUMNS = re.compile(r"^Key \((?P<columns>[^()]*)\)=\(")
# Driver-side failures without a SQLSTATE that mean "the database is not reachable now".
_UNAVAILABLE_CLASSES = frozenset(
    {"OperationalError", "PoolTimeout", "TooManyRequests", "PoolClosed", "PoolError"}
)
_NOT_UNAVAILABLE_CLASSES = frozenset({"PipelineAborted"})
# A value the driver cannot send (a NUL in text, a number out of its range): class 22, bad data.
_DATA_CLASSES = frozenset({"DataError"})
_DIAG_FIELDS = (
    "severity",
    "message_primary",
    "message_detail",
    "message_hint",
    "schema_name",
    "table_name",
    "column_name",
    "datatype_name",
    "constraint_name",
)

_UNAVAILABLE_DETAIL = "The database is temporarily unavailable. Retry later."


def sqlstate_of(exc: BaseException) -> str | None:
    """The SQLSTATE of a driver exception (`sqlstate` or psycopg2's `pgcode`), or None."""
    for attribute in ("sqlstate", "pgcode"):
        value = getattr(exc, attribute, None)
        if isinstance(value, str) and _SQLSTATE.match(value):
            return value
    return None


def is_retryable(exc: BaseException) -> bool:
    """Whether re-running the whole transaction may succeed (40001, 40P01)."""
    return sqlstate_of(exc) in RETRYABLE_SQLSTATES


def _class_names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def _diagnostics(exc: BaseException) -> dict[str, Any]:
    diag = getattr(exc, "diag", None)
    found: dict[str, Any] = {}
    for name in _DIAG_FIELDS:
        try:
            value = getattr(diag, name, None) if diag is not None else None
        except Exception:  # a diag of a closed result can fail to decode; the log goes on
            value = None
        if value is None and name == "message_primary":
            value = getattr(exc, "message", None)  # asyncpg
        if value is None and name == "constraint_name":
            value = getattr(exc, "constraint_name", None)  # asyncpg
        if value is not None:
            found[name] = str(value)
    return found


def _metadata(
    exc: BaseException, sqlstate: str | None, diag: Mapping[str, Any], operation: str | None
) -> dict[str, Any]:
    module = type(exc).__module__.split(".")[0]
    return {
        "sqlstate": sqlstate,
        "db_error": type(exc).__name__,
        "db_driver": module,
        "db_message": str(exc)[:2000],
        "db_operation": operation,
        **{f"db_{key}": value for key, value in diag.items()},
    }


def _fields(
    diag: Mapping[str, Any], fields: Mapping[str, str] | None, *, column_only: bool = False
) -> list[str]:
    constraint = diag.get("constraint_name")
    if fields and isinstance(constraint, str) and constraint in fields:
        return [fields[constraint]]
    names: list[str] = []
    if diag.get("column_name"):
        names = [diag["column_name"]]
    elif not column_only:
        match = _KEY_COLUMNS.match(diag.get("message_detail", ""))
        if match:
            names = [part.strip().strip('"') for part in match["columns"].split(",")]
    return [name for name in names if _IDENTIFIER.match(name)]


def _details(names: list[str], code: str, detail: str) -> list[ErrorDetail]:
    return [
        ErrorDetail(pointer=f"/body/{name}", field=name, code=code, detail=detail) for name in names
    ]


def _unavailable(retry_after: float, metadata: dict[str, Any]) -> DatabaseError:
    return DatabaseError(
        _UNAVAILABLE_DETAIL,
        code=ErrorCode.SERVICE_UNAVAILABLE,
        retry_after=retry_after,
        metadata=metadata,
    )


def _conflict(
    sqlstate: str,
    diag: Mapping[str, Any],
    fields: Mapping[str, str] | None,
    metadata: dict[str, Any],
) -> StandardHTTPException:
    if sqlstate == "23505":
        detail = "A resource with the same unique value already exists."
        return ConflictError(
            detail, errors=_details(_fields(diag, fields), "unique", detail), metadata=metadata
        )
    if sqlstate == "23P01":
        detail = "The change conflicts with an existing resource."
        return ConflictError(
            detail, errors=_details(_fields(diag, fields), "exclusion", detail), metadata=metadata
        )
    if sqlstate == "40001":
        detail = "The request conflicted with a concurrent change. Retry it."
    else:  # 55P03
        detail = "The resource is locked by another operation. Retry later."
    return ConflictError(detail, metadata=metadata)


def _foreign_key(
    diag: Mapping[str, Any], fields: Mapping[str, str] | None, metadata: dict[str, Any]
) -> StandardHTTPException:
    if str(diag.get("message_primary", "")).startswith("insert or update on table"):
        detail = "The request refers to a resource that does not exist."
        return ValidationError(
            detail, errors=_details(_fields(diag, fields), "not_found", detail), metadata=metadata
        )
    return ConflictError("The resource is still referenced by other resources.", metadata=metadata)


def _invalid(
    sqlstate: str,
    diag: Mapping[str, Any],
    fields: Mapping[str, str] | None,
    metadata: dict[str, Any],
) -> StandardHTTPException:
    if sqlstate == "23502":
        detail, code = "A required value is missing.", "missing"
    elif sqlstate == "23514":
        detail, code = "A value does not satisfy a validation rule.", "check"
    else:
        detail, code = "A value is not valid for its type or range.", "invalid"
    names = _fields(diag, fields, column_only=sqlstate != "23514")
    return ValidationError(detail, errors=_details(names, code, detail), metadata=metadata)


def handle_database_error(
    exc: BaseException,
    *,
    operation: str | None = None,
    fields: Mapping[str, str] | None = None,
    retry_after: float = DEFAULT_RETRY_AFTER,
) -> StandardHTTPException:
    """The HTTP error for a database exception (see the module docstring for the table).

    Use it as `raise handle_database_error(exc) from exc`; an exception of the library
    passes through unchanged.

    Args:
        exc: the driver's exception (psycopg 3, psycopg2, asyncpg, psycopg_pool).
        operation: what was being done, for the log.
        fields: constraint name -> public field name, for `errors[].field`.
        retry_after: `Retry-After` seconds of the 503 answers.
    """
    if isinstance(exc, StandardHTTPException):
        return exc
    sqlstate = sqlstate_of(exc)
    diag = _diagnostics(exc)
    metadata = _metadata(exc, sqlstate, diag, operation)
    if sqlstate is None:
        names = _class_names(exc)
        if names & _UNAVAILABLE_CLASSES and not names & _NOT_UNAVAILABLE_CLASSES:
            return _unavailable(retry_after, metadata)
        if names & _DATA_CLASSES:
            return _invalid("22000", diag, fields, metadata)
        return DatabaseError(metadata=metadata)
    if sqlstate in {"23505", "23P01", "40001", "55P03"}:
        return _conflict(sqlstate, diag, fields, metadata)
    if sqlstate == "23503":
        return _foreign_key(diag, fields, metadata)
    if sqlstate in {"23502", "23514"} or sqlstate.startswith("22"):
        return _invalid(sqlstate, diag, fields, metadata)
    if sqlstate == "57014":
        return DatabaseError(
            "The database did not answer in time.",
            code=ErrorCode.UPSTREAM_TIMEOUT,
            metadata=metadata,
        )
    if sqlstate.startswith("08") or sqlstate in UNAVAILABLE_SQLSTATES:
        return _unavailable(retry_after, metadata)
    return DatabaseError(metadata=metadata)
