"""Authentication: verify the auth service's tokens, and FastAPI dependencies that use them.

settings = AuthSettings.for_service("targets")      # TARGETS_AUTH__MODE=local, ...
install_auth(app, settings)

@app.get("/targets")
async def list_targets(user: CurrentUser): ...

@app.delete("/targets/{id}", dependencies=[Depends(require_admin)])
async def delete_target(id: int): ...
"""

from ._dependencies import (
    CurrentUser,
    OptionalUser,
    VerifiedClaims,
    get_optional_verified_token,
    get_verified_token,
    require_admin,
    require_permissions,
    require_role,
    require_scope,
    require_service,
    require_user,
)
from ._install import install_auth
from ._local import LocalTokenVerifier
from ._remote import RemoteTokenVerifier
from ._settings import AuthSettings
from ._verifier import (
    Rejection,
    TokenRejectedError,
    TokenVerifier,
    VerifiedToken,
    identity_from_claims,
)

__all__ = [
    "AuthSettings",
    "CurrentUser",
    "LocalTokenVerifier",
    "OptionalUser",
    "Rejection",
    "RemoteTokenVerifier",
    "TokenRejectedError",
    "TokenVerifier",
    "VerifiedClaims",
    "VerifiedToken",
    "get_optional_verified_token",
    "get_verified_token",
    "identity_from_claims",
    "install_auth",
    "require_admin",
    "require_permissions",
    "require_role",
    "require_scope",
    "require_service",
    "require_user",
]
