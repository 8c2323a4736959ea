"""List endpoints: `skip`/`limit` answering `{"<plural>": [...], "total": n}` become pages.

    @router.get("/targets", response_model=TargetList)     # TargetList: targets: List[Target]; total: int
    async def list_targets(skip: int = 0, limit: int = Query(100, le=1000), ...):
        ...
        return {"targets": items, "total": total}

becomes

    @router.get("/targets", response_model=PaginatedResponse[Target])
    async def list_targets(page: PaginationQuery, ...):
        skip, limit = (page.page - 1) * page.per_page, page.per_page
        ...
        return PaginatedResponse[Target].from_offset(items, page=page.page, per_page=page.per_page, total_items=total)

The body keeps working on `skip` and `limit`, bound from the page at its top, so nothing else
in it changes. Only a handler whose every return is that dict, whose response model names the
item type, and whose `skip`/`limit` are plain parameters is rewritten; any other list endpoint
with `skip`/`limit` is left as it is, with a manual step saying what was not recognised.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst
from libcst.codemod.visitors import AddImportsVisitor
from libcst.metadata import ImportAssignment, ScopeProvider

from ._syntax import code, docstring_offset, fitted_call, int_literal, string_value
from ._tables import LIBRARY, QUERY, NewName

if TYPE_CHECKING:
    from ._rewrite import MigrationCommand

__all__ = ["PagePlan", "apply", "page_return", "plan"]

_PAGE_NAMES = ("page", "pagination", "paging")
_PAGE_STEP = (
    "declare `page: PaginationQuery`, answer PaginatedResponse[Item].from_offset(items, "
    "page=page.page, per_page=page.per_page, total_items=total) and set "
    "response_model=PaginatedResponse[Item]"
)


@dataclass
class PagePlan:
    """A list endpoint the codemod will rewrite, as the function visit found it."""

    function: str
    page: str
    items_field: str
    item_type: str
    skip: cst.Param
    limit: cst.Param
    returns: list[cst.Return]
    response_model: cst.Arg
    annotation: cst.Annotation | None
    item_import: tuple[str, int] | None  # (module, relative level) when the type needs one


class _Returns(cst.CSTVisitor):
    """The function's own returns, not those of functions or classes nested in it."""

    def __init__(self) -> None:
        self.found: list[cst.Return] = []

    def visit_Return(self, node: cst.Return) -> None:
        self.found.append(node)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False


def _route(node: cst.FunctionDef) -> cst.Call | None:
    for decorator in node.decorators:
        call = decorator.decorator
        if (
            isinstance(call, cst.Call)
            and isinstance(call.func, cst.Attribute)
            and call.func.attr.value == "get"
        ):
            return call
    return None


def _plain_int_param(command: MigrationCommand, param: cst.Param) -> bool:
    annotation = param.annotation.annotation if param.annotation is not None else None
    if annotation is not None and not (
        isinstance(annotation, cst.Name) and annotation.value == "int"
    ):
        return False
    default = param.default
    if int_literal(default) is not None:
        return True
    return isinstance(default, cst.Call) and command._qualified(default.func) in QUERY


def _answer_keys(ret: cst.Return) -> list[str] | None:
    value = ret.value
    if not isinstance(value, cst.Dict):
        return None
    keys: list[str] = []
    for element in value.elements:
        if not isinstance(element, cst.DictElement):
            return None
        key = string_value(element.key)
        if key is None:
            return None
        keys.append(key)
    return keys


def plan(command: MigrationCommand, node: cst.FunctionDef) -> PagePlan | None:
    """The rewrite of `node` if it is a list endpoint the codemod recognises (see the module
    docstring); None, with a manual step when it has `skip`/`limit` but is not recognised."""
    route = _route(node)
    params = {p.name.value: p for p in node.params.params}
    kwonly = {p.name.value for p in node.params.kwonly_params}
    if route is None or not ({"skip", "limit"} <= set(params) | kwonly):
        return None
    name = node.name.value

    def unrecognised(why: str) -> None:
        command._manual(node.name, f"list endpoint {name} ({why})", _PAGE_STEP)

    skip, limit = params.get("skip"), params.get("limit")
    if skip is None or limit is None:
        unrecognised("skip/limit are keyword-only")
        return None
    if not (_plain_int_param(command, skip) and _plain_int_param(command, limit)):
        unrecognised("skip/limit are not plain int query parameters")
        return None
    visitor = _Returns()
    node.body.visit(visitor)
    if not visitor.found:
        unrecognised("it returns nothing the codemod can see")
        return None
    plural: str | None = None
    for ret in visitor.found:
        keys = _answer_keys(ret)
        if keys is not None and set(keys) == {"data", "meta"}:
            unrecognised("answers the old {data, meta} page")
            return None
        if keys is None or len(keys) != 2 or "total" not in keys:
            unrecognised('an answer is not {"<items>": [...], "total": n}')
            return None
        (items,) = [k for k in keys if k != "total"]
        if plural not in (None, items):
            unrecognised("its answers name the items differently")
            return None
        plural = items
    assert plural is not None  # noqa: S101 - at least one return was checked
    response_model = next(
        (a for a in route.args if a.keyword is not None and a.keyword.value == "response_model"),
        None,
    )
    model_name = response_model.value if response_model is not None else None
    model = (
        command.project.list_models.get(model_name.value)
        if isinstance(model_name, cst.Name)
        else None
    )
    if response_model is None or model is None or model.items_field != plural:
        unrecognised(f"no response model declares {plural}: List[Item] and total: int")
        return None
    scope = command.get_metadata(ScopeProvider, node, None)
    body_scope = command.get_metadata(ScopeProvider, node.body, None)
    if scope is None or body_scope is None or model_name is None:
        return None
    item_import = _item_import(scope, model.item_type, model_name)
    if item_import is False:
        unrecognised(f"the item type {model.item_type} is not importable here")
        return None
    page = next(
        (
            candidate
            for candidate in _PAGE_NAMES
            if not body_scope.accesses[candidate] and not body_scope.assignments[candidate]
        ),
        None,
    )
    if page is None:
        unrecognised("page, pagination and paging are all taken")
        return None
    return PagePlan(
        function=name,
        page=page,
        items_field=plural,
        item_type=model.item_type,
        skip=skip,
        limit=limit,
        returns=visitor.found,
        response_model=response_model,
        annotation=node.returns,
        item_import=item_import if isinstance(item_import, tuple) else None,
    )


def _item_import(
    scope: cst.metadata.Scope, item_type: str, model: cst.BaseExpression
) -> tuple[str, int] | bool | None:
    """None: the type is bound in the module already; (module, level): import it from where
    the list model comes from; False: neither."""
    module_scope = scope.globals
    if module_scope.assignments[item_type]:
        return None
    assert isinstance(model, cst.Name)  # noqa: S101 - plan checked it
    for assignment in module_scope.assignments[model.value]:
        if isinstance(assignment, ImportAssignment) and isinstance(assignment.node, cst.ImportFrom):
            statement = assignment.node
            module = cst.Module([]).code_for_node(statement.module) if statement.module else ""
            if module:
                return module, len(statement.relative)
    return False


def _pages_type(command: MigrationCommand, plan: PagePlan) -> cst.Subscript:
    page_model = command._need(NewName(LIBRARY, "PaginatedResponse"))
    return cst.Subscript(page_model, [cst.SubscriptElement(cst.Index(cst.Name(plan.item_type)))])


def page_return(
    command: MigrationCommand, plan: PagePlan, original: cst.Return, updated: cst.Return
) -> cst.Return:
    """`return {"targets": items, "total": n}` as `PaginatedResponse[T].from_offset(...)`."""
    command._handle(original)
    command._drop(original)
    assert isinstance(updated.value, cst.Dict)  # noqa: S101 - plan checked the shape
    values = {
        string_value(e.key): e.value
        for e in updated.value.elements
        if isinstance(e, cst.DictElement)
    }
    page = plan.page
    callee = f"{code(_pages_type(command, plan))}.from_offset"
    arguments = [
        code(values[plan.items_field]),
        f"page={page}.page",
        f"per_page={page}.per_page",
        f"total_items={code(values['total'])}",
    ]
    column = command._range(original).start.column + len("return ")
    return updated.with_changes(value=fitted_call(callee, arguments, column))


def apply(
    command: MigrationCommand,
    plan: PagePlan,
    function: cst.FunctionDef,
    params: list[cst.Param],
) -> tuple[cst.FunctionDef, list[cst.Param]]:
    """The function with its page parameter, binding line, response model and annotation."""
    command._count("pagination")
    for node in (plan.skip, plan.limit, plan.response_model):
        command._handle(node)
        command._drop(node)
    if plan.item_import is not None:
        module, level = plan.item_import
        AddImportsVisitor.add_needed_import(command.context, module, plan.item_type, relative=level)
    query = command._need(NewName(LIBRARY, "PaginationQuery"))
    new_params: list[cst.Param] = []
    for param in params:
        if param.name.value == "skip":
            new_params.append(
                cst.Param(cst.Name(plan.page), cst.Annotation(query), comma=param.comma)
            )
        elif param.name.value != "limit":
            new_params.append(param)
    decorators = []
    for decorator in function.decorators:
        call = decorator.decorator
        if isinstance(call, cst.Call) and _route_has(call):
            args = [
                a.with_changes(value=_pages_type(command, plan))
                if a.keyword is not None and a.keyword.value == "response_model"
                else a
                for a in call.args
            ]
            decorators.append(decorator.with_changes(decorator=call.with_changes(args=args)))
        else:
            decorators.append(decorator)
    returns = function.returns
    if plan.annotation is not None:
        command._drop(plan.annotation)
    if returns is not None:
        returns = returns.with_changes(annotation=_pages_type(command, plan))
    binding = cst.parse_statement(
        f"skip, limit = ({plan.page}.page - 1) * {plan.page}.per_page, {plan.page}.per_page\n"
    )
    body = function.body
    if isinstance(body, cst.IndentedBlock):
        statements = list(body.body)
        at = docstring_offset(statements)
        statements.insert(at, binding)
        body = body.with_changes(body=statements)
    return (
        function.with_changes(decorators=decorators, returns=returns, body=body),
        new_params,
    )


def _route_has(call: cst.Call) -> bool:
    return (
        isinstance(call.func, cst.Attribute)
        and call.func.attr.value == "get"
        and any(a.keyword is not None and a.keyword.value == "response_model" for a in call.args)
    )
