"""Property-based attacks on both reference services, in both stores (see conftest).

Random text in every query and path parameter, hostile headers, tokens with every claim
out of shape and every algorithm, bodies that are deep, huge, not UTF-8, not JSON or of
the wrong content type. Whatever comes in, the answer keeps `assert_safe`'s invariants.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.adversarial.conftest import KEYS, PROPERTY, TOKENS, Service, assert_safe

# Every query parameter of every list operation, per service.
QUERIES: dict[str, list[tuple[str, str]]] = {
    "targets": [
        ("/targets", name)
        for name in (
            "page", "per_page", "page_token", "search", "created_after", "created_before",
            "updated_after", "updated_before", "os_type", "tag", "sort",
        )
    ]
    + [("/audit", "page"), ("/audit", "per_page"), ("/audit", "page_token")],
    "auth": [],
}  # fmt: skip
# Every path with a parameter: (method, template) and the role that may call it.
PATHS: dict[str, list[tuple[str, str, str]]] = {
    "targets": [
        ("GET", "/targets/{}", "viewer"),
        ("PATCH", "/targets/{}", "operator"),
        ("DELETE", "/targets/{}", "admin"),
    ],
    # viewer: the admin-only revoke refuses before it could revoke anyone
    "auth": [("POST", "/auth/users/{}/revoke", "viewer")],
}
BODIES: dict[str, list[tuple[str, str]]] = {
    "targets": [("POST", "/targets"), ("POST", "/targets/bulk"), ("PATCH", "/targets/1")],
    "auth": [("POST", "/auth/login"), ("POST", "/auth/refresh"), ("POST", "/auth/verify")],
}
PROTECTED = {"targets": "/targets", "auth": "/auth/me"}
# The request ids the runtime adopts from a caller (middleware/standard.py).
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

hostile_text = st.one_of(
    st.text(min_size=1, max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=6, max_size=60),
    st.sampled_from(
        [
            "name;DROP TABLE targets--",
            "' OR '1'='1",
            "\x00\x00\x00",
            "../../etc/passwd",
            "%00%0d%0a",
            "<script>alert(1)</script>",
            "9" * 400,
            "-9223372036854775809",
            "1e309",
            "NaN",
            "☃" * 50,
        ]
    ),
)


def _kind(service: Service) -> str:
    return "auth" if service.name == "auth" else "targets"


@PROPERTY
@given(data=st.data(), value=hostile_text)
def test_every_query_parameter(service: Service, data: st.DataObject, value: str) -> None:
    queries = QUERIES[_kind(service)]
    if not queries:
        pytest.skip("the auth service has no query parameters")
    path, name = data.draw(st.sampled_from(queries))
    response = service.client.get(path, params={name: value}, headers=service.headers("admin"))
    assert_safe(response, sent=(value,), secrets=tuple(service.secrets))


@PROPERTY
@given(data=st.data(), value=hostile_text)
def test_every_path_parameter(service: Service, data: st.DataObject, value: str) -> None:
    method, template, role = data.draw(st.sampled_from(PATHS[_kind(service)]))
    body = {"lock_version": 1} if method == "PATCH" else None
    response = service.client.request(
        method, template.format(quote(value, safe="")), json=body, headers=service.headers(role)
    )
    assert_safe(response, sent=(value,), secrets=tuple(service.secrets))


header_value = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=2000
)


@PROPERTY
@given(
    name=st.sampled_from(
        ["X-Request-ID", "traceparent", "tracestate", "Authorization", "Content-Type", "Accept",
         "X-Forwarded-For", "Content-Length", "Origin", "Idempotency-Key", "Cookie"]
    ),
    value=header_value,
)  # fmt: skip
def test_hostile_headers(service: Service, name: str, value: str) -> None:
    headers = {**service.headers("admin"), name: value}
    if name == "Content-Length":
        headers.pop(name)  # httpx computes it; a wrong one is the server's (uvicorn's) to refuse
    response = service.client.get(PROTECTED[_kind(service)], headers=headers)
    _assert_safe_header_answer(service, name, value, response)


def _assert_safe_header_answer(
    service: Service, name: str, value: str, response: httpx.Response
) -> None:
    sent: tuple[str, ...] = (value,)
    if name == "Authorization":
        sent = ()
    elif name == "X-Request-ID" and response.headers.get("x-request-id") == value:
        # The caller's id adopted, as request ids propagate between services: not an echo, as
        # long as only ids of the safe form are adopted (`assert_safe` checks that the
        # envelope's `request_id` is the one of the response header).
        assert SAFE_REQUEST_ID.fullmatch(value), value
        sent = ()
    assert_safe(response, sent=sent, secrets=tuple(service.secrets))


def test_an_adopted_request_id_is_no_echo(service: Service) -> None:
    # Found by `make fuzz`: a 429 to a request whose X-Request-ID was `00000000`.
    response = service.client.get(PROTECTED[_kind(service)], headers={"X-Request-ID": "00000000"})
    assert response.status_code == 401
    assert response.json()["request_id"] == "00000000"
    _assert_safe_header_answer(service, "X-Request-ID", "00000000", response)


claim_value = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=50),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
CLAIMS = ("sub", "username", "role", "permissions", "token_version", "type", "iat", "exp",
          "nbf", "iss", "aud", "jti")  # fmt: skip


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _sign(claims: dict[str, Any], algorithm: str) -> str:
    # By hand: PyJWT refuses to encode claims of the wrong type, which are the point here.
    header = _b64(json.dumps({"alg": algorithm, "typ": "JWT"}).encode())
    payload = _b64(json.dumps(claims).encode())
    signing_input = f"{header}.{payload}".encode()
    if algorithm == "none":
        return f"{header}.{payload}."
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[algorithm]
    signature = hmac.new(KEYS.hs256_secret.encode(), signing_input, digest).digest()
    return f"{header}.{payload}.{_b64(signature)}"


@PROPERTY
@given(
    overrides=st.dictionaries(st.sampled_from(CLAIMS), claim_value, min_size=1, max_size=4),
    algorithm=st.sampled_from(["HS256", "HS384", "HS512", "none"]),
    padding=st.integers(min_value=0, max_value=20000),
)
def test_tokens_with_any_claim_and_algorithm(
    service: Service, overrides: dict[str, Any], algorithm: str, padding: int
) -> None:
    claims = {**TOKENS.claims("admin"), **overrides, "pad": "x" * padding}
    claims = {name: value for name, value in claims.items() if value is not None}
    token = _sign(claims, algorithm)
    response = service.client.get(
        PROTECTED[_kind(service)], headers={"Authorization": f"Bearer {token}"}
    )
    assert_safe(response, secrets=(KEYS.hs256_secret, token))
    if response.status_code < 400:
        assert algorithm == "HS256"
        assert service.name != "auth"


json_value = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**400), max_value=10**400),
        st.floats(),
        st.text(max_size=40),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=30,
)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


raw_body = st.one_of(
    json_value.map(_dumps),
    st.binary(max_size=500),
    st.integers(min_value=1, max_value=200_000).map(lambda depth: b"[" * depth + b"]" * depth),
    st.integers(min_value=1, max_value=200_000).map(lambda depth: b'{"a":' * depth + b"1" + b"}" * depth),
    st.just(b'{"name": "\xff\xfe", "hostname": "h", "os_type": "linux"}'),
    st.just(b'{"name": "a\\u0000b", "hostname": "h", "os_type": "linux"}'),
    st.just(b'{"port": 1' + b"0" * 5000 + b"}"),
)  # fmt: skip
content_type = st.sampled_from(
    ["application/json", "text/plain", "application/x-www-form-urlencoded",
     "multipart/form-data", "application/json; charset=latin-1", "application/xml", ""]
)  # fmt: skip


@PROPERTY
@given(data=st.data(), body=raw_body, kind=content_type)
def test_hostile_bodies(service: Service, data: st.DataObject, body: bytes, kind: str) -> None:
    method, path = data.draw(st.sampled_from(BODIES[_kind(service)]))
    headers = {**service.headers("admin"), "Content-Type": kind}
    response = service.client.request(method, path, content=body, headers=headers)
    assert_safe(response, secrets=tuple(service.secrets))
    if kind != "application/json" and response.status_code < 300:
        pytest.fail(f"{kind!r} taken as JSON: {response.status_code}")
