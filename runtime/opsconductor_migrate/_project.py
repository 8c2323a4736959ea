"""What the codemod learns about a whole service before it rewrites any file of it.

Some rewrites need more than the file at hand: `install_auth(app)` goes where the app is made
but is needed because another module uses the auth dependencies; a list endpoint's item type
is in a response model declared in another module; whether a `POST` answering 200 is the odd
one out depends on the other routes. `scan_project` reads every module once for that.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import libcst as cst
import libcst.matchers as m

from ._syntax import int_literal

__all__ = ["ListModel", "ManualStep", "ProjectInfo", "scan_project"]


@dataclass(frozen=True, order=True)
class ManualStep:
    """Something the codemod left as it was, and what to do about it.

    Rendered as `path:line: what — step`.
    """

    path: str
    line: int
    what: str
    step: str

    def render(self) -> str:
        return f"{self.path}:{self.line}: {self.what} — {self.step}"


@dataclass(frozen=True)
class ListModel:
    """An old list response model: `class TargetList: targets: List[Target]; total: int`."""

    items_field: str
    item_type: str


@dataclass
class ProjectInfo:
    """Facts about the whole service (see the module docstring)."""

    uses_auth: bool = False
    creates_with_201: bool = False
    list_models: dict[str, ListModel] = field(default_factory=dict)


_LIST_TYPES = frozenset({"List", "list", "Sequence"})


def _old_module(node: cst.Import | cst.ImportFrom) -> list[str]:
    if isinstance(node, cst.Import):
        return [cst.Module([]).code_for_node(alias.name) for alias in node.names]
    if node.relative or node.module is None:
        return []
    return [cst.Module([]).code_for_node(node.module)]


def _list_model(node: cst.ClassDef) -> ListModel | None:
    fields: dict[str, cst.BaseExpression] = {}
    for statement in node.body.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                fields[small.target.value] = small.annotation.annotation
    if "total" not in fields or len(fields) != 2:
        return None
    if not m.matches(fields.pop("total"), m.Name("int")):
        return None
    ((name, annotation),) = fields.items()
    if (
        isinstance(annotation, cst.Subscript)
        and isinstance(annotation.value, cst.Name)
        and annotation.value.value in _LIST_TYPES
        and len(annotation.slice) == 1
        and isinstance(annotation.slice[0].slice, cst.Index)
        and isinstance(annotation.slice[0].slice.value, cst.Name)
    ):
        return ListModel(name, annotation.slice[0].slice.value.value)
    return None


class _Scanner(cst.CSTVisitor):
    def __init__(self, info: ProjectInfo, seen: dict[str, ListModel | None]) -> None:
        self.info = info
        self.seen = seen

    def visit_Import(self, node: cst.Import) -> None:
        self._imports(node)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self._imports(node)

    def _imports(self, node: cst.Import | cst.ImportFrom) -> None:
        for module in _old_module(node):
            if module == "shared.auth" or (
                module == "shared"
                and isinstance(node, cst.ImportFrom)
                and not isinstance(node.names, cst.ImportStar)
                and any(m.matches(alias.name, m.Name("auth")) for alias in node.names)
            ):
                self.info.uses_auth = True

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        model = _list_model(node)
        if model is None:
            return
        name = node.name.value
        # A name declared twice with different shapes is ambiguous: neither is used.
        self.seen[name] = model if self.seen.get(name, model) == model else None

    def visit_Decorator(self, node: cst.Decorator) -> None:
        call = node.decorator
        if not (
            isinstance(call, cst.Call)
            and isinstance(call.func, cst.Attribute)
            and call.func.attr.value == "post"
        ):
            return
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value == "status_code":
                value = arg.value
                if int_literal(value) == 201 or (
                    isinstance(value, cst.Attribute) and value.attr.value.startswith("HTTP_201_")
                ):
                    self.info.creates_with_201 = True


def scan_project(modules: Iterable[cst.Module]) -> ProjectInfo:
    """The facts about a service made of `modules` (see the module docstring)."""
    info = ProjectInfo()
    seen: dict[str, ListModel | None] = {}
    for module in modules:
        module.visit(_Scanner(info, seen))
    info.list_models = {name: model for name, model in seen.items() if model is not None}
    return info
