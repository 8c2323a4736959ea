"""Masking of secrets in anything that is about to be logged: `mask_sensitive_data`.

Two rules, applied recursively through mappings and sequences:

- a value under a key that names a secret is replaced whole. Keys are matched by word
  tokens, not substrings: the key is split on `-`, `_`, `.`, spaces and camelCase, and names
  a secret when a token is a secret word (password, passwd, pwd, pass, passphrase, secret,
  token, authorization, cookie, session, credential, dsn, signature, ...; joined compounds
  such as `dbpassword` too) or two tokens make a pair (api key, private key, access key,
  database url, connection string, session id), unless a token says the value only describes
  the secret (`max_tokens`, `session_count`, `token_type`). The fields of dataclasses,
  pydantic models and named tuples are keys like any other, and so is the name of a
  `(name, value)` pair (raw header lists: `[(b"x-api-key", b"...")]`);
- a string is scanned for secrets it carries itself: bearer and basic credentials, JWTs,
  passwords in `scheme://user:password@host` URLs and `password=...` pairs, AWS access key
  ids and PEM private keys; only the secret part is replaced.

A replaced secret leaves nothing of itself behind: not its length, not its first or last
characters. The input is never modified; a new structure is returned.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, SecretBytes, SecretStr

__all__ = [
    "MaskedStr",
    "REDACTED",
    "SENSITIVE_KEY_WORDS",
    "is_clean_flat_mapping",
    "is_sensitive_key",
    "key_tokens",
    "mask_sensitive_data",
    "mask_string",
    "safe_repr",
]

REDACTED = "[REDACTED]"

# A key is split into lowercase word tokens (on `-`, `_`, `.`, spaces and camelCase); it names
# a secret when a token is one of these words (or a joined compound ending in one of the
# suffixes: `dbpassword`, `clientsecret`), or two adjacent tokens make one of the pairs.
SENSITIVE_KEY_WORDS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "pass",
        "passphrase",
        "secret",
        "secrets",
        "token",
        "tokens",
        "apikey",
        "authorization",
        "cookie",
        "cookies",
        "session",
        "sessionid",
        "credential",
        "credentials",
        "privatekey",
        "accesskey",
        "dsn",
        "databaseurl",
        "connectionstring",
        "signature",
        "jwt",
    }
)
_SENSITIVE_SUFFIXES = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "privatekey",
    "accesskey",
    "credential",
    "credentials",
)
_SENSITIVE_PAIRS = frozenset(
    {
        ("api", "key"),
        ("private", "key"),
        ("access", "key"),
        ("signing", "key"),
        ("encryption", "key"),
        ("database", "url"),
        ("db", "url"),
        ("connection", "string"),
        ("session", "id"),
    }
)
# A token that says the value is about the secret, not the secret: `max_tokens`,
# `session_count`, `token_type`, `password_length`.
_DESCRIPTIVE_WORDS = frozenset(
    {
        "count",
        "counts",
        "max",
        "min",
        "limit",
        "total",
        "num",
        "number",
        "size",
        "length",
        "ttl",
        "type",
        "kind",
        "expiry",
        "expires",
        "timeout",
    }
)
_KEY_PART = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_MAX_DEPTH = 32

_PRIVATE_KEY = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.S
)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*)?")
# Credentials after an HTTP auth scheme: any Bearer token, and Basic only when followed by
# base64 (so that prose such as "basic auth" stays readable).
_AUTH_SCHEME = re.compile(r"\b((?i:bearer))(\s+)[^\s\"',;]+|\b(Basic)(\s+)[A-Za-z0-9+/]{8,}={0,2}")
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@]*):([^\s@/]*)@")
_PAIR = re.compile(
    r"(?i)\b((?:[a-z0-9]*[_-])?(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|"
    r"private[_-]?key|credential|session|signature)[a-z0-9_-]*)"
    r"(\"?'?\s*[:=]\s*\"?'?)([^\s&\"',;}]+)"
)
_AWS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")


# Keys already known not to name a secret. A set membership test is the cheapest check there
# is for the few dozen keys logs use; it stops growing at its size, so keys made of data
# cannot exhaust memory.
_PLAIN_KEYS: set[str] = set()
_PLAIN_KEYS_SIZE = 4096


def key_tokens(key: str) -> list[str]:
    """The lowercase word tokens of a key: `X-API-Key` and `apiKey` both hold `api`, `key`."""
    return [part.lower() for part in _KEY_PART.findall(key)]


def _names_a_secret(key: str) -> bool:
    tokens = key_tokens(key)
    if _DESCRIPTIVE_WORDS.intersection(tokens):
        return False
    for index, token in enumerate(tokens):
        if token in SENSITIVE_KEY_WORDS or token.endswith(_SENSITIVE_SUFFIXES):
            return True
        if index and (tokens[index - 1], token) in _SENSITIVE_PAIRS:
            return True
    return False


def is_sensitive_key(key: str) -> bool:
    """Whether a mapping key names a secret (see the module docstring)."""
    if key in _PLAIN_KEYS:
        return False
    sensitive = _names_a_secret(key)
    if not sensitive and len(_PLAIN_KEYS) < _PLAIN_KEYS_SIZE:
        _PLAIN_KEYS.add(key)
    return sensitive


def _has_trigger(text: str) -> bool:
    # Every value pattern below contains at least one of these strings. Plain substring tests
    # (spelled out, not a loop: this runs for every log line) are far cheaper than the
    # patterns, so most values (ids, paths, methods, messages) skip the patterns altogether.
    return (
        "=" in text
        or ":" in text
        or "eyJ" in text
        or "AKIA" in text
        or "ASIA" in text
        or "earer" in text
        or "EARER" in text
        or "Basic" in text
        or "-----BEGIN" in text
    )


def mask_string(value: str) -> str:
    """`value` with every secret it carries replaced (the string rule of the module docstring)."""
    if not _has_trigger(value):
        return value
    value = _PRIVATE_KEY.sub(REDACTED, value)
    value = _JWT.sub(REDACTED, value)
    value = _AUTH_SCHEME.sub(
        lambda m: f"{m.group(1) or m.group(3)}{m.group(2) or m.group(4)}{REDACTED}", value
    )
    value = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}:{REDACTED}@", value)
    value = _PAIR.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", value)
    return _AWS_KEY_ID.sub(REDACTED, value)


class MaskedStr(str):
    """A string that holds no secret: masked already, or made by the runtime (an id).

    The log context binds its values as these, masked once when bound, so the pipeline does
    not scan them again on every line; a plain `str` is always scanned.
    """

    __slots__ = ()


_PLAIN = (bool, int, float, type(None))
_PLAIN_CLASSES = frozenset({*_PLAIN, MaskedStr})


def _mask_mapping(mapping: Mapping[Any, Any], depth: int) -> dict[Any, Any]:
    masked: dict[Any, Any] = {}
    for raw_key, value in mapping.items():
        key = raw_key if raw_key.__class__ is str else _key_text(raw_key)
        if value is not None and is_sensitive_key(key):
            masked[key] = REDACTED
        elif value.__class__ is str:
            masked[key] = mask_string(value)
        elif isinstance(value, _PLAIN):
            masked[key] = value
        else:
            masked[key] = _mask(value, depth + 1)
    return masked


def _key_text(key: Any) -> str:
    return key.decode("utf-8", "replace") if isinstance(key, bytes) else safe_repr(key)


def safe_repr(value: Any) -> str:
    """`repr(value)`, or a placeholder naming its type when its `__repr__` raises."""
    try:
        return repr(value)
    except Exception:
        return f"<unrepresentable {type(value).__qualname__}>"


def _fields_of(value: Any) -> dict[str, Any] | None:
    # Objects with named fields are masked as mappings of their fields, so a `password` field
    # is masked like a `password` key. Classes themselves are left alone.
    if isinstance(value, type):
        return None
    if isinstance(value, BaseModel):
        return {name: getattr(value, name, None) for name in type(value).model_fields}
    if dataclasses.is_dataclass(value):
        return {field.name: getattr(value, field.name, None) for field in dataclasses.fields(value)}
    if isinstance(value, tuple) and hasattr(value, "_asdict"):  # a named tuple
        named: dict[str, Any] = value._asdict()
        return named
    return None


def _mask(value: Any, depth: int) -> Any:
    if isinstance(value, str):
        return mask_string(value)
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, SecretStr | SecretBytes):
        return REDACTED
    if depth >= _MAX_DEPTH:
        return "[TRUNCATED]"
    try:
        return _mask_container(value, depth)
    except Exception:  # an object whose iteration or attributes raise: masking never does
        return f"<unrepresentable {type(value).__qualname__}>"


def _mask_container(value: Any, depth: int) -> Any:
    if isinstance(value, Mapping):
        return _mask_mapping(value, depth)
    fields = _fields_of(value)
    if fields is not None:
        return _mask_mapping(fields, depth)
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str | bytes):
        # A (name, value) pair, as in raw header lists: masked like a mapping's item.
        key = value[0] if value[0].__class__ is str else _key_text(value[0])
        if value[1] is not None and is_sensitive_key(key):
            return (key, REDACTED)
        return (key, _mask(value[1], depth + 1))
    if isinstance(value, list | tuple):
        masked = [_mask(item, depth + 1) for item in value]
        return masked if isinstance(value, list) else tuple(masked)
    if isinstance(value, set | frozenset):
        return [_mask(item, depth + 1) for item in value]
    if isinstance(value, bytes | bytearray):
        return mask_string(bytes(value).decode("utf-8", "replace"))
    return value


# Strings already scanned and found to carry no secret: most strings on log lines (event
# names, levels, the service, routes, methods) recur on every line, and a set lookup is far
# cheaper than the scan. Bounded like `_PLAIN_KEYS`, and only short strings are kept, so it
# holds at most about a megabyte whatever the data.
_CLEAN_STRINGS: set[str] = set()
_CLEAN_STRINGS_SIZE = 4096
_CLEAN_STRING_MAX_LENGTH = 256


def is_clean_flat_mapping(mapping: Mapping[Any, Any]) -> bool:
    """Whether `mapping` has only scalar values, no sensitive key and no string that could hold a
    secret: then masking would return an equal copy, and callers that own the mapping may use
    it as it is."""
    if not _PLAIN_KEYS.issuperset(mapping):
        return _is_clean_flat_mapping_by_key(mapping)
    clean = _CLEAN_STRINGS
    for value in mapping.values():
        cls = value.__class__
        if cls is str:
            if value not in clean:
                if _has_trigger(value):
                    return False
                if len(clean) < _CLEAN_STRINGS_SIZE and len(value) <= _CLEAN_STRING_MAX_LENGTH:
                    clean.add(value)
        elif cls not in _PLAIN_CLASSES:
            return False
    return True


def _is_clean_flat_mapping_by_key(mapping: Mapping[Any, Any]) -> bool:
    # Some key is new (or names a secret): each key is checked, and one substring scan over
    # all the strings replaces one per value.
    strings = []
    plain_keys = _PLAIN_KEYS
    for key, value in mapping.items():
        cls = value.__class__
        if cls is str:
            strings.append(value)
        elif cls not in _PLAIN_CLASSES:
            return False
        if (
            key not in plain_keys
            and value is not None
            and (key.__class__ is not str or is_sensitive_key(key))
        ):
            return False
    return not _has_trigger("\n".join(strings))


def mask_sensitive_data(data: Any) -> Any:
    """A copy of `data` with every secret replaced by `REDACTED` (see the module docstring).

    Mappings become dicts with string keys; dataclasses, pydantic models and named tuples
    become dicts of their fields; lists stay lists, tuples tuples, sets become lists; strings
    are scanned, bytes are decoded and scanned; other objects are returned as they are. Never
    modifies `data` and never raises: a container that cannot be read becomes a placeholder.
    """
    return _mask(data, 0)
