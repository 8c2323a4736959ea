"""OpsConductor contract models: the shapes that cross a service boundary, as Pydantic v2 models.

The models are generated from the OpenAPI schemas in `schemas/` into `opsconductor_contracts._gen`
(`make generate`; never edit it by hand). This module and `_base.py` (`ContractModel`, the base
of every model) are written by hand around it: this is the public API. `CONTRACTS_VERSION` (the
schemas' `info.version`) and `ERROR_STATUS` (each `ErrorCode`'s HTTP status, its `x-status`)
are generated too.

`PaginatedResponse` is not exported: the schema's page template has no item type, so services
use the generic `opsconductor_shared.PaginatedResponse[T]`, which is tested to match it.
"""

from ._base import ContractModel
from ._gen import CONTRACTS_VERSION
from ._gen.audit import ActorType, AuditActor, AuditChanges, AuditLog, AuditOutcome
from ._gen.auth import (
    ClientCredentialsRequest,
    Identity,
    JsonWebKey,
    JsonWebKeySet,
    JwkKeyType,
    JwsAlgorithm,
    LoginRequest,
    PrincipalType,
    RefreshRequest,
    Role,
    ServiceSecretResponse,
    TokenClaims,
    TokenResponse,
    TokenType,
    UserSummary,
    VerifyRequest,
    VerifyResponse,
)
from ._gen.entities import BaseEntity, Entity
from ._gen.error_status import ERROR_STATUS
from ._gen.errors import ErrorCode, ErrorDetail, ErrorResponse
from ._gen.health import DependencyCheck, HealthResponse, HealthStatus
from ._gen.pagination import (
    FilterParams,
    PaginationMeta,
    PaginationParams,
    SortDirection,
    SortKey,
    SortParams,
)
from ._gen.responses import BulkItemResult, BulkItemStatus, BulkOperationResult, StandardResponse

__all__ = [
    "ActorType",
    "AuditActor",
    "AuditChanges",
    "AuditLog",
    "AuditOutcome",
    "BaseEntity",
    "BulkItemResult",
    "BulkItemStatus",
    "BulkOperationResult",
    "CONTRACTS_VERSION",
    "ClientCredentialsRequest",
    "ContractModel",
    "DependencyCheck",
    "ERROR_STATUS",
    "Entity",
    "ErrorCode",
    "ErrorDetail",
    "ErrorResponse",
    "FilterParams",
    "HealthResponse",
    "HealthStatus",
    "Identity",
    "JsonWebKey",
    "JsonWebKeySet",
    "JwkKeyType",
    "JwsAlgorithm",
    "LoginRequest",
    "PaginationMeta",
    "PaginationParams",
    "PrincipalType",
    "RefreshRequest",
    "Role",
    "ServiceSecretResponse",
    "SortDirection",
    "SortKey",
    "SortParams",
    "StandardResponse",
    "TokenClaims",
    "TokenResponse",
    "TokenType",
    "UserSummary",
    "VerifyRequest",
    "VerifyResponse",
]

_WITHHELD = {
    "PaginatedResponse": (
        "opsconductor_contracts.PaginatedResponse is not exported: it is the schema's page "
        "template, without an item type. Use the generic opsconductor_shared.PaginatedResponse[T], "
        "for example `response_model=PaginatedResponse[Target]`."
    ),
}
"""Generated models that are deliberately not exported, with what to use instead."""


def __getattr__(name: str) -> object:
    # An ImportError, not an AttributeError: `from opsconductor_contracts import X` replaces an
    # AttributeError's message with its own "cannot import name", which would hide the advice.
    if name in _WITHHELD:
        raise ImportError(_WITHHELD[name], name=__name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
