"""mask_sensitive_data: secrets never survive, inputs never change (hypothesis)."""

from __future__ import annotations

import copy
import json
import string
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opsconductor_shared import REDACTED, mask_sensitive_data
from opsconductor_shared._masking import is_clean_flat_mapping, is_sensitive_key
from pydantic import SecretStr

SECRET_KEYS = [
    "password",
    "PASSWORD",
    "db_passwd",
    "client_secret",
    "X-API-Key",
    "apiKey",
    "access_token",
    "Authorization",
    "set-cookie",
    "session_id",
    "aws_credentials",
    "private_key",
    "DSN",
    "database_url",
    "ConnectionString",
    "passphrase",
    "secret_access_key",
]
PLAIN_KEYS = [
    "name",
    "hostname",
    "port",
    "status",
    "user",
    "description",
    "count",
    "role",
    "author",
]
# Secrets drawn from a distinct alphabet so that finding them in the output is unambiguous.
SECRETS = st.text(
    alphabet=string.ascii_letters + string.digits + "!#%^*", min_size=8, max_size=40
).map(lambda s: f"Zq{s}")
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(alphabet=string.ascii_lowercase + " ", max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(PLAIN_KEYS), inner, max_size=4)
    ),
    max_leaves=12,
)


@pytest.mark.parametrize("key", SECRET_KEYS)
def test_sensitive_keys(key: str) -> None:
    assert is_sensitive_key(key)


@pytest.mark.parametrize("key", PLAIN_KEYS)
def test_plain_keys(key: str) -> None:
    assert not is_sensitive_key(key)


@settings(max_examples=200)
@given(
    data=JSON_VALUES,
    key=st.sampled_from(SECRET_KEYS),
    secret=SECRETS,
    path=st.lists(st.sampled_from(PLAIN_KEYS), max_size=3),
)
def test_secret_under_a_sensitive_key_never_survives(
    data: Any, key: str, secret: str, path: list[str]
) -> None:
    nested: dict[str, Any] = {key: secret}
    for part in reversed(path):
        nested = {part: nested}
    document = {"payload": data, "nested": nested, "listed": [nested]}
    before = copy.deepcopy(document)
    masked = mask_sensitive_data(document)
    rendered = json.dumps(masked)
    assert secret not in rendered
    # Not even a piece of it, nor its length: the output is the same for any other secret.
    other = json.loads(json.dumps(document).replace(json.dumps(secret)[1:-1], "x"))
    assert json.dumps(mask_sensitive_data(other)) == rendered
    assert document == before
    assert masked["payload"] == data


VALUE_PATTERNS = [
    ("Authorization: Bearer {s}", "Authorization: Bearer [REDACTED]"),
    (
        "postgresql://ops:{s}@db.internal:5432/ops",
        "postgresql://ops:[REDACTED]@db.internal:5432/ops",
    ),
    (
        "connect host=db password={s} sslmode=require",
        "connect host=db password=[REDACTED] sslmode=require",
    ),
    ("?api_key={s}&page=2", "?api_key=[REDACTED]&page=2"),
    ('{{"client_secret": "{s}"}}', '{{"client_secret": "[REDACTED]"}}'),
]


@settings(max_examples=100)
@given(secret=SECRETS, pattern=st.sampled_from(VALUE_PATTERNS))
def test_secrets_inside_strings(secret: str, pattern: tuple[str, str]) -> None:
    template, expected = pattern
    assert mask_sensitive_data(template.format(s=secret)) == expected.format()


@settings(max_examples=100)
@given(
    header=st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=10, max_size=30),
    payload=st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=10, max_size=60),
)
def test_jwts_anywhere(header: str, payload: str) -> None:
    token = f"eyJ{header}.{payload}.sig{payload[:8]}"
    masked = mask_sensitive_data({"message": f"rejected token {token} from client"})
    assert token not in masked["message"]
    assert masked["message"] == f"rejected token {REDACTED} from client"


def test_aws_keys_private_keys_and_secret_objects() -> None:
    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----"
    masked = mask_sensitive_data(
        ["key AKIAIOSFODNN7EXAMPLE used", f"loaded {pem}", SecretStr("x"), b"password=abc"]
    )
    assert masked == ["key [REDACTED] used", "loaded [REDACTED]", REDACTED, "password=[REDACTED]"]


def test_structure_and_types_are_kept() -> None:
    data = {"ids": (1, 2), "tags": ["a"], "ok": True, "ratio": 0.5, "none": None, "password": None}
    assert mask_sensitive_data(data) == data


def test_plain_text_is_left_alone() -> None:
    text = "basic auth failed for user alice: 3 attempts; token is missing"
    assert mask_sensitive_data(text) == text


def test_cycles_and_depth_terminate() -> None:
    node: dict[str, Any] = {}
    node["self"] = node
    masked = mask_sensitive_data(node)
    depth = 0
    while isinstance(masked, dict):
        masked = masked["self"]
        depth += 1
    assert masked == "[TRUNCATED]"
    assert depth <= 40


FLAT_VALUES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | SECRETS.flatmap(lambda s: st.sampled_from(VALUE_PATTERNS).map(lambda p: p[0].format(s=s)))
    | st.lists(st.integers(), max_size=2)
)


@settings(max_examples=300)
@given(
    mapping=st.dictionaries(
        st.sampled_from(PLAIN_KEYS + SECRET_KEYS) | st.text(max_size=12), FLAT_VALUES, max_size=8
    )
)
def test_a_clean_flat_mapping_is_exactly_what_masking_returns(mapping: dict[str, Any]) -> None:
    # Twice: the second time, keys and strings seen the first time take the short paths.
    for _ in range(2):
        if is_clean_flat_mapping(mapping):
            assert mask_sensitive_data(mapping) == mapping


@pytest.mark.parametrize("template", [p[0] for p in VALUE_PATTERNS])
def test_a_string_with_a_secret_is_never_taken_for_clean(template: str) -> None:
    line = {"event": "request", "path": "/items/1", "note": template.format(s="Zqsecret123")}
    assert is_clean_flat_mapping({"event": "request", "path": "/items/1"})
    for _ in range(3):
        assert not is_clean_flat_mapping(line)
    assert is_clean_flat_mapping({"event": "request", "path": "/items/1"})
