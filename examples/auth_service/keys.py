"""The auth service's signing key: loaded from settings, or generated once in development."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from jwt.utils import base64url_encode
from opsconductor_contracts import JsonWebKey, JsonWebKeySet

ALGORITHM = "RS256"
KEY_BITS = 2048


@dataclass(frozen=True)
class SigningKey:
    """An RSA private key with its key id."""

    private_key: rsa.RSAPrivateKey
    kid: str

    @property
    def public_jwk(self) -> JsonWebKey:
        jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.private_key.public_key()))
        return JsonWebKey(kty="RSA", kid=self.kid, use="sig", alg=ALGORITHM, n=jwk["n"], e=jwk["e"])

    def jwks(self) -> JsonWebKeySet:
        return JsonWebKeySet(keys=[self.public_jwk])


def thumbprint(private_key: rsa.RSAPrivateKey) -> str:
    """The RFC 7638 JWK thumbprint of the public key, a stable key id."""
    jwk = json.loads(RSAAlgorithm.to_jwk(private_key.public_key()))
    canonical = json.dumps(
        {"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}, separators=(",", ":"), sort_keys=True
    )
    return base64url_encode(hashlib.sha256(canonical.encode()).digest()).decode()


def _load_pem(pem: bytes, origin: str) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{origin} is not a PEM private key without a passphrase") from exc
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < KEY_BITS:
        raise ValueError(f"{origin} must be an RSA key of at least {KEY_BITS} bits")
    return key


def load_or_create_key(*, pem: str | None, path: Path, kid: str | None, create: bool) -> SigningKey:
    """The signing key from `pem`, else from `path`; created there when `create` allows.

    Raises:
        ValueError: no key is configured and none may be created, or the key is unusable.
    """
    if pem is not None:
        key = _load_pem(pem.encode(), "the configured signing key")
    elif path.exists():
        key = _load_pem(path.read_bytes(), str(path))
    elif create:
        key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
    else:
        raise ValueError(f"no signing key: configure one, or allow creating {path}")
    return SigningKey(key, kid or thumbprint(key))
