"""Forged, broken and hostile tokens: the attack list every verifier must answer with 401."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import jwt

from .fake_auth import FakeAuthService, base_claims, public_pem


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(value: dict[str, Any]) -> str:
    return b64(json.dumps(value).encode())


def unsigned(fake: FakeAuthService, signature: str = "") -> str:
    return f"{segment({'alg': 'none', 'typ': 'JWT'})}.{segment(base_claims())}.{signature}"


def hs256_with_public_key(fake: FakeAuthService) -> str:
    header = segment({"alg": "HS256", "typ": "JWT", "kid": fake.signing_kid})
    signing_input = f"{header}.{segment(base_claims())}".encode()
    key = public_pem(fake.all_keys[fake.signing_kid])
    return f"{signing_input.decode()}.{b64(hmac.new(key, signing_input, hashlib.sha256).digest())}"


def tampered(fake: FakeAuthService) -> str:
    header, _, signature = fake.issue().split(".")
    return f"{header}.{segment(base_claims(role='admin'))}.{signature}"


def other_algorithm(fake: FakeAuthService) -> str:
    kid = fake.signing_kid
    return jwt.encode(base_claims(), fake.all_keys[kid], algorithm="RS512", headers={"kid": kid})


def signed_by_unpublished_key(fake: FakeAuthService) -> str:
    return jwt.encode(base_claims(), fake.all_keys["k3"], algorithm="RS256", headers={"kid": "k1"})


now = time.time

ATTACKS: dict[str, Callable[[FakeAuthService], str]] = {
    "alg_none_empty_signature": unsigned,
    "alg_none_with_signature": lambda fake: unsigned(fake, "c2lnbmF0dXJl"),
    "hs256_signed_with_rsa_public_key": hs256_with_public_key,
    "expired": lambda fake: fake.issue(exp=int(now()) - 3600, iat=int(now()) - 7200),
    "not_yet_valid": lambda fake: fake.issue(nbf=int(now()) + 3600),
    "wrong_issuer": lambda fake: fake.issue(iss="someone-else"),
    "wrong_audience": lambda fake: fake.issue(aud="another-product"),
    "tampered_payload": tampered,
    "refresh_token_as_access_token": lambda fake: fake.issue(type="refresh"),
    "truncated_signature": lambda fake: fake.issue()[:-12],
    "two_segments": lambda fake: fake.issue().rsplit(".", 1)[0],
    "garbage": lambda fake: "not-a-jwt-at-all",
    "garbage_segments": lambda fake: "a.b.c",
    "header_not_json": lambda fake: f"{b64(b'not json')}.{segment(base_claims())}.c2ln",
    "header_not_an_object": lambda fake: f"{b64(b'[1,2]')}.{segment(base_claims())}.c2ln",
    "oversized_8kb_signed": lambda fake: fake.issue(permissions=["p" * 60] * 130),
    "oversized_8kb_garbage": lambda fake: "a" * 8192,
    "other_algorithm_for_the_key": other_algorithm,
    "signed_by_unpublished_key": signed_by_unpublished_key,
    "missing_exp": lambda fake: fake.issue(exp=None),
    "claims_not_the_contract": lambda fake: fake.issue(role="superuser"),
    "non_ascii": lambda fake: fake.issue()[:-4] + "ééé",
}
