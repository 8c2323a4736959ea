"""`handle_database_error`: every driver error mapped by SQLSTATE, nothing internal in the body.

The real-server half (each SQLSTATE class produced by PostgreSQL) is in test_errors_postgres.
"""

from __future__ import annotations

import inspect
from types import SimpleNamespace
from typing import Any

import psycopg
import psycopg.errors
import psycopg_pool
import pytest
from opsconductor_shared import ConflictError, StandardHTTPException
from opsconductor_shared.database import (
    handle_database_error,
    is_retryable,
    sqlstate_of,
)

SECRET = "SELECT secret_column FROM secret_table WHERE password = 'hunter2'"


def expected(
    sqlstate: str | None, *, primary: str = "", names: set[str] = frozenset()
) -> tuple[int, str]:  # type: ignore[assignment]
    """The issue's table, written out independently of the implementation."""
    if sqlstate is None:
        if "OperationalError" in names and "PipelineAborted" not in names:
            return 503, "SERVICE_UNAVAILABLE"
        if names & {"PoolTimeout", "TooManyRequests", "PoolClosed", "PoolError"}:
            return 503, "SERVICE_UNAVAILABLE"
        if "DataError" in names:
            return 422, "VALIDATION_ERROR"
        return 500, "DATABASE_ERROR"
    if sqlstate in {"23505", "23P01", "40001", "55P03"}:
        return 409, "CONFLICT"
    if sqlstate == "23503":
        return (
            (422, "VALIDATION_ERROR")
            if primary.startswith("insert or update")
            else (409, "CONFLICT")
        )
    if sqlstate in {"23502", "23514"} or sqlstate.startswith("22"):
        return 422, "VALIDATION_ERROR"
    if sqlstate == "57014":
        return 504, "UPSTREAM_TIMEOUT"
    if sqlstate.startswith("08") or sqlstate in {
        "57P01",
        "57P02",
        "57P03",
        "53300",
        "25006",
        "40P01",
    }:
        return 503, "SERVICE_UNAVAILABLE"
    return 500, "DATABASE_ERROR"


def body(error: StandardHTTPException) -> str:
    return error.to_problem(request_id="req-1", instance="/things").model_dump_json()


def psycopg_error_classes() -> list[type[psycopg.Error]]:
    classes = {psycopg.Error}
    for module in (psycopg, psycopg.errors, psycopg_pool):
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, psycopg.Error):
                classes.add(value)
    found: set[type[psycopg.Error]] = set()
    pending = list(classes)
    while pending:
        cls = pending.pop()
        if cls not in found:
            found.add(cls)
            pending.extend(cls.__subclasses__())
    return sorted(found, key=lambda cls: (cls.__module__, cls.__qualname__))


ALL_PSYCOPG_ERRORS = psycopg_error_classes()


def test_every_psycopg_error_class_is_collected() -> None:
    # Guards the test below against silently testing nothing: psycopg has one class per
    # SQLSTATE (over 250) plus the DB-API classes and the pool's.
    assert len(ALL_PSYCOPG_ERRORS) > 250
    assert psycopg_pool.PoolTimeout in ALL_PSYCOPG_ERRORS
    assert psycopg.errors.UniqueViolation in ALL_PSYCOPG_ERRORS


@pytest.mark.parametrize("cls", ALL_PSYCOPG_ERRORS, ids=lambda cls: cls.__qualname__)
def test_every_psycopg_error_is_mapped(cls: type[psycopg.Error]) -> None:
    exc = cls(SECRET)
    mapped = handle_database_error(exc)
    names = {base.__name__ for base in cls.__mro__}
    assert (mapped.status, mapped.code) == expected(cls.sqlstate, names=names)
    assert "secret" not in body(mapped).lower()
    assert mapped.metadata["db_message"] == SECRET
    assert mapped.metadata["sqlstate"] == cls.sqlstate
    if mapped.status == 503:
        assert mapped.headers["Retry-After"] == "1"


class Diag(SimpleNamespace):
    """psycopg2's and psycopg 3's `exc.diag`: every field may be missing."""

    def __getattr__(self, name: str) -> Any:
        return None


def psycopg2_error(
    class_name: str, pgcode: str | None, *, bases: tuple[str, ...] = ("Error",), **diag: str
) -> Exception:
    """An exception shaped like psycopg2's (`pgcode`, `pgerror`, `diag`), without psycopg2."""
    base = type("Error", (Exception,), {"__module__": "psycopg2"})
    for name in bases[1:]:
        base = type(name, (base,), {"__module__": "psycopg2"})
    cls = type(class_name, (base,), {"__module__": "psycopg2.errors"})
    exc = cls(SECRET)
    exc.pgcode = pgcode  # type: ignore[attr-defined]
    exc.pgerror = SECRET  # type: ignore[attr-defined]
    exc.diag = Diag(**diag)  # type: ignore[attr-defined]
    return exc


PSYCOPG2_CASES = [
    ("UniqueViolation", "23505", {}, 409),
    ("ExclusionViolation", "23P01", {}, 409),
    ("ForeignKeyViolation", "23503", {"message_primary": 'insert or update on table "t"'}, 422),
    ("ForeignKeyViolation", "23503", {"message_primary": 'update or delete on table "t"'}, 409),
    ("ForeignKeyViolation", "23503", {"message_primary": "Einfügen oder Aktualisieren"}, 409),
    ("NotNullViolation", "23502", {"column_name": "name"}, 422),
    ("CheckViolation", "23514", {}, 422),
    ("InvalidTextRepresentation", "22P02", {}, 422),
    ("StringDataRightTruncation", "22001", {}, 422),
    ("DivisionByZero", "22012", {}, 422),
    ("SerializationFailure", "40001", {}, 409),
    ("DeadlockDetected", "40P01", {}, 503),
    ("LockNotAvailable", "55P03", {}, 409),
    ("QueryCanceled", "57014", {}, 504),
    ("ConnectionFailure", "08006", {}, 503),
    ("AdminShutdown", "57P01", {}, 503),
    ("CrashShutdown", "57P02", {}, 503),
    ("CannotConnectNow", "57P03", {}, 503),
    ("TooManyConnections", "53300", {}, 503),
    ("ReadOnlySqlTransaction", "25006", {}, 503),
    ("UndefinedTable", "42P01", {}, 500),
    ("InvalidPassword", "28P01", {}, 500),
    ("InsufficientPrivilege", "42501", {}, 500),
    ("RaiseException", "P0001", {}, 500),
]


@pytest.mark.parametrize(("name", "pgcode", "diag", "status"), PSYCOPG2_CASES)
def test_psycopg2_errors_map_by_pgcode(
    name: str, pgcode: str, diag: dict[str, str], status: int
) -> None:
    exc = psycopg2_error(name, pgcode, **diag)
    mapped = handle_database_error(exc)
    assert (mapped.status, mapped.code) == expected(pgcode, primary=diag.get("message_primary", ""))
    assert mapped.status == status
    assert mapped.metadata["db_driver"] == "psycopg2"
    assert "secret" not in body(mapped).lower()


@pytest.mark.parametrize(
    ("name", "bases", "status"),
    [
        ("OperationalError", ("Error", "DatabaseError"), 503),  # refused, lost: no pgcode
        ("PoolError", ("Error",), 503),  # psycopg2.pool: "connection pool exhausted"
        ("InterfaceError", ("Error",), 500),
        ("DataError", ("Error", "DatabaseError"), 422),
        ("ProgrammingError", ("Error", "DatabaseError"), 500),
    ],
)
def test_psycopg2_errors_without_pgcode(name: str, bases: tuple[str, ...], status: int) -> None:
    mapped = handle_database_error(psycopg2_error(name, None, bases=bases))
    assert mapped.status == status


def test_asyncpg_shaped_errors_map_by_sqlstate() -> None:
    exc = Exception(SECRET)
    exc.sqlstate = "23505"  # type: ignore[attr-defined]
    exc.message = "duplicate key value violates unique constraint"  # type: ignore[attr-defined]
    exc.constraint_name = "users_email_key"  # type: ignore[attr-defined]
    mapped = handle_database_error(exc, fields={"users_email_key": "email"})
    assert mapped.status == 409
    assert [error.field for error in mapped.errors] == ["email"]


def test_unique_violation_names_the_column_but_never_the_value() -> None:
    exc = psycopg2_error(
        "UniqueViolation",
        "23505",
        message_primary='duplicate key value violates unique constraint "users_email_key"',
        message_detail="Key (email)=(bob@example.com) already exists.",
        constraint_name="users_email_key",
        table_name="users",
    )
    mapped = handle_database_error(exc)
    assert isinstance(mapped, ConflictError)
    [error] = mapped.errors
    assert (error.pointer, error.field, error.code) == ("/body/email", "email", "unique")
    text = body(mapped)
    for leak in ("bob@example.com", "users_email_key", "users", "duplicate key", "Key ("):
        assert leak not in text
    assert mapped.metadata["db_message_detail"] == "Key (email)=(bob@example.com) already exists."
    assert mapped.metadata["db_constraint_name"] == "users_email_key"


def test_multi_column_key_lists_every_column() -> None:
    exc = psycopg2_error(
        "UniqueViolation", "23505", message_detail="Key (tenant_id, name)=(1, x) already exists."
    )
    assert [e.field for e in handle_database_error(exc).errors] == ["tenant_id", "name"]


def test_expression_keys_are_not_shown() -> None:
    # An expression index would put SQL in the field: only plain identifiers are shown.
    exc = psycopg2_error(
        "UniqueViolation", "23505", message_detail="Key (lower(email::text))=(x) already exists."
    )
    assert handle_database_error(exc).errors == []


def test_fields_map_constraints_to_public_names() -> None:
    exc = psycopg2_error("CheckViolation", "23514", constraint_name="orders_qty_positive")
    mapped = handle_database_error(exc, fields={"orders_qty_positive": "quantity"})
    assert [(e.field, e.code) for e in mapped.errors] == [("quantity", "check")]
    assert handle_database_error(exc).errors == []


def test_not_null_names_the_column() -> None:
    exc = psycopg2_error("NotNullViolation", "23502", column_name="name", table_name="targets")
    [error] = handle_database_error(exc).errors
    assert (error.field, error.code) == ("name", "missing")


def test_retry_after_is_configurable() -> None:
    mapped = handle_database_error(psycopg_pool.PoolTimeout("no connection"), retry_after=7)
    assert (mapped.status, mapped.headers["Retry-After"]) == (503, "7")


def test_library_errors_pass_through() -> None:
    error = ConflictError("already there")
    assert handle_database_error(error) is error


def test_operation_goes_to_the_log_only() -> None:
    mapped = handle_database_error(psycopg.errors.UndefinedTable(SECRET), operation="list_targets")
    assert mapped.metadata["db_operation"] == "list_targets"
    assert "list_targets" not in body(mapped)


@pytest.mark.parametrize(
    ("exc", "state"),
    [
        (psycopg.errors.SerializationFailure(), "40001"),
        (psycopg2_error("X", "40P01"), "40P01"),
        (psycopg2_error("X", None), None),
        (psycopg2_error("X", "not-a-state"), None),
        (ValueError("x"), None),
    ],
)
def test_sqlstate_of(exc: BaseException, state: str | None) -> None:
    assert sqlstate_of(exc) == state


def test_is_retryable() -> None:
    assert is_retryable(psycopg.errors.SerializationFailure())
    assert is_retryable(psycopg.errors.DeadlockDetected())
    assert not is_retryable(psycopg.errors.UniqueViolation())
    assert not is_retryable(psycopg.OperationalError())
