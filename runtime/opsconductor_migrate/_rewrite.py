"""The rewrite of one module, as a libcst codemod driven by the tables in `_tables.py`.

    names        a reference to an old name becomes the library's name (RENAMES)
    calls        a call of an old callable has its arguments remapped (CALLS)
    exceptions   HTTPException / the old StandardHTTPException: status literal -> class
    app set-up   FastAPI(...) + add_standard_middleware + add_error_handlers +
                 setup_service_logging -> create_service_app(name, version), install_auth(app)
    auth         Depends(get_current_user) -> CurrentUser; require_role("x") -> Role.x;
                 the old user dict's keys -> Identity attributes
    pages        skip/limit list endpoints -> PaginationQuery and PaginatedResponse[T]
    envelope     return create_success_response(data=x) -> return x

Each rewrite works on the original node's metadata (qualified names resolve imports, aliases
and `import shared.errors` alike) and leaves a node it cannot rewrite safely as it is, with a
`ManualStep`. Imports follow the references: libcst's AddImportsVisitor adds what the new
code needs, RemoveImportsVisitor drops what became unused.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import libcst as cst
from libcst.codemod import CodemodContext, VisitorBasedCodemodCommand
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor
from libcst.metadata import (
    CodeRange,
    ImportAssignment,
    ParentNodeProvider,
    PositionProvider,
    QualifiedNameProvider,
    QualifiedNameSource,
    ScopeProvider,
)

from . import _pages as pages
from ._project import ManualStep, ProjectInfo
from ._syntax import (
    LINE_LENGTH,
    WrapLongImports,
    code,
    contains,
    fitted_call,
    int_literal,
    is_plain_string,
    kwarg,
    string_value,
    with_commas_of,
)
from ._tables import (
    APP_SETUP_CALLS,
    APP_SETUP_MIDDLEWARE,
    AUTH_DEPENDENCIES,
    CALLS,
    CONTRACTS,
    CORS_MIDDLEWARE,
    DEPENDS,
    EXCEPTION_ATTRIBUTES,
    FASTAPI_APP,
    HEALTH_PATHS,
    HTTP_EXCEPTIONS,
    IDENTITY_KEYS,
    IDENTITY_OPTIONAL_KEYS,
    LIBRARY,
    MANUAL,
    OLD_PACKAGE,
    RENAMES,
    REVIEW,
    ROLE_DEPENDENCIES,
    ROLES,
    STATUS_CLASSES,
    STATUS_CONSTANT_MODULES,
    SUCCESS_ENVELOPE,
    UNKNOWN_STEP,
    CallRule,
    NewName,
)

__all__ = ["MigrationCommand", "RewriteOutcome"]


class _LeaveAsIs(Exception):  # noqa: N818 - a control-flow signal, not an error
    """A rewrite found what it cannot do safely; the node stays, with this manual step."""

    def __init__(self, what: str, step: str) -> None:
        super().__init__(what)
        self.what = what
        self.step = step


@dataclass
class RewriteOutcome:
    """What one module's rewrite did: counts by kind, and the manual steps left."""

    rewrites: Counter[str] = field(default_factory=Counter)
    manual: list[ManualStep] = field(default_factory=list)


@dataclass
class _AuthParam:
    kind: str  # "user" (CurrentUser) or "identity" (Annotated[Identity, Depends(...)])
    original: cst.Param


@dataclass
class _Function:
    """What the visit of a function decided, applied when leaving it."""

    auth_params: dict[str, _AuthParam] = field(default_factory=dict)
    page: pages.PagePlan | None = None


class MigrationCommand(VisitorBasedCodemodCommand):
    """The codemod for one module (see the module docstring)."""

    DESCRIPTION = "Rewrite a service from the old `shared` package onto opsconductor-shared."
    METADATA_DEPENDENCIES = (
        QualifiedNameProvider,
        PositionProvider,
        ParentNodeProvider,
        ScopeProvider,
    )

    def __init__(
        self, context: CodemodContext, *, path: str, project: ProjectInfo, outcome: RewriteOutcome
    ) -> None:
        super().__init__(context)
        self.path = path
        self.project = project
        self.outcome = outcome
        self._handled: list[CodeRange] = []
        self._pending: dict[cst.CSTNode, tuple[str, str]] = {}
        self._functions: list[_Function] = []
        # Original nodes the function visit marked for rewriting on the way out.
        self._identity_uses: dict[cst.CSTNode, str] = {}
        self._auth_defaults: set[cst.CSTNode] = set()
        self._page_returns: dict[cst.CSTNode, pages.PagePlan] = {}
        # References renamed, and the old imports they came from (see _retire_old_imports).
        self._renamed: set[cst.CSTNode] = set()
        self._old_imports: list[cst.ImportFrom] = []
        # Names bound by `except <old exception> as name:` around the current node.
        self._caught: list[str] = []
        # Callees of calls that will be left as they are: their names must stay the old ones.
        self._keep: set[cst.CSTNode] = set()

    def transform_module(self, tree: cst.Module) -> cst.Module:
        """The rewritten module, its imports added and removed, long new imports wrapped."""
        return super().transform_module(tree).visit(WrapLongImports((LIBRARY, CONTRACTS)))

    # ---- bookkeeping -------------------------------------------------------------------

    def _qualified(self, node: cst.CSTNode) -> str | None:
        names = self.get_metadata(QualifiedNameProvider, node, set())
        for name in sorted(names, key=lambda q: q.name):
            if name.source is QualifiedNameSource.IMPORT:
                return name.name
        return None

    def _range(self, node: cst.CSTNode) -> CodeRange:
        return self.get_metadata(PositionProvider, node)

    def _line(self, node: cst.CSTNode) -> int:
        return self._range(node).start.line

    def _manual(self, node: cst.CSTNode, what: str, step: str) -> None:
        self.outcome.manual.append(ManualStep(self.path, self._line(node), what, step))
        self._handle(node)

    def _handle_param(self, param: cst.Param) -> None:
        # A parameter's own range is its name: its annotation and default have their own.
        for part in (param.name, param.annotation, param.default):
            if part is not None:
                self._handle(part)

    def _handle(self, node: cst.CSTNode) -> None:
        """`node` (original) was dealt with: old names inside it need no manual step."""
        self._handled.append(self._range(node))

    def _need(self, new: NewName) -> cst.Name:
        AddImportsVisitor.add_needed_import(self.context, new.module, new.name)
        # Removed again if a rewrite that asked for it was given up.
        RemoveImportsVisitor.remove_unused_import(self.context, new.module, new.name)
        return cst.Name(new.name)

    def _drop(self, node: cst.CSTNode) -> None:
        """`node` (original) leaves the module: imports only it used go too."""
        RemoveImportsVisitor.remove_unused_import_by_node(self.context, node)

    def _count(self, kind: str) -> None:
        self.outcome.rewrites[kind] += 1

    # ---- imports and names -----------------------------------------------------------

    def visit_Import(self, node: cst.Import) -> bool:
        for alias in node.names:
            if _is_old(code(alias.name)):
                RemoveImportsVisitor.remove_unused_import(self.context, code(alias.name))
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        module = code(node.module) if node.module is not None and not node.relative else ""
        if not _is_old(module):
            return False
        if isinstance(node.names, cst.ImportStar):
            self._manual(
                node,
                f"from {module} import *",
                "import the names the module uses, then run the codemod again",
            )
            return False
        for alias in node.names:
            asname = code(alias.asname.name) if alias.asname is not None else None
            RemoveImportsVisitor.remove_unused_import(
                self.context, module, code(alias.name), asname
            )
        self._old_imports.append(node)
        return False

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        return self._reference(original_node, updated_node)

    def leave_Attribute(
        self, original_node: cst.Attribute, updated_node: cst.Attribute
    ) -> cst.BaseExpression:
        self._pending.pop(original_node.value, None)
        value, attr = original_node.value, original_node.attr.value
        if (
            isinstance(value, cst.Name)
            and value.value in self._caught
            and attr in EXCEPTION_ATTRIBUTES
        ):
            self._count("exception")
            return updated_node.with_changes(attr=cst.Name(EXCEPTION_ATTRIBUTES[attr]))
        return self._reference(original_node, updated_node)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        caught = ""
        if node.name is not None and isinstance(node.name.name, cst.Name) and node.type is not None:
            qualified = self._qualified(node.type) or ""
            if qualified.startswith("shared.errors.") and qualified in RENAMES:
                caught = node.name.name.value
        self._caught.append(caught)

    def leave_ExceptHandler(
        self, original_node: cst.ExceptHandler, updated_node: cst.ExceptHandler
    ) -> cst.ExceptHandler:
        self._caught.pop()
        return updated_node

    def _reference(
        self, original: cst.Name | cst.Attribute, updated: cst.BaseExpression
    ) -> cst.BaseExpression:
        qualified = self._qualified(original)
        if qualified is None or not _is_old(qualified) or original in self._keep:
            return updated
        new = RENAMES.get(qualified)
        if new is None and qualified in _CALL_REWRITES and _is_called(self, original):
            return updated  # leave_Call rewrites it, or says why not
        if new is None:
            self._pending[original] = (qualified, _manual_step(qualified))
            return updated
        if not (_is_called(self, original) and qualified in _CALL_REWRITES):
            self._count("name")
        self._renamed.add(original)
        if qualified in REVIEW and _is_called(self, original):
            self.outcome.manual.append(
                ManualStep(self.path, self._line(original), f"{new.name}(...)", REVIEW[qualified])
            )
        return self._need(new)

    # ---- calls -------------------------------------------------------------------------

    def visit_Call(self, node: cst.Call) -> None:
        # A call that will be left as it is keeps its callee's old name: renaming only the
        # callee would bind it to the library's function with the old arguments.
        qualified = self._qualified(node.func)
        if qualified in _CALL_REWRITES:
            try:
                self._rewrite_call(node, node, qualified, dry=True)
            except _LeaveAsIs:
                self._keep.add(node.func)

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        key = self._identity_uses.pop(original_node, None)
        if key is not None and isinstance(updated_node.func, cst.Attribute):
            return cst.Attribute(updated_node.func.value, cst.Name(key))
        qualified = self._qualified(original_node.func)
        if qualified is None:
            return updated_node
        try:
            if qualified in _CALL_REWRITES:
                return self._rewrite_call(original_node, updated_node, qualified)
            if qualified in DEPENDS and original_node not in self._auth_defaults:
                return self._dependency(original_node, updated_node)
        except _LeaveAsIs as leave:
            self._manual(original_node, leave.what, leave.step)
        return updated_node

    def _rewrite_call(
        self, original: cst.Call, call: cst.Call, qualified: str, *, dry: bool = False
    ) -> cst.Call:
        """The rewritten call; with `dry`, only whether it can be (_LeaveAsIs if not)."""
        if qualified in HTTP_EXCEPTIONS:
            new = self._status_exception(original, call, qualified, dry=dry)
        elif qualified in CALLS:
            new = self._remapped(original, call, CALLS[qualified], dry=dry)
        else:
            return self._require_role(original, call, dry=dry)
        if dry:
            return call
        self._renamed.add(original.func)
        if "\n" not in code(original) and self._fits(original, new):
            return new
        return self._fitted(original, new)

    def _fits(self, original: cst.Call, new: cst.Call) -> bool:
        return self._range(original).start.column + len(code(new)) <= LINE_LENGTH

    def _fitted(self, original: cst.Call, new: cst.Call) -> cst.Call:
        arguments = [code(arg.with_changes(comma=cst.MaybeSentinel.DEFAULT)) for arg in new.args]
        return fitted_call(code(new.func), arguments, self._range(original).start.column)

    def _remapped(  # noqa: PLR0912 - one branch per way an old argument can go
        self, original: cst.Call, call: cst.Call, rule: CallRule, *, dry: bool = False
    ) -> cst.Call:
        name = rule.new.name
        positional: list[cst.Arg] = []
        keywords: list[cst.Arg] = []
        metadata: list[tuple[str, cst.BaseExpression]] = []
        spread: cst.BaseExpression | None = None
        for index, arg in enumerate(call.args):
            if arg.star:
                raise _LeaveAsIs(f"{name} called with {arg.star}arguments", _SPELL_OUT)
            if arg.keyword is None:
                if index >= len(rule.positional):
                    raise _LeaveAsIs(f"{name} called with too many arguments", _SPELL_OUT)
                old = rule.positional[index]
            else:
                old = arg.keyword.value
            if old in rule.manual:
                raise _LeaveAsIs(f"{name} with `{old}=`", rule.manual[old])
            if old in rule.metadata:
                metadata.append((rule.metadata[old], arg.value))
                continue
            if old == rule.spread_metadata:
                spread = arg.value
                continue
            if old not in rule.keywords:
                raise _LeaveAsIs(f"{name} called with `{old}=`", _SPELL_OUT)
            new = rule.keywords[old]
            if (
                arg.keyword is None
                and not keywords
                and len(positional) < len(rule.new_positional)
                and rule.new_positional[len(positional)] == new
            ):
                positional.append(arg)
            else:
                keywords.append(kwarg(new, arg.value))
        given = {a.keyword.value for a in keywords if a.keyword is not None} | set(
            rule.new_positional[: len(positional)]
        )
        missing = [key for key in rule.required if key not in given]
        if missing:
            raise _LeaveAsIs(
                f"{name} without {', '.join(missing)}",
                f"the library's {name} needs {', '.join(k + '=' for k in missing)}: pass them",
            )
        if metadata or spread is not None:
            keywords.append(kwarg("metadata", _metadata(metadata, spread)))
        if dry:
            return call
        self._count(rule.kind)
        self._drop(original)
        args = [*positional, *keywords]
        return call.with_changes(func=self._need(rule.new), args=with_commas_of(args, call.args))

    def _status_exception(  # noqa: PLR0912 - one branch per argument of the old signature
        self, original: cst.Call, call: cst.Call, qualified: str, *, dry: bool = False
    ) -> cst.Call:
        names = HTTP_EXCEPTIONS[qualified]
        given: dict[str, cst.BaseExpression] = {}
        for index, arg in enumerate(call.args):
            if arg.star or (arg.keyword is None and index >= len(names)):
                raise _LeaveAsIs(f"{code(call.func)} with unusual arguments", _SPELL_OUT)
            key = names[index] if arg.keyword is None else arg.keyword.value
            if key not in names:
                raise _LeaveAsIs(f"{code(call.func)} called with `{key}=`", _SPELL_OUT)
            given[key] = arg.value
        what = code(call.func)
        status = self._status(original, given.get("status_code"))
        if status is None:
            raise _LeaveAsIs(
                f"{what} with a status that is not a literal",
                "raise the library's exception for each status (BadRequestError, "
                "NotFoundError, ConflictError, ...), or StandardHTTPException(detail, "
                "status=..., code=...)",
            )
        target = STATUS_CLASSES.get(status)
        if target is None:
            raise _LeaveAsIs(
                f"{what} with status {status}",
                f"no library exception is for {status}: keep HTTPException (served as "
                f'problem+json) or raise StandardHTTPException(detail, status={status}, code="...")',
            )
        detail = given.get("detail", given.get("message"))
        if isinstance(detail, (cst.Dict, cst.List, cst.Tuple, cst.DictComp, cst.ListComp)):
            raise _LeaveAsIs(
                f"{what} with a detail that is not text",
                "the detail is one sentence for the client: put the text in the detail and "
                "the rest in metadata= (logged) or errors= (validation problems)",
            )
        args: list[cst.Arg] = []
        metadata: list[tuple[str, cst.BaseExpression]] = []
        if detail is not None:
            if target.server_error and not is_plain_string(detail):
                # A 5xx detail reaches the client as it is: computed text goes to the log.
                metadata.append(("error", detail))
            elif target.detail_keyword:
                args.append(kwarg("detail", detail))
            else:
                args.append(cst.Arg(detail))
        error_code = given.get("error_code")
        if error_code is not None and string_value(error_code) != target.code:
            args.append(kwarg("code", error_code))
        if "headers" in given:
            args.append(kwarg("headers", given["headers"]))
        context = given.get("context")
        if metadata or context is not None:
            args.append(kwarg("metadata", _metadata(metadata, context)))
        if dry:
            return call
        self._count("exception")
        self._drop(original)
        return call.with_changes(
            func=self._need(NewName(LIBRARY, target.name)), args=with_commas_of(args, call.args)
        )

    def _status(self, original: cst.Call, node: cst.BaseExpression | None) -> int | None:
        if node is None:
            return None
        literal = int_literal(node)
        if literal is not None:
            return literal
        if not isinstance(node, (cst.Name, cst.Attribute)):
            return None
        # `status.HTTP_404_NOT_FOUND`: the original node carries the import metadata.
        for arg in original.args:
            if arg.value.deep_equals(node):
                qualified = self._qualified(arg.value) or ""
                module, _, constant = qualified.rpartition(".")
                parts = constant.split("_")
                if module in STATUS_CONSTANT_MODULES and len(parts) > 1 and parts[1].isdigit():
                    return int(parts[1])
        return None

    def _require_role(self, original: cst.Call, call: cst.Call, *, dry: bool = False) -> cst.Call:
        if len(call.args) != 1 or call.args[0].keyword is not None or call.args[0].star:
            return call
        role = string_value(call.args[0].value)
        if role is None:
            return call  # the library's require_role takes a role name too
        if role not in ROLES:
            raise _LeaveAsIs(
                f'require_role("{role}")',
                f"the shared roles are {', '.join(sorted(ROLES))} (admin > operator > "
                "viewer): choose the one this route needs",
            )
        if dry:
            return call
        self._count("auth")
        self._handle(original)
        value = cst.Attribute(self._need(NewName(CONTRACTS, "Role")), cst.Name(role))
        return call.with_changes(args=[call.args[0].with_changes(value=value)])

    def _dependency(self, original: cst.Call, call: cst.Call) -> cst.Call:
        """`Depends(get_current_user)` outside a parameter (a `dependencies=[...]` list)."""
        if not original.args or self._qualified(original.args[0].value) not in AUTH_DEPENDENCIES:
            return call
        self._count("auth")
        self._handle(original)
        # Every verified caller has a role, viewer at least: this admits exactly them.
        role = cst.Attribute(self._need(NewName(CONTRACTS, "Role")), cst.Name("viewer"))
        check = cst.Call(self._need(NewName(LIBRARY, "require_role")), [cst.Arg(role)])
        return call.with_changes(args=[call.args[0].with_changes(value=check)])

    # ---- functions: auth parameters, pages, routes -------------------------------------

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        function = _Function()
        self._functions.append(function)
        for param in (*node.params.params, *node.params.kwonly_params):
            kind = self._auth_kind(param)
            if kind is None:
                continue
            if param.default is not None:
                self._auth_defaults.add(param.default)
            if not self._identity_uses_ok(node, param):
                continue
            function.auth_params[param.name.value] = _AuthParam(kind, param)
            self._handle_param(param)
        plan = pages.plan(self, node)
        if plan is not None:
            function.page = plan
            for ret in plan.returns:
                self._page_returns[ret] = plan

    def _auth_kind(self, param: cst.Param) -> str | None:
        default = param.default
        if not isinstance(default, cst.Call) or self._qualified(default.func) not in DEPENDS:
            return None
        if not default.args:
            return None
        dependency = default.args[0].value
        if self._qualified(dependency) in AUTH_DEPENDENCIES:
            return "user"
        target = dependency.func if isinstance(dependency, cst.Call) else dependency
        if self._qualified(target) not in ROLE_DEPENDENCIES:
            return None
        if isinstance(dependency, cst.Call) and len(dependency.args) == 1:
            role = string_value(dependency.args[0].value)
            if role is not None and role not in ROLES:
                return None  # the require_role call says why it is left
        return "identity"

    def _identity_uses_ok(self, function: cst.FunctionDef, param: cst.Param) -> bool:
        """Mark the old user dict's uses for rewriting; False (and a manual step) if one is not
        a key `Identity` has as an attribute."""
        scope = self.get_metadata(ScopeProvider, function.body, None)
        if scope is None:
            return False
        name = param.name.value
        marked: dict[cst.CSTNode, str] = {}
        for access in scope.accesses[name]:
            use = access.node
            parent = self.get_metadata(ParentNodeProvider, use, None)
            key: str | None = None
            target: cst.CSTNode | None = None
            if (
                isinstance(parent, cst.Subscript)
                and len(parent.slice) == 1
                and isinstance(parent.slice[0].slice, cst.Index)
            ):
                key, target = string_value(parent.slice[0].slice.value), parent
            elif isinstance(parent, cst.Attribute) and parent.attr.value == "get":
                call = self.get_metadata(ParentNodeProvider, parent, None)
                if isinstance(call, cst.Call) and call.func is parent and call.args:
                    key, target = string_value(call.args[0].value), call
                    if len(call.args) > 1 and key in IDENTITY_OPTIONAL_KEYS:
                        key = None  # .get("email", "") would become None where it was ""
            if key is None or key not in IDENTITY_KEYS or target is None:
                self._manual(
                    use,
                    f"`{name}` used as the old user dict",
                    f"`{name}` becomes the verified Identity (attributes "
                    f"{', '.join(sorted(IDENTITY_KEYS))}): change this use, then declare "
                    f"`{name}: CurrentUser`",
                )
                self._handle_param(param)
                return False
            marked[target] = key
        self._identity_uses.update(marked)
        return True

    def leave_Subscript(
        self, original_node: cst.Subscript, updated_node: cst.Subscript
    ) -> cst.BaseExpression:
        key = self._identity_uses.pop(original_node, None)
        if key is None:
            return updated_node
        return cst.Attribute(updated_node.value, cst.Name(key))

    def leave_Return(self, original_node: cst.Return, updated_node: cst.Return) -> cst.Return:
        plan = self._page_returns.pop(original_node, None)
        if plan is not None:
            return pages.page_return(self, plan, original_node, updated_node)
        value = original_node.value
        if (
            isinstance(value, cst.Call)
            and self._qualified(value.func) == SUCCESS_ENVELOPE
            and isinstance(updated_node.value, cst.Call)
        ):
            data = _argument(updated_node.value, 0, "data")
            if data is None:
                self._manual(
                    original_node,
                    "create_success_response without data",
                    "the success envelope is gone: a deletion answers 204 No Content "
                    "(status_code=204, return Response(status_code=204)); otherwise return "
                    "the payload",
                )
                return updated_node
            self._count("success-envelope")
            self._handle(original_node)
            self._drop(value)
            return updated_node.with_changes(value=data)
        return updated_node

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.FunctionDef:
        function = self._functions.pop()
        self._check_route(original_node)
        params = list(updated_node.params.params)
        kwonly = list(updated_node.params.kwonly_params)
        if function.auth_params:
            params = [self._auth_param(p, function) for p in params]
            kwonly = [self._auth_param(p, function) for p in kwonly]
        if function.page is not None:
            updated_node, params = pages.apply(self, function.page, updated_node, params)
        if function.auth_params or function.page is not None:
            params = with_commas_of(_no_default_first(params), updated_node.params.params)
            updated_node = updated_node.with_changes(
                params=updated_node.params.with_changes(params=params, kwonly_params=kwonly)
            )
        return updated_node

    def _auth_param(self, param: cst.Param, function: _Function) -> cst.Param:
        auth = function.auth_params.get(param.name.value)
        if auth is None:
            return param
        self._count("auth")
        if auth.original.annotation is not None:
            self._drop(auth.original.annotation)
        if auth.kind == "user":
            annotation: cst.BaseExpression = self._need(NewName(LIBRARY, "CurrentUser"))
            if auth.original.default is not None:
                self._drop(auth.original.default)
        else:
            identity = self._need(NewName(CONTRACTS, "Identity"))
            annotated = self._need(NewName("typing", "Annotated"))
            if param.default is None:  # _auth_kind required one
                return param
            annotation = cst.Subscript(
                annotated,
                [
                    cst.SubscriptElement(cst.Index(identity)),
                    cst.SubscriptElement(cst.Index(param.default)),
                ],
            )
        return param.with_changes(
            annotation=cst.Annotation(annotation),
            default=None,
            equal=cst.MaybeSentinel.DEFAULT,
        )

    def _check_route(self, node: cst.FunctionDef) -> None:
        for decorator in node.decorators:
            call = decorator.decorator
            if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Attribute):
                continue
            method = call.func.attr.value
            path = string_value(call.args[0].value) if call.args else None
            if method == "get" and path in HEALTH_PATHS:
                self._manual(
                    decorator,
                    f"route GET {path}",
                    "the runtime serves /health, /health/live and /health/ready "
                    "(HealthResponse): remove this route and register its checks with "
                    "register_health_check(app, name, check)",
                )
            if method == "post" and self.project.creates_with_201:
                status = _argument(call, -1, "status_code")
                if status is None or int_literal(status) == 200:
                    self._manual(
                        decorator,
                        f"POST {path or node.name.value} answers 200",
                        "other routes of this service answer 201 Created on POST: if this "
                        "creates something, declare status_code=201 (callers expecting 200 "
                        "change too)",
                    )

    # ---- the app set-up ----------------------------------------------------------------

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        body = self._app_setup(original_node.body, updated_node.body)
        return updated_node.with_changes(body=body)

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        body = self._app_setup(original_node.body, updated_node.body)
        for node, (qualified, step) in self._pending.items():
            inner = self._range(node)
            if not any(contains(outer, inner) for outer in self._handled):
                self.outcome.manual.append(ManualStep(self.path, inner.start.line, qualified, step))
        self._pending.clear()
        module = updated_node.with_changes(body=body)
        retired = self._retired_old_imports()
        return module.visit(_DropAliases(retired)) if retired else module

    def _retired_old_imports(self) -> dict[cst.ImportFrom, set[str]]:
        """The old `from shared... import name` aliases whose every reference was renamed.

        RemoveImportsVisitor cannot see that they went unused when the new name is the old
        one (`NotFoundError` stays `NotFoundError`, now from the library): they go here.
        """
        retired: dict[cst.ImportFrom, set[str]] = {}
        for node in self._old_imports:
            scope = self.get_metadata(ScopeProvider, node, None)
            if scope is None or isinstance(node.names, cst.ImportStar):
                continue
            for alias in node.names:
                bound = code(alias.asname.name) if alias.asname is not None else code(alias.name)
                assignments = [
                    a
                    for a in scope.assignments[bound]
                    if isinstance(a, ImportAssignment) and a.node is node
                ]
                uses = [access.node for a in assignments for access in a.references]
                if uses and all(use in self._renamed for use in uses):
                    retired.setdefault(node, set()).add(bound)
        return retired

    def _app_setup(
        self, original: Sequence[cst.BaseStatement], updated: Sequence[cst.BaseStatement]
    ) -> list[cst.BaseStatement]:
        found = self._setup_statements(original)
        result = list(updated)
        removed: set[int] = set()
        inserted: dict[int, cst.BaseStatement] = {}
        logging = [c for c in found.calls if c[1] == "shared.logging.setup_service_logging"]
        for app, index in found.apps.items():
            calls = [c for c in found.calls if c[0] in found.targets.get(app, ())]
            if not calls:
                continue
            try:
                result[index] = self._create_app(original[index], result[index], calls + logging)
            except _LeaveAsIs as leave:
                self._manual(original[index], leave.what, leave.step)
                continue
            for position, qualified, call in calls + logging:
                removed.add(position)
                if qualified == "shared.logging.setup_service_logging":
                    self._log_level(call)
            removed.update(self._setup_middleware(found.middleware.get(app, [])))
            for position in removed:
                self._handle(original[position])
                self._drop(original[position])
            if self.project.uses_auth:
                install = cst.Call(
                    self._need(NewName(LIBRARY, "install_auth")), [cst.Arg(cst.Name(app))]
                )
                inserted[index] = cst.SimpleStatementLine([cst.Expr(install)])
            self._count("app-setup")
        return _rebuilt(result, removed, inserted)

    def _setup_statements(self, block: Sequence[cst.BaseStatement]) -> _SetupStatements:
        found = _SetupStatements()
        for index, statement in enumerate(block):
            small = _single(statement)
            if (
                isinstance(small, cst.Assign)
                and isinstance(small.value, cst.Call)
                and len(small.targets) == 1
                and isinstance(small.targets[0].target, cst.Name)
                and self._qualified(small.value.func) in FASTAPI_APP
            ):
                found.apps[small.targets[0].target.value] = index
            if not (isinstance(small, cst.Expr) and isinstance(small.value, cst.Call)):
                continue
            call = small.value
            qualified = self._qualified(call.func)
            first = call.args[0].value if call.args else None
            if qualified is not None and qualified in APP_SETUP_CALLS:
                found.calls.append((index, qualified, call))
                if (
                    isinstance(first, cst.Name)
                    and qualified != "shared.logging.setup_service_logging"
                ):
                    found.targets.setdefault(first.value, set()).add(index)
            elif (
                isinstance(call.func, cst.Attribute)
                and call.func.attr.value == "add_middleware"
                and isinstance(call.func.value, cst.Name)
                and first is not None
            ):
                layer = self._qualified(first) or ""
                found.middleware.setdefault(call.func.value.value, []).append((index, layer, call))
        return found

    def _setup_middleware(self, added: list[tuple[int, str, cst.Call]]) -> set[int]:
        """The `app.add_middleware(...)` lines create_service_app makes redundant."""
        removed = set()
        for position, layer, call in added:
            if layer in APP_SETUP_MIDDLEWARE:
                removed.add(position)
            elif layer in CORS_MIDDLEWARE:
                self._manual(
                    call,
                    "CORSMiddleware added by hand",
                    "create_service_app installs CORS from the settings "
                    "(<PREFIX>_CORS__ALLOW_ORIGINS, ...): move these options there and "
                    "remove this line",
                )
        return removed

    def _create_app(
        self,
        original: cst.BaseStatement,
        updated: cst.BaseStatement,
        setup: list[tuple[int, str, cst.Call]],
    ) -> cst.BaseStatement:
        assert isinstance(updated, cst.SimpleStatementLine)  # noqa: S101 - _single matched it
        assign = updated.body[0]
        assert isinstance(assign, cst.Assign)  # noqa: S101
        assert isinstance(assign.value, cst.Call)  # noqa: S101
        name: cst.BaseExpression | None = None
        for _, qualified, call in setup:
            where = APP_SETUP_CALLS[qualified]
            if where is not None and name is None:
                name = _argument(call, where[0], where[1])
        if name is None:
            raise _LeaveAsIs(
                "FastAPI app without a service name",
                "create the app with create_service_app(name, version, ...): the name is "
                "also its settings' environment prefix",
            )
        version: cst.BaseExpression = cst.SimpleString('"0.1.0"')  # FastAPI's own default
        options: list[cst.Arg] = []
        for arg in assign.value.args:
            if arg.keyword is None or arg.star:
                raise _LeaveAsIs("FastAPI(...) with positional arguments", _SPELL_OUT)
            if arg.keyword.value == "version":
                version = arg.value
            elif arg.keyword.value != "title":  # create_service_app titles it with the name
                options.append(kwarg(arg.keyword.value, arg.value))
        old_call = _single(original)
        assert isinstance(old_call, cst.Assign)  # noqa: S101
        self._drop(old_call.value)
        factory = self._need(NewName(LIBRARY, "create_service_app"))
        args = [cst.Arg(name), cst.Arg(version), *options]
        call = assign.value.with_changes(
            func=factory, args=with_commas_of(args, assign.value.args or args)
        )
        return updated.with_changes(body=[assign.with_changes(value=call)])

    def _log_level(self, call: cst.Call) -> None:
        level = _argument(call, 1, "log_level")
        if level is None or string_value(level) == "INFO":
            return
        self.outcome.manual.append(
            ManualStep(
                self.path,
                self._line(call),
                f"setup_service_logging set the log level to {code(level)}",
                "create_service_app reads the level from the service settings "
                "(<PREFIX>_LOG__LEVEL): set that variable where the old level came from",
            )
        )


# ---- helpers -------------------------------------------------------------------------


class _DropAliases(cst.CSTTransformer):
    """Remove the given aliases from these import statements (the statement if none is left)."""

    def __init__(self, retired: dict[cst.ImportFrom, set[str]]) -> None:
        self.retired = retired

    def leave_ImportFrom(
        self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom
    ) -> cst.ImportFrom | cst.RemovalSentinel:
        names = self.retired.get(original_node)
        if not names or isinstance(updated_node.names, cst.ImportStar):
            return updated_node
        kept = [
            alias
            for alias in updated_node.names
            if code(alias.asname.name if alias.asname is not None else alias.name) not in names
        ]
        if not kept:
            return cst.RemoveFromParent()
        kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return updated_node.with_changes(names=kept)


_CALL_REWRITES = frozenset({*CALLS, *HTTP_EXCEPTIONS, "shared.auth.require_role"})
_SPELL_OUT = (
    "spell the arguments out (no *args/**kwargs) and run the codemod again, or rewrite by hand"
)


def _is_old(qualified: str) -> bool:
    return qualified == OLD_PACKAGE or qualified.startswith(OLD_PACKAGE + ".")


def _manual_step(qualified: str) -> str:
    probe = qualified
    while probe:
        if probe in MANUAL:
            return MANUAL[probe]
        probe = probe.rpartition(".")[0]
    return UNKNOWN_STEP


def _is_called(command: MigrationCommand, node: cst.CSTNode) -> bool:
    parent = command.get_metadata(ParentNodeProvider, node, None)
    return isinstance(parent, cst.Call) and parent.func is node


@dataclass
class _SetupStatements:
    """The old app set-up in one block, by statement index."""

    apps: dict[str, int] = field(default_factory=dict)  # app variable -> its FastAPI(...)
    calls: list[tuple[int, str, cst.Call]] = field(default_factory=list)
    targets: dict[str, set[int]] = field(default_factory=dict)  # app variable -> its calls
    middleware: dict[str, list[tuple[int, str, cst.Call]]] = field(default_factory=dict)


def _rebuilt(
    statements: list[cst.BaseStatement], removed: set[int], inserted: dict[int, cst.BaseStatement]
) -> list[cst.BaseStatement]:
    body: list[cst.BaseStatement] = []
    blank = False  # a removed statement's blank line separated it from what came before
    for index, statement in enumerate(statements):
        if index in removed:
            blank = blank or _has_blank_line(statement)
            continue
        kept = (
            _with_blank_line(statement) if blank and not _has_blank_line(statement) else statement
        )
        blank = False
        body.append(kept)
        if index in inserted:
            body.append(inserted[index])
    return body


def _has_blank_line(statement: cst.BaseStatement) -> bool:
    lines = getattr(statement, "leading_lines", ())
    return any(line.comment is None for line in lines)


def _with_blank_line(statement: cst.BaseStatement) -> cst.BaseStatement:
    if isinstance(statement, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
        return statement.with_changes(leading_lines=[cst.EmptyLine(), *statement.leading_lines])
    return statement


def _single(statement: cst.BaseStatement) -> cst.BaseSmallStatement | None:
    if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
        return statement.body[0]
    return None


def _argument(call: cst.Call, position: int, keyword: str) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    positional = [a for a in call.args if a.keyword is None and not a.star]
    if 0 <= position < len(positional):
        return positional[position].value
    return None


def _metadata(
    entries: list[tuple[str, cst.BaseExpression]], spread: cst.BaseExpression | None
) -> cst.BaseExpression:
    if not entries and spread is not None:
        return spread
    elements: list[cst.BaseDictElement] = [
        cst.DictElement(cst.SimpleString(f'"{key}"'), value) for key, value in entries
    ]
    if spread is not None:
        either = cst.BooleanOperation(
            spread, cst.Or(), cst.Dict([]), lpar=[cst.LeftParen()], rpar=[cst.RightParen()]
        )
        elements.append(cst.StarredDictElement(either))
    return cst.Dict(elements)


def _no_default_first(params: list[cst.Param]) -> list[cst.Param]:
    """Parameters without a default moved before the first with one (a dependency that lost
    its `= Depends(...)` default must not follow a defaulted parameter). FastAPI passes them
    by name, so the order does not change what a route receives."""
    first_default = next((i for i, p in enumerate(params) if p.default is not None), None)
    if first_default is None:
        return params
    late = [p for p in params[first_default:] if p.default is None and not p.star]
    if not late:
        return params
    early = params[:first_default]
    rest = [p for p in params[first_default:] if p.default is not None or p.star]
    return [*early, *late, *rest]
