"""`install_auth`: give an app its token verifier, its lifespan and its readiness checks."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from .._app import get_runtime
from ._local import LocalTokenVerifier
from ._middleware import BearerIdentityMiddleware
from ._remote import RemoteTokenVerifier
from ._settings import AuthSettings
from ._verifier import TokenVerifier

__all__ = [
    "create_verifier",
    "install_auth",
]


def create_verifier(settings: AuthSettings, **kwargs: Any) -> TokenVerifier:
    """The verifier of `settings.mode`: `LocalTokenVerifier` or `RemoteTokenVerifier`."""
    if settings.mode == "remote":
        return RemoteTokenVerifier(settings, **kwargs)
    return LocalTokenVerifier(settings, **kwargs)


def install_auth(
    app: FastAPI,
    settings: AuthSettings | None = None,
    *,
    verifier: TokenVerifier | None = None,
) -> TokenVerifier:
    """Make the auth dependencies work on `app` (made by `create_service_app`).

    Creates the verifier (unless one is given), opens and closes it with the app (the JWKS
    refresher, the auth service's client), registers readiness checks (the auth service's
    reachability in remote mode, whether any signing key is known with a JWKS), and adds
    `BearerIdentityMiddleware` in the stack's `auth` slot, so that rate limits count per
    principal and role.

    Args:
        app: the app.
        settings: the auth settings; default: the service settings' `auth` field if it has
            one, else `AuthSettings.for_service(name)` (`<SERVICE>_AUTH__*` variables).
        verifier: a ready-made verifier instead (its settings are used).

    Raises:
        RuntimeError: the app was not made by `create_service_app`, has started, or has auth.
        ValueError: the auth settings are missing or invalid.
    """
    runtime = get_runtime(app)
    if getattr(app.state, "token_verifier", None) is not None:
        raise RuntimeError("auth is already installed on this app")
    if verifier is None:
        if settings is None:
            nested = getattr(runtime.settings, "auth", None)
            settings = (
                nested
                if isinstance(nested, AuthSettings)
                else AuthSettings.for_service(runtime.name)
            )
        verifier = create_verifier(settings)
    runtime.middleware.fill("auth", BearerIdentityMiddleware, verifier=verifier)
    runtime.add_lifespan_hook(verifier.lifespan)
    for name, check in verifier.readiness_checks().items():
        runtime.health.register(name, check, timeout=verifier.settings.timeout, critical=True)
    app.state.token_verifier = verifier
    return verifier
