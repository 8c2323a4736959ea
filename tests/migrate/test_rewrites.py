"""One test per rewrite: the old code, what the codemod makes of it, and that a second run
changes nothing; then the code it must leave as it is, with the manual steps it lists."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from opsconductor_migrate import migrate_paths, migrate_source


def source(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


REWRITES = {
    "http_exception_keywords": (
        """\
        from fastapi import HTTPException

        def f(x):
            if x is None:
                raise HTTPException(status_code=404, detail="Target not found")
            raise HTTPException(status_code=409, detail=f"{x} exists") from None
        """,
        """\
        from opsconductor_shared import ConflictError, NotFoundError

        def f(x):
            if x is None:
                raise NotFoundError(detail="Target not found")
            raise ConflictError(f"{x} exists") from None
        """,
        {"exception": 2},
    ),
    "http_exception_positional_and_status_constant": (
        """\
        from fastapi import HTTPException, status

        def f(x):
            if x:
                raise HTTPException(status.HTTP_400_BAD_REQUEST, "bad input")
            raise HTTPException(401, "Invalid token", headers={"WWW-Authenticate": "Bearer"})
        """,
        """\
        from opsconductor_shared import AuthenticationError, BadRequestError

        def f(x):
            if x:
                raise BadRequestError("bad input")
            raise AuthenticationError("Invalid token", headers={"WWW-Authenticate": "Bearer"})
        """,
        {"exception": 2},
    ),
    "http_exception_5xx_detail_to_log": (
        """\
        from fastapi import HTTPException

        def f(error):
            raise HTTPException(status_code=500, detail=str(error))
        """,
        """\
        from opsconductor_shared import StandardHTTPException

        def f(error):
            raise StandardHTTPException(metadata={"error": str(error)})
        """,
        {"exception": 1},
    ),
    "http_exception_5xx_literal_detail_kept": (
        """\
        from fastapi import HTTPException

        def f():
            raise HTTPException(status_code=503, detail="Executor is down")
        """,
        """\
        from opsconductor_shared import ServiceUnavailableError

        def f():
            raise ServiceUnavailableError("Executor is down")
        """,
        {"exception": 1},
    ),
    "starlette_http_exception_422": (
        """\
        from starlette.exceptions import HTTPException

        def f():
            raise HTTPException(422, detail="name is required")
        """,
        """\
        from opsconductor_shared import ValidationError

        def f():
            raise ValidationError("name is required")
        """,
        {"exception": 1},
    ),
    "old_standard_http_exception": (
        """\
        from shared.errors import StandardHTTPException

        def f(name):
            raise StandardHTTPException(
                status_code=409,
                error_code="TARGET_EXISTS",
                message=f"{name} exists",
                context={"name": name},
            )
        """,
        """\
        from opsconductor_shared import ConflictError

        def f(name):
            raise ConflictError(f"{name} exists", code="TARGET_EXISTS", metadata={"name": name})
        """,
        {"exception": 1},
    ),
    "old_standard_http_exception_default_code_dropped": (
        """\
        from shared.errors import StandardHTTPException

        def f():
            raise StandardHTTPException(404, "NOT_FOUND", "No such job")
        """,
        """\
        from opsconductor_shared import NotFoundError

        def f():
            raise NotFoundError(detail="No such job")
        """,
        {"exception": 1},
    ),
    "old_exception_classes": (
        """\
        from shared.errors import AuthError, NotFoundError, PermissionError, ValidationError

        def f(kind, job_id):
            if kind == 1:
                raise NotFoundError("Job", job_id)
            if kind == 2:
                raise NotFoundError(resource="Job", resource_id=job_id)
            if kind == 3:
                raise ValidationError("bad cron expression")
            if kind == 4:
                raise PermissionError(message="operators only")
            raise AuthError()
        """,
        """\
        from opsconductor_shared import (
            AuthenticationError,
            BadRequestError,
            NotFoundError,
            PermissionDeniedError,
        )

        def f(kind, job_id):
            if kind == 1:
                raise NotFoundError("Job", job_id)
            if kind == 2:
                raise NotFoundError(resource="Job", id=job_id)
            if kind == 3:
                raise BadRequestError("bad cron expression")
            if kind == 4:
                raise PermissionDeniedError(detail="operators only")
            raise AuthenticationError()
        """,
        {"exception": 5},
    ),
    "old_exception_aliases_and_module_import": (
        """\
        import shared.errors
        from shared import errors as shared_errors
        from shared.errors import DatabaseError as DBError

        def f(op):
            if op:
                raise DBError("insert failed", operation=op)
            if op is None:
                raise shared.errors.NotFoundError("Target", 3)
            raise shared_errors.ServiceCommunicationError("executor", "timed out", status_code=504)
        """,
        """\
        from opsconductor_shared import DatabaseError, NotFoundError, ServiceCommunicationError

        def f(op):
            if op:
                raise DatabaseError("insert failed", metadata={"operation": op})
            if op is None:
                raise NotFoundError("Target", 3)
            raise ServiceCommunicationError(service="executor", detail="timed out", status=504)
        """,
        {"exception": 3},
    ),
    "exception_helpers": (
        """\
        from shared.errors import database_error, not_found, permission_denied, service_unavailable, validation_error

        def f(kind, target_id):
            if kind == 1:
                raise not_found("Target", target_id)
            if kind == 2:
                raise validation_error("name must not be empty")
            if kind == 3:
                raise permission_denied("admins only")
            if kind == 4:
                error = database_error("could not save", operation="insert")
                raise error
            raise service_unavailable("executor")
        """,
        """\
        from opsconductor_shared import (
            BadRequestError,
            DatabaseError,
            NotFoundError,
            PermissionDeniedError,
            ServiceUnavailableError,
        )

        def f(kind, target_id):
            if kind == 1:
                raise NotFoundError("Target", target_id)
            if kind == 2:
                raise BadRequestError("name must not be empty")
            if kind == 3:
                raise PermissionDeniedError("admins only")
            if kind == 4:
                error = DatabaseError("could not save", metadata={"operation": "insert"})
                raise error
            raise ServiceUnavailableError(metadata={"service": "executor"})
        """,
        {"exception-helper": 5},
    ),
    "except_clause_attributes": (
        """\
        from shared.errors import ServiceCommunicationError

        async def f(call):
            try:
                await call()
            except ServiceCommunicationError as exc:
                return {"failed": exc.message, "code": exc.error_code, "status": exc.status_code}
        """,
        """\
        from opsconductor_shared import ServiceCommunicationError

        async def f(call):
            try:
                await call()
            except ServiceCommunicationError as exc:
                return {"failed": exc.detail, "code": exc.code, "status": exc.status_code}
        """,
        {"exception": 2, "name": 1},
    ),
    "app_setup_module_level": (
        """\
        from fastapi import FastAPI

        from shared.errors import add_error_handlers
        from shared.logging import RequestLoggingMiddleware, get_logger, setup_service_logging
        from shared.middleware import add_standard_middleware

        setup_service_logging("jobs-service")
        logger = get_logger(__name__)

        app = FastAPI(title="Jobs", version="2.0.1", docs_url="/api/docs")

        add_standard_middleware(app, "jobs-service")
        add_error_handlers(app)
        app.add_middleware(RequestLoggingMiddleware)


        @app.get("/")
        async def root():
            return {"service": "jobs-service"}
        """,
        """\
        from opsconductor_shared import create_service_app, get_logger

        logger = get_logger(__name__)

        app = create_service_app("jobs-service", "2.0.1", docs_url="/api/docs")


        @app.get("/")
        async def root():
            return {"service": "jobs-service"}
        """,
        {"app-setup": 1, "name": 1},
    ),
    "app_setup_in_factory_with_auth": (
        """\
        from fastapi import Depends, FastAPI

        from shared.auth import get_current_user
        from shared.errors import add_error_handlers
        from shared.middleware import add_standard_middleware


        def create_app() -> FastAPI:
            app = FastAPI(title="Targets")
            add_standard_middleware(app, service_name="targets-service")
            add_error_handlers(app)

            @app.get("/me")
            async def me(user: dict = Depends(get_current_user)):
                return {"name": user["username"], "role": user.get("role")}

            return app
        """,
        """\
        from fastapi import FastAPI
        from opsconductor_shared import CurrentUser, create_service_app, install_auth


        def create_app() -> FastAPI:
            app = create_service_app("targets-service", "0.1.0")
            install_auth(app)

            @app.get("/me")
            async def me(user: CurrentUser):
                return {"name": user.username, "role": user.role}

            return app
        """,
        {"app-setup": 1, "auth": 1},
    ),
    "auth_dependencies": (
        """\
        from typing import Any, Dict

        from fastapi import APIRouter, Depends

        from shared.auth import require_admin, require_role, verify_token_dependency

        router = APIRouter()


        @router.post("/jobs/{job_id}/run", dependencies=[Depends(verify_token_dependency)])
        async def run(job_id: int, limit: int = 10, user: Dict[str, Any] = Depends(require_role("operator"))):
            return {"by": user["user_id"]}


        @router.delete("/jobs/{job_id}", dependencies=[Depends(require_admin)])
        async def delete(job_id: int, admin: dict = Depends(require_admin)):
            return None
        """,
        """\
        from typing import Annotated

        from fastapi import APIRouter, Depends
        from opsconductor_contracts import Identity, Role
        from opsconductor_shared import require_admin, require_role

        router = APIRouter()


        @router.post("/jobs/{job_id}/run", dependencies=[Depends(require_role(Role.viewer))])
        async def run(job_id: int, user: Annotated[Identity, Depends(require_role(Role.operator))], limit: int = 10):
            return {"by": user.user_id}


        @router.delete("/jobs/{job_id}", dependencies=[Depends(require_admin)])
        async def delete(job_id: int, admin: Annotated[Identity, Depends(require_admin)]):
            return None
        """,
        {"auth": 4, "name": 2},
    ),
    "list_endpoint": (
        '''\
        from typing import List

        from fastapi import APIRouter, Query
        from pydantic import BaseModel

        from shared.logging import get_logger

        logger = get_logger(__name__)

        router = APIRouter()


        class Run(BaseModel):
            id: int


        class RunList(BaseModel):
            runs: List[Run]
            total: int


        RUNS: list = []


        @router.get("/runs", response_model=RunList)
        async def list_runs(skip: int = 0, limit: int = Query(100, le=1000)) -> RunList:
            """Every run."""
            return {"runs": RUNS[skip : skip + limit], "total": len(RUNS)}
        ''',
        '''\
        from typing import List

        from fastapi import APIRouter
        from pydantic import BaseModel
        from opsconductor_shared import PaginatedResponse, PaginationQuery, get_logger

        logger = get_logger(__name__)

        router = APIRouter()


        class Run(BaseModel):
            id: int


        class RunList(BaseModel):
            runs: List[Run]
            total: int


        RUNS: list = []


        @router.get("/runs", response_model=PaginatedResponse[Run])
        async def list_runs(page: PaginationQuery) -> PaginatedResponse[Run]:
            """Every run."""
            skip, limit = (page.page - 1) * page.per_page, page.per_page
            return PaginatedResponse[Run].from_offset(
                RUNS[skip : skip + limit],
                page=page.page,
                per_page=page.per_page,
                total_items=len(RUNS),
            )
        ''',
        {"name": 1, "pagination": 1},
    ),
    "success_envelope": (
        '''\
        """Jobs."""
        from shared.models import create_success_response


        async def create(job):
            return create_success_response(data=job, message="Job created")


        async def update(job):
            return create_success_response(job)
        ''',
        '''\
        """Jobs."""


        async def create(job):
            return job


        async def update(job):
            return job
        ''',
        {"success-envelope": 2},
    ),
    "utils_logging_models_renamed": (
        """\
        import time

        from shared.logging import get_logger, log_database_operation, log_service_call
        from shared.models import BulkOperationResult, HealthResponse
        from shared.utils import mask_sensitive_data

        logger = get_logger(__name__)


        def record(payload, started):
            logger.info("payload %s", mask_sensitive_data(payload))
            log_service_call("executor", "POST", "/api/v1/executions", 201, (time.time() - started) * 1000)
            log_database_operation("insert job", 3.5, rows=1)


        def types() -> tuple:
            return (BulkOperationResult, HealthResponse)
        """,
        """\
        import time
        from opsconductor_contracts import BulkOperationResult, HealthResponse
        from opsconductor_shared import (
            get_logger,
            log_database_operation,
            log_service_call,
            mask_sensitive_data,
        )

        logger = get_logger(__name__)


        def record(payload, started):
            logger.info("payload %s", mask_sensitive_data(payload))
            log_service_call(
                "executor",
                "POST",
                "/api/v1/executions",
                status=201,
                duration_ms=(time.time() - started) * 1000,
            )
            log_database_operation("insert job", duration_ms=3.5, rows=1)


        def types() -> tuple:
            return (BulkOperationResult, HealthResponse)
        """,
        {"logging": 2, "name": 4},
    ),
}


MANUAL = {
    "non_literal_status": (
        """\
        from fastapi import HTTPException

        def f(upstream):
            raise HTTPException(status_code=upstream.status_code, detail="upstream failed")
        """,
        [(4, "HTTPException with a status that is not a literal")],
    ),
    "unknown_status": (
        """\
        from fastapi import HTTPException

        def f():
            raise HTTPException(status_code=418, detail="teapot")
        """,
        [(4, "HTTPException with status 418")],
    ),
    "dict_detail": (
        """\
        from fastapi import HTTPException

        def f():
            raise HTTPException(status_code=400, detail={"field": "name", "message": "required"})
        """,
        [(4, "HTTPException with a detail that is not text")],
    ),
    "validation_error_with_field": (
        """\
        from shared.errors import ValidationError

        def f():
            raise ValidationError("bad name", field="name")
        """,
        [(4, "BadRequestError with `field=`")],
    ),
    "star_arguments": (
        """\
        from shared.errors import not_found

        def f(args):
            raise not_found(*args)
        """,
        [(4, "NotFoundError called with *arguments")],
    ),
    "star_import": (
        """\
        from shared.errors import *

        def f():
            raise not_found("Target", 1)
        """,
        [(1, "from shared.errors import *")],
    ),
    "database_and_auth_service": (
        """\
        from shared.auth import AuthService
        from shared.database import get_db_cursor

        auth = AuthService()

        def rows():
            with get_db_cursor() as cursor:
                return cursor.fetchall()
        """,
        [(4, "shared.auth.AuthService"), (7, "shared.database.get_db_cursor")],
    ),
    "user_dict_passed_on": (
        """\
        from fastapi import Depends

        from shared.auth import get_current_user

        async def me(user: dict = Depends(get_current_user)):
            return audit(user)
        """,
        [(6, "`user` used as the old user dict")],
    ),
    "unknown_role": (
        """\
        from fastapi import Depends

        from shared.auth import require_role

        async def me(user: dict = Depends(require_role("superuser"))):
            return None
        """,
        [(5, 'require_role("superuser")')],
    ),
    "list_endpoint_not_recognised": (
        """\
        from fastapi import APIRouter

        from shared.errors import not_found

        router = APIRouter()

        @router.get("/users")
        async def list_users(skip: int = 0, limit: int = 100):
            users = []
            if not users:
                raise not_found("User")
            return users[skip:skip + limit]
        """,
        [(8, 'list endpoint list_users (an answer is not {"<items>": [...], "total": n})')],
    ),
    "list_endpoint_without_model": (
        """\
        from fastapi import APIRouter
        from fastapi import HTTPException

        router = APIRouter()

        @router.get("/targets")
        async def list_targets(skip: int = 0, limit: int = 100):
            return {"targets": [], "total": 0}
        """,
        [
            (
                7,
                "list endpoint list_targets (no response model declares targets: List[Item] and total: int)",
            )
        ],
    ),
    "app_without_name": (
        """\
        from fastapi import FastAPI

        from shared.errors import add_error_handlers

        app = FastAPI(title="Service")
        add_error_handlers(app)
        """,
        [(5, "FastAPI app without a service name"), (6, "shared.errors.add_error_handlers")],
    ),
    "health_route_and_post_200": (
        """\
        from fastapi import FastAPI, HTTPException

        app = FastAPI()

        @app.get("/health")
        async def health():
            return {"status": "ok"}

        @app.post("/a", status_code=201)
        async def a():
            return {}

        @app.post("/b")
        async def b():
            raise HTTPException(404)
        """,
        [(5, "route GET /health"), (13, "POST /b answers 200")],
    ),
}


@pytest.mark.parametrize(("before", "after", "kinds"), REWRITES.values(), ids=list(REWRITES))
def test_rewrite(before: str, after: str, kinds: dict[str, int]) -> None:
    result = migrate_source(source(before), path="service.py")
    assert result.migrated == source(after)
    assert dict(result.rewrites) == kinds
    assert result.manual == []
    again = migrate_source(result.migrated, path="service.py")
    assert again.migrated == result.migrated
    assert dict(again.rewrites) == {}


@pytest.mark.parametrize(("code", "steps"), MANUAL.values(), ids=list(MANUAL))
def test_left_with_a_manual_step(code: str, steps: list[tuple[int, str]]) -> None:
    text = source(code)
    result = migrate_source(text, path="service.py")
    assert [(step.line, step.what) for step in result.manual] == steps
    assert all(step.path == "service.py" for step in result.manual)
    assert all(step.step for step in result.manual)
    again = migrate_source(result.migrated, path="service.py")
    assert again.migrated == result.migrated
    assert [(step.line, step.what) for step in again.manual] == [
        (step.line, step.what) for step in result.manual
    ] or result.changed


def test_a_list_model_declared_in_another_module(tmp_path: Path) -> None:
    """The item type comes from the module that declares the old list model."""
    package = tmp_path / "service"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "schemas.py").write_text(
        source(
            """
            from typing import List

            from pydantic import BaseModel


            class Target(BaseModel):
                id: int


            class TargetList(BaseModel):
                targets: List[Target]
                total: int
            """
        )
    )
    (package / "routes.py").write_text(
        source(
            """
            from fastapi import APIRouter, Depends

            from shared.auth import get_current_user

            from .schemas import TargetList

            router = APIRouter()


            @router.get("/targets", response_model=TargetList)
            async def list_targets(skip: int = 0, limit: int = 100, user=Depends(get_current_user)):
                items = []
                return {"targets": items[skip:skip + limit], "total": len(items)}
            """
        )
    )
    report = migrate_paths([package])
    (routes,) = [f for f in report.files if f.path.endswith("routes.py")]
    assert routes.migrated == source(
        """
        from fastapi import APIRouter

        from .schemas import Target
        from opsconductor_shared import CurrentUser, PaginatedResponse, PaginationQuery

        router = APIRouter()


        @router.get("/targets", response_model=PaginatedResponse[Target])
        async def list_targets(page: PaginationQuery, user: CurrentUser):
            skip, limit = (page.page - 1) * page.per_page, page.per_page
            items = []
            return PaginatedResponse[Target].from_offset(
                items[skip:skip + limit],
                page=page.page,
                per_page=page.per_page,
                total_items=len(items),
            )
        """
    )
    assert dict(routes.rewrites) == {"auth": 1, "pagination": 1}
    assert report.manual == []


def test_install_auth_goes_where_the_app_is_made(tmp_path: Path) -> None:
    """Only a service that uses the auth dependencies (in any module) gets install_auth."""
    (tmp_path / "main.py").write_text(
        source(
            """
            from fastapi import FastAPI

            from shared.errors import add_error_handlers
            from shared.middleware import add_standard_middleware

            app = FastAPI(version="1.0.0")
            add_standard_middleware(app, "jobs-service")
            add_error_handlers(app)
            """
        )
    )
    (tmp_path / "routes.py").write_text("from shared.auth import require_admin\n")
    report = migrate_paths([tmp_path])
    (main,) = [f for f in report.files if f.path.endswith("main.py")]
    assert main.migrated.endswith(
        'app = create_service_app("jobs-service", "1.0.0")\ninstall_auth(app)\n'
    )
    alone = migrate_paths([tmp_path / "main.py"])
    assert alone.files[0].migrated.endswith('app = create_service_app("jobs-service", "1.0.0")\n')
