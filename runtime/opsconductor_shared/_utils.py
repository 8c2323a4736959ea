"""Small helpers every service needed a copy of: durations, file names, chunks, merges."""

from __future__ import annotations

import copy
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

__all__ = ["chunk_list", "deep_merge_dicts", "format_duration", "sanitize_filename"]

T = TypeVar("T")

DEFAULT_FILENAME = "file"
MAX_FILENAME_BYTES = 255
_MAX_EXTENSION_BYTES = 32
_RESERVED_CHARACTERS = frozenset('<>:"/\\|?*')
_WINDOWS_RESERVED = re.compile(
    r"^(con|prn|aux|nul|conin\$|conout\$|clock\$|com[0-9¹²³]|lpt[0-9¹²³])$", re.IGNORECASE
)
# Spaces and dots right before a dot: Windows drops them, so they are dropped here first.
_PADDED_DOT = re.compile(r"[ .]+\.")
_DURATION_UNITS = ((86400, "d", 3600, "h"), (3600, "h", 60, "m"), (60, "m", 1, "s"))


def format_duration(seconds: float) -> str:
    """A short human-readable duration: `850 µs`, `12.3 ms`, `4.20 s`, `3m 07s`, `2h 05m`, `1d 03h`."""
    if not math.isfinite(seconds):
        raise ValueError(f"cannot format a duration of {seconds} seconds")
    if seconds < 0:
        return f"-{format_duration(-seconds)}"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    if seconds < 60:
        return f"{seconds:.2f} s"
    whole = round(seconds)
    for size, unit, sub_size, sub_unit in _DURATION_UNITS:
        if whole >= size:
            major, rest = divmod(whole, size)
            return f"{major}{unit} {rest // sub_size:02d}{sub_unit}"
    return f"{whole} s"  # pragma: no cover - every whole >= 60 matched above


def _is_dropped(character: str) -> bool:
    # Cc: control characters; Cf: format characters, which include the bidirectional
    # overrides and isolates (U+202A-U+202E, U+2066-U+2069) and zero-width characters.
    return character in _RESERVED_CHARACTERS or unicodedata.category(character) in (
        "Cc",
        "Cf",
        "Cs",
        "Co",
        "Cn",
    )


def _truncate_utf8(text: str, limit: int) -> str:
    encoded = text.encode("utf-8")[:limit]
    return encoded.decode("utf-8", "ignore")


def sanitize_filename(
    name: str, *, default: str = DEFAULT_FILENAME, max_bytes: int = MAX_FILENAME_BYTES
) -> str:
    """A file name that is safe to create on any OS, derived from an untrusted `name`.

    Takes the last path component (on `/` and `\\` alike), normalises Unicode (NFKC, so
    look-alike slashes are split on too), drops control, bidirectional, zero-width and
    reserved characters, trims spaces and dots at the ends and before every dot (Windows
    ignores them: `con .txt` is the device `CON`), escapes Windows reserved device names
    (`CON`, `com1.txt`, `LPT1 .tar.gz`, ...) on every OS with a leading `_`, and caps the
    UTF-8 length at `max_bytes`, keeping the extension when it is short. Never returns an
    empty name, `.` or `..`: those become `default`. Idempotent: a sanitised name comes back
    unchanged.

    Raises:
        ValueError: `max_bytes` is below 16, or `default` is longer than `max_bytes`.
    """
    if max_bytes < 16:
        raise ValueError("max_bytes must be at least 16")
    if len(default.encode("utf-8")) > max_bytes:
        raise ValueError(f"the default file name is longer than max_bytes ({max_bytes})")
    normalized = unicodedata.normalize("NFKC", name)
    base = re.split(r"[/\\]", normalized)[-1]
    cleaned = "".join(character for character in base if not _is_dropped(character))
    cleaned = _PADDED_DOT.sub(".", cleaned).strip(" .")
    if not cleaned:
        return default
    stem, dot, extension = cleaned.rpartition(".")
    suffix = f".{extension}"
    if not dot or len(suffix.encode("utf-8")) > min(_MAX_EXTENSION_BYTES, max_bytes // 2):
        stem, suffix = cleaned, ""
    room = max_bytes - len(suffix.encode("utf-8"))
    stem = _truncate_utf8(stem, room).rstrip(" .")
    if _WINDOWS_RESERVED.match(stem.split(".")[0]):
        stem = _truncate_utf8(f"_{stem}", room).rstrip(" .")
    return f"{stem}{suffix}" if stem else default


def chunk_list(items: Sequence[T], size: int) -> list[list[T]]:
    """`items` in consecutive lists of `size` (the last may be shorter).

    Raises:
        ValueError: `size` is less than 1.
    """
    if size < 1:
        raise ValueError(f"chunk size must be at least 1, not {size}")
    return [list(items[start : start + size]) for start in range(0, len(items), size)]


def deep_merge_dicts(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """A new dict: `base` with `override` merged in, recursively for nested mappings.

    Values of `override` win; neither input is modified, and the result shares no mutable
    value with them.
    """
    merged = {key: copy.deepcopy(value) for key, value in base.items()}
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge_dicts(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged
