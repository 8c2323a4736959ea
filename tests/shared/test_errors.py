"""The exception hierarchy: every status comes from `x-status` in schemas/errors.yaml."""

from __future__ import annotations

import inspect
from http import HTTPStatus

import opsconductor_shared
import pytest
import yaml
from opsconductor_contracts import ERROR_STATUS, ErrorCode
from opsconductor_shared import StandardHTTPException
from opsconductor_shared._errors import code_for_status, retry_after_header

from tests.conftest import SCHEMAS

SCHEMA_STATUSES = yaml.safe_load((SCHEMAS / "errors.yaml").read_text())["components"]["schemas"][
    "ErrorCode"
]["x-status"]

EXCEPTIONS = sorted(
    (
        cls
        for _, cls in inspect.getmembers(opsconductor_shared, inspect.isclass)
        if issubclass(cls, StandardHTTPException)
    ),
    key=lambda cls: cls.__name__,
)


def test_the_generated_table_is_the_schema() -> None:
    assert {str(code): status for code, status in ERROR_STATUS.items()} == SCHEMA_STATUSES
    assert list(ERROR_STATUS) == list(ErrorCode)  # one entry per code, in the enum's order


@pytest.mark.parametrize("cls", EXCEPTIONS, ids=lambda cls: cls.__name__)
def test_every_exception_class_takes_its_status_from_the_table(
    cls: type[StandardHTTPException],
) -> None:
    assert cls.default_status == SCHEMA_STATUSES[str(cls.default_code)]
    error = cls("x") if cls.__name__ != "NotFoundError" else cls("Thing", 1)
    assert (error.status, error.code) == (SCHEMA_STATUSES[error.code], error.code)


def test_the_hierarchy_covers_the_codes_it_names() -> None:
    # Every class of the library's own names a standard code; the service-specific ones are
    # what `default_code` on a subclass is for.
    assert {str(cls.default_code) for cls in EXCEPTIONS} <= set(SCHEMA_STATUSES)
    assert len(EXCEPTIONS) >= 13


def test_a_code_alone_gives_its_status() -> None:
    error = StandardHTTPException("busy", code=ErrorCode.SERVICE_UNAVAILABLE)
    assert error.status == SCHEMA_STATUSES["SERVICE_UNAVAILABLE"]


def test_a_status_that_disagrees_with_the_code_is_refused() -> None:
    with pytest.raises(ValueError, match=r"the status of NOT_FOUND is 404"):
        StandardHTTPException("x", status=500, code="NOT_FOUND")


def test_a_subclass_cannot_give_a_standard_code_another_status() -> None:
    with pytest.raises(TypeError, match=r"the status of CONFLICT is 409"):

        class Wrong(StandardHTTPException):  # pyright: ignore[reportUnusedClass]
            default_code = ErrorCode.CONFLICT
            default_status = 400


def test_a_domain_code_keeps_its_parents_status() -> None:
    class TargetLockedError(opsconductor_shared.ConflictError):
        default_code = "TARGET_LOCKED"

    error = TargetLockedError("The target is locked by a running job.")
    assert (error.status, error.code) == (409, "TARGET_LOCKED")


@pytest.mark.parametrize("status", sorted({*SCHEMA_STATUSES.values(), 418, 451, 599}))
def test_status_to_code_reads_the_same_table(status: int) -> None:
    code = code_for_status(status)
    listed = [c for c, s in SCHEMA_STATUSES.items() if s == status]
    if listed:
        assert code == listed[0]  # the first listed is the status's own (INTERNAL_ERROR for 500)
    else:
        assert code == (HTTPStatus(status).name if status != 599 else "INTERNAL_ERROR")


@pytest.mark.parametrize(
    ("seconds", "header"), [(0, "1"), (0.01, "1"), (1, "1"), (1.2, "2"), (29.5, "30")]
)
def test_retry_after_is_rounded_up_to_whole_seconds_at_least_one(
    seconds: float, header: str
) -> None:
    assert retry_after_header(seconds) == header
    assert (
        opsconductor_shared.RateLimitedError(retry_after=seconds).headers["Retry-After"] == header
    )
