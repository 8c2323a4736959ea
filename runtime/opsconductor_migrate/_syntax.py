"""Small libcst helpers the rewrites share: building arguments, reading literals, ranges."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

import libcst as cst
from libcst.metadata import CodeRange

__all__ = [
    "LINE_LENGTH",
    "WrapLongImports",
    "code",
    "contains",
    "docstring_offset",
    "fitted_call",
    "int_literal",
    "is_plain_string",
    "kwarg",
    "string_value",
    "with_commas_of",
]

_NO_SPACE = cst.SimpleWhitespace("")
_ItemT = TypeVar("_ItemT", cst.Arg, cst.Param)


def code(node: cst.CSTNode) -> str:
    """The source text of `node`."""
    return cst.Module([]).code_for_node(node)


def kwarg(name: str, value: cst.BaseExpression) -> cst.Arg:
    """`name=value`, formatted as PEP 8 wants a keyword argument."""
    return cst.Arg(
        value=value,
        keyword=cst.Name(name),
        equal=cst.AssignEqual(whitespace_before=_NO_SPACE, whitespace_after=_NO_SPACE),
    )


def string_value(node: cst.BaseExpression | None) -> str | None:
    """The value of a plain string literal (no f-string, no concatenation), else None."""
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def is_plain_string(node: cst.BaseExpression) -> bool:
    """A string literal without interpolation: text a developer wrote, safe to show."""
    if isinstance(node, cst.SimpleString):
        return True
    if isinstance(node, cst.ConcatenatedString):
        return is_plain_string(node.left) and is_plain_string(node.right)
    return False


def int_literal(node: cst.BaseExpression | None) -> int | None:
    """The value of an integer literal, else None."""
    if isinstance(node, cst.Integer):
        value = node.evaluated_value
        return value if isinstance(value, int) else None
    return None


def contains(outer: CodeRange, inner: CodeRange) -> bool:
    """Whether `inner` lies within `outer`."""
    return (outer.start.line, outer.start.column) <= (inner.start.line, inner.start.column) and (
        inner.end.line,
        inner.end.column,
    ) <= (outer.end.line, outer.end.column)


def with_commas_of(items: Sequence[_ItemT], layout: Sequence[_ItemT]) -> list[_ItemT]:
    """`items` with the commas of `layout`, position by position, so a moved or removed item
    keeps the surrounding layout (one per line stays one per line; a trailing comma stays)."""
    if not layout:
        return list(items)
    last = len(items) - 1
    result = []
    for index, item in enumerate(items):
        comma: cst.Comma | cst.MaybeSentinel
        if index == last:
            comma = layout[-1].comma
        elif index < len(layout) - 1:
            comma = layout[index].comma
        elif len(layout) >= 2:
            comma = layout[-2].comma
        else:
            comma = cst.MaybeSentinel.DEFAULT
        result.append(item.with_changes(comma=comma))
    return result


def docstring_offset(body: Iterable[cst.BaseStatement]) -> int:
    """1 when the block starts with a docstring, else 0."""
    for statement in body:
        if (
            isinstance(statement, cst.SimpleStatementLine)
            and len(statement.body) == 1
            and isinstance(statement.body[0], cst.Expr)
            and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
        ):
            return 1
        return 0
    return 0


LINE_LENGTH = 100


def fitted_call(callee: str, arguments: Sequence[str], column: int) -> cst.Call:
    """`callee(arguments)` on one line when it fits in LINE_LENGTH from `column`, else with
    the arguments on their own line (or one per line), as a formatter would lay it out."""
    joined = ", ".join(arguments)
    one_line = f"{callee}({joined})"
    if column + len(one_line) <= LINE_LENGTH and "\n" not in one_line:
        text = one_line
    elif column + 4 + len(joined) <= LINE_LENGTH and "\n" not in joined:
        text = f"{callee}(\n    {joined}\n)"
    else:
        text = f"{callee}(\n" + "".join(f"    {a},\n" for a in arguments) + ")"
    call = cst.parse_expression(text)
    assert isinstance(call, cst.Call)  # noqa: S101 - built as a call just above
    return call


class WrapLongImports(cst.CSTTransformer):
    """`from module import a, b, ...` of `modules` over LINE_LENGTH, one name per line."""

    def __init__(self, modules: Iterable[str]) -> None:
        self.modules = frozenset(modules)

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine:
        if len(updated_node.body) != 1 or not isinstance(updated_node.body[0], cst.ImportFrom):
            return updated_node
        node = updated_node.body[0]
        if (
            node.relative
            or node.module is None
            or code(node.module) not in self.modules
            or isinstance(node.names, cst.ImportStar)
            or node.lpar is not None
            or len(code(updated_node.with_changes(leading_lines=[])).rstrip()) <= LINE_LENGTH
        ):
            return updated_node
        names = "".join(
            f"    {code(alias.with_changes(comma=cst.MaybeSentinel.DEFAULT))},\n"
            for alias in node.names
        )
        wrapped = cst.parse_statement(f"from {code(node.module)} import (\n{names})\n")
        assert isinstance(wrapped, cst.SimpleStatementLine)  # noqa: S101
        return wrapped.with_changes(leading_lines=updated_node.leading_lines)
