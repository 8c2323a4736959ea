"""Logging never raises: any value a caller passes renders to one JSON line (hypothesis)."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import io
import logging
import uuid
from typing import Any, NamedTuple

import pytest
import structlog
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opsconductor_shared import get_logger, setup_service_logging
from opsconductor_shared._context import TraceContext
from opsconductor_shared.testing import CapturedLogs
from pydantic import BaseModel


class Point(NamedTuple):
    x: int
    y: int


@dataclasses.dataclass
class Settings:
    host: str
    port: int


class Model(BaseModel):
    name: str
    size: int


class Colour(enum.Enum):
    RED = "red"


class BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("repr refuses")

    def __str__(self) -> str:
        raise RuntimeError("str refuses")


class BadIteration(list[int]):
    def __iter__(self) -> Any:
        raise RuntimeError("iteration refuses")


def _recursive_list() -> list[Any]:
    value: list[Any] = [1]
    value.append(value)
    return value


def _recursive_dict() -> dict[str, Any]:
    value: dict[str, Any] = {"a": 1}
    value["self"] = value
    return value


# Values are drawn by name and built inside the test: hypothesis shows a failing example with
# repr(), which some of these values refuse.
ODD_VALUES: dict[str, Any] = {
    "trace_context": lambda: TraceContext("0" * 31 + "1", "0" * 15 + "1"),
    "named_tuple": lambda: Point(1, 2),
    "dataclass": lambda: Settings("db", 5432),
    "dataclass_class": lambda: Settings,
    "pydantic_model": lambda: Model(name="n", size=1),
    "bytes": lambda: b"\xff\xfe bytes",
    "bytearray": lambda: bytearray(b"abc"),
    "set": lambda: {1, 2, 3},
    "frozenset": lambda: frozenset({"a"}),
    "enum": lambda: Colour.RED,
    "datetime": lambda: datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
    "date": lambda: datetime.date(2026, 1, 1),
    "decimal": lambda: decimal.Decimal("1.5"),
    "uuid": lambda: uuid.UUID(int=1),
    "bad_repr": BadRepr,
    "bad_iteration": lambda: BadIteration([1]),
    "nan": lambda: float("nan"),
    "inf": lambda: float("inf"),
    "huge_int": lambda: 10**40,
    "surrogate": lambda: "\x00\ud800 lone surrogate",
    "object": object,
    "type": lambda: type,
    "ellipsis": lambda: ...,
    "recursive_list": _recursive_list,
    "recursive_dict": _recursive_dict,
    "odd_keys": lambda: {(1, 2): "t", None: "n", 3.5: "f", BadRepr(): "b", b"k": "bytes"},
    "exception": lambda: RuntimeError("an exception as a value"),
}
TREES = st.recursive(
    st.sampled_from(sorted(ODD_VALUES)) | st.integers() | st.none(),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


def _build(tree: Any) -> Any:
    if isinstance(tree, str):
        return ODD_VALUES[tree]()
    if isinstance(tree, list | tuple):
        return type(tree)(_build(item) for item in tree)
    if isinstance(tree, dict):
        return {key: _build(item) for key, item in tree.items()}
    return tree


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=TREES, method=st.sampled_from(["debug", "info", "warning", "error", "exception"]))
def test_any_value_renders_to_one_json_line(
    captured_logs: CapturedLogs, tree: Any, method: str
) -> None:
    captured_logs.clear()
    value = _build(tree)
    getattr(get_logger("tests.render"), method)("odd_value", value=value, nested={"v": [value]})
    (line,) = captured_logs.lines
    assert line["event"] == "odd_value"
    assert "value" in line


def test_a_trace_context_renders_with_its_field_names(captured_logs: CapturedLogs) -> None:
    trace = TraceContext("0" * 31 + "1", "0" * 15 + "2")
    get_logger("tests.render").info("traced", trace=trace)
    (line,) = captured_logs.lines
    assert line["trace"]["trace_id"] == trace.trace_id
    assert line["trace"]["span_id"] == trace.span_id


def test_a_value_that_cannot_be_shown_says_so(captured_logs: CapturedLogs) -> None:
    get_logger("tests.render").info("bad", value=BadRepr())
    (line,) = captured_logs.lines
    assert "BadRepr" in line["value"]


@pytest.mark.parametrize("json", [True, False])
def test_the_console_format_never_raises_either(json: bool) -> None:
    stream = io.StringIO()
    setup_service_logging("render", json=json, stream=stream)
    try:
        log = structlog.get_logger("tests.render")
        log.info("odd", value=BadRepr(), loop=_recursive_list(), trace=Point(1, 2))
        assert "odd" in stream.getvalue()
    finally:
        setup_service_logging("render", json=True)


def test_uvicorns_color_message_never_reaches_a_json_line(captured_logs: CapturedLogs) -> None:
    coloured = "Started server process [\x1b[36m%d\x1b[0m]"
    logging.getLogger("uvicorn.error").info(
        "Started server process [%d]", 42, extra={"color_message": coloured}
    )
    (line,) = captured_logs.lines
    assert line["event"] == "Started server process [42]"
    assert "color_message" not in line
    assert "\x1b" not in captured_logs.text()
    assert "\\u001b" not in captured_logs.text()
