"""Masking by key tokens: secrets under any spelling, in fields and header pairs (hypothesis)."""

from __future__ import annotations

import dataclasses
import json
import string
from typing import Any, NamedTuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opsconductor_shared import REDACTED, get_logger, mask_sensitive_data
from opsconductor_shared._masking import is_sensitive_key
from opsconductor_shared.testing import CapturedLogs
from pydantic import BaseModel

SECRET_SPELLINGS = [
    "api key",
    "API Key",
    "private.key",
    "private_key",
    "privateKey",
    "pwd",
    "pass",
    "PASS",
    "db.password",
    "userPassword",
    "dbpassword",
    "refreshToken",
    "clientSecret",
    "x-api-key",
    "X_API_KEY",
    "session.id",
    "Set-Cookie",
    "connection string",
    "secret",
]
READABLE_KEYS = [
    "max_tokens",
    "session_count",
    "tokenizer",
    "token_type",
    "author",
    "passenger",
    "compass",
    "keyboard",
    "monkey",
    "description",
    "hostname",
    "api_version",
    "primary_key",
]
# One word that names a secret, spelt inside a key in every way a key is spelt.
SECRET_WORDS = ["password", "passwd", "pwd", "pass", "secret", "token", "cookie", "credentials"]
SECRET_PAIRS = [("api", "key"), ("private", "key"), ("access", "key"), ("database", "url")]
PLAIN_WORDS = ["user", "db", "client", "primary", "my", "x", "host", "name", "new"]
SEPARATORS = st.sampled_from(["_", "-", ".", " ", ""])
SECRETS = st.text(alphabet=string.ascii_letters + string.digits, min_size=8, max_size=24).map(
    lambda s: f"Zq{s}"
)


@st.composite
def spelt_keys(draw: st.DrawFn, words: st.SearchStrategy[tuple[str, ...]]) -> str:
    before = draw(st.lists(st.sampled_from(PLAIN_WORDS), max_size=2))
    after = draw(st.lists(st.sampled_from(PLAIN_WORDS), max_size=2))
    parts = [*before, *draw(words), *after]
    separator = draw(SEPARATORS)
    if separator == "":  # camelCase: the separator is a capital letter
        return parts[0] + "".join(part.capitalize() for part in parts[1:])
    case = draw(st.sampled_from([str.lower, str.upper, str.capitalize]))
    return separator.join(case(part) for part in parts)


SECRET_KEYS = spelt_keys(
    st.sampled_from(SECRET_WORDS).map(lambda word: (word,)) | st.sampled_from(SECRET_PAIRS)
)


@pytest.mark.parametrize("key", SECRET_SPELLINGS)
def test_secret_spellings(key: str) -> None:
    assert is_sensitive_key(key)


@pytest.mark.parametrize("key", READABLE_KEYS)
def test_readable_keys(key: str) -> None:
    assert not is_sensitive_key(key)


@settings(max_examples=300)
@given(key=SECRET_KEYS, secret=SECRETS)
def test_a_secret_word_under_any_spelling_is_masked(key: str, secret: str) -> None:
    assert is_sensitive_key(key), key
    assert secret not in json.dumps(mask_sensitive_data({"outer": {key: secret}}))


@settings(max_examples=200)
@given(key=spelt_keys(st.sampled_from(READABLE_KEYS).map(lambda key: (key,))))
def test_readable_keys_stay_readable_under_any_spelling(key: str) -> None:
    # `max_tokens` spelt `max-tokens`, `maxTokens`, `X_MAX_TOKENS`, ...
    assert not is_sensitive_key(key), key


@dataclasses.dataclass
class Login:
    user: str
    password: str


class Connection(BaseModel):
    host: str
    api_key: str


class Credentials(NamedTuple):
    user: str
    pwd: str


@settings(max_examples=50)
@given(secret=SECRETS)
def test_fields_of_dataclasses_models_and_named_tuples_are_masked(secret: str) -> None:
    values: list[Any] = [
        Login("ada", secret),
        Connection(host="db", api_key=secret),
        Credentials("ada", secret),
    ]
    masked = mask_sensitive_data({"values": values})
    assert secret not in json.dumps(masked)
    assert masked["values"][0] == {"user": "ada", "password": REDACTED}
    assert masked["values"][1] == {"host": "db", "api_key": REDACTED}


@settings(max_examples=50)
@given(
    secret=SECRETS,
    name=st.sampled_from([b"x-api-key", b"authorization", b"cookie", "X-Auth-Token"]),
)
def test_raw_header_pairs_are_masked(secret: str, name: bytes | str) -> None:
    headers = [(b"content-type", b"application/json"), (name, secret.encode())]
    masked = mask_sensitive_data({"headers": headers})
    assert secret not in json.dumps(masked)
    assert masked["headers"][0] == ("content-type", "application/json")


def test_a_dataclass_password_never_reaches_a_log_line(captured_logs: CapturedLogs) -> None:
    get_logger("tests.masking").info("login", login=Login("ada", "Zqhunter22"))
    assert "Zqhunter22" not in captured_logs.text()
    (line,) = captured_logs.events("login")
    assert line["login"] == {"user": "ada", "password": REDACTED}
