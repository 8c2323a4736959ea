"""Issuing and checking the auth service's tokens (RS256 JWTs with the contract's claims)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
from opsconductor_contracts import PrincipalType, TokenClaims, TokenResponse, TokenType

from .keys import ALGORITHM, SigningKey
from .services import ServiceAccount, ServiceAccountStore
from .settings import AuthServiceSettings
from .users import User, UserStore

LEEWAY_SECONDS = 30
REQUIRED = ["exp", "iat", "iss", "aud", "sub", "jti"]


class TokenError(Exception):
    """A token the auth service will not honour; `reason` is the VerifyResponse reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TokenIssuer:
    """Signs access and refresh tokens and checks them back, token version included."""

    def __init__(
        self,
        key: SigningKey,
        users: UserStore,
        settings: AuthServiceSettings,
        services: ServiceAccountStore | None = None,
    ) -> None:
        self.key = key
        self.users = users
        self.services = services
        self.settings = settings
        self._public_key = key.private_key.public_key()
        self._redeemed: dict[str, int] = {}  # refresh-token jti -> exp, until it expires

    def _sign(self, user: User, token_type: TokenType, ttl: int) -> str:
        return self._encode(
            sub=user.id,
            username=user.username,
            email=user.email,
            role=user.role,
            permissions=user.permissions,
            token_version=user.token_version,
            type=token_type,
            ttl=ttl,
        )

    def _encode(self, *, ttl: int, **fields: Any) -> str:
        now = int(time.time())
        claims = TokenClaims(
            **fields,
            iat=now,
            nbf=now,
            exp=now + ttl,
            iss=self.settings.issuer,
            aud=self.settings.audience,
            jti=str(uuid.uuid4()),
        )
        return jwt.encode(
            claims.model_dump(mode="json", exclude_none=True),
            self.key.private_key,
            algorithm=ALGORITHM,
            headers={"kid": self.key.kid},
        )

    def service_token_response(self, account: ServiceAccount, scopes: list[str]) -> TokenResponse:
        """A short-lived access token of a service (client credentials: no refresh token)."""
        ttl = self.settings.service_token_ttl
        scope = " ".join(scopes)
        token = self._encode(
            sub=account.client_id,
            username=account.client_id,
            role=account.role,
            permissions=scopes,
            token_version=account.token_version,
            type=TokenType.access,
            principal_type=PrincipalType.service,
            scope=scope or None,
            ttl=ttl,
        )
        return TokenResponse(
            access_token=token,
            token_type="Bearer",  # noqa: S106 - the RFC 6749 token type, not a secret
            expires_in=ttl,
            refresh_token=None,
            refresh_expires_in=None,
            scope=scope or None,
        )

    def token_response(self, user: User) -> TokenResponse:
        """A fresh access token and refresh token for `user`."""
        return TokenResponse(
            access_token=self._sign(user, TokenType.access, self.settings.access_token_ttl),
            token_type="Bearer",  # noqa: S106 - the RFC 6749 token type, not a secret
            expires_in=self.settings.access_token_ttl,
            refresh_token=self._sign(user, TokenType.refresh, self.settings.refresh_token_ttl),
            refresh_expires_in=self.settings.refresh_token_ttl,
        )

    def redeem_refresh_token(self, token: str) -> User:
        """The user of a valid refresh token, which can be redeemed once (rotation).

        A refresh token presented a second time means it leaked: every token of its user is
        revoked (RFC 9700, refresh token reuse detection).

        Raises:
            TokenError: the token is not a valid refresh token, or was redeemed before
                (`reused`).
        """
        claims, user = self.check(token, expected=TokenType.refresh)
        if not isinstance(user, User):
            raise TokenError("wrong_type")
        now = int(time.time())
        self._redeemed = {jti: exp for jti, exp in self._redeemed.items() if exp > now}
        if claims.jti in self._redeemed:
            self.users.revoke(user.id)
            raise TokenError("reused")
        self._redeemed[claims.jti] = claims.exp
        return user

    def check(
        self, token: str, *, expected: TokenType
    ) -> tuple[TokenClaims, User | ServiceAccount]:
        """The claims and user (or service account) of a valid, unrevoked token of the
        expected type.

        Raises:
            TokenError: with the reason (`expired`, `invalid_signature`, `malformed`,
                `wrong_type`, `revoked`, `unknown_user`, `invalid_claims`).
        """
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") != ALGORITHM or header.get("kid") not in (None, self.key.kid):
                raise TokenError("invalid_signature")
            payload: dict[str, Any] = jwt.decode(
                token,
                self._public_key,
                algorithms=[ALGORITHM],
                audience=self.settings.audience,
                issuer=self.settings.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": REQUIRED},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenError("expired") from exc
        except jwt.InvalidSignatureError as exc:
            raise TokenError("invalid_signature") from exc
        except jwt.PyJWTError as exc:
            raise TokenError("malformed") from exc
        try:
            claims = TokenClaims.model_validate(payload)
        except ValueError as exc:
            raise TokenError("invalid_claims") from exc
        if claims.type is not expected:
            raise TokenError("wrong_type")
        user: User | ServiceAccount | None
        if claims.principal_type is PrincipalType.service:
            user = self.services.get(claims.sub) if self.services is not None else None
        else:
            user = self.users.get(claims.sub)
        if user is None or not user.active:
            raise TokenError("unknown_user")
        if claims.token_version != user.token_version:
            raise TokenError("revoked")
        return claims, user
