"""Utilities: format_duration, sanitize_filename (hypothesis), chunk_list, deep_merge_dicts."""

from __future__ import annotations

import copy
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opsconductor_shared import sanitize_filename
from opsconductor_shared._utils import chunk_list, deep_merge_dicts, format_duration

WINDOWS_RESERVED = {"con", "prn", "aux", "nul", "conin$", "conout$", "clock$"} | {
    f"{p}{n}" for p in ("com", "lpt") for n in "0123456789¹²³"
}


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "0 µs"),
        (0.00085, "850 µs"),
        (0.0123, "12.3 ms"),
        (4.2, "4.20 s"),
        (187, "3m 07s"),
        (7500, "2h 05m"),
        (97200, "1d 03h"),
        (-0.5, "-500.0 ms"),
    ],
)
def test_format_duration(seconds: float, expected: str) -> None:
    assert format_duration(seconds) == expected


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_format_duration_refuses_non_finite(bad: float) -> None:
    with pytest.raises(ValueError, match="cannot format"):
        format_duration(bad)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\evil.exe", "evil.exe"),
        ("a\uff0fb", "b"),  # fullwidth solidus normalises to a slash
        ("CON", "_CON"),
        ("com1.txt", "_com1.txt"),
        ("nul.tar.gz", "_nul.tar.gz"),
        ("..", "file"),
        (".", "file"),
        ("", "file"),
        ("\u202etxt.exe", "txt.exe"),
        ("in\x00voice\x1f.pdf", "invoice.pdf"),
        ('what?<is>:"this"|*.txt', "whatisthis.txt"),
        ("  spaced out.  ", "spaced out"),
        ("zero\u200bwidth.doc", "zerowidth.doc"),
    ],
)
def test_sanitize_filename_examples(name: str, expected: str) -> None:
    assert sanitize_filename(name) == expected


def test_length_cap_keeps_the_extension() -> None:
    name = "é" * 300 + ".tar.gz"
    result = sanitize_filename(name)
    assert result.endswith(".gz")
    assert len(result.encode()) <= 255
    assert result.encode().decode() == result  # no split multi-byte character


@settings(max_examples=500)
@given(name=st.text(max_size=400))
def test_sanitize_filename_properties(name: str) -> None:
    result = sanitize_filename(name)
    assert result
    assert result not in (".", "..")
    assert "/" not in result
    assert "\\" not in result
    assert len(result.encode("utf-8")) <= 255
    assert not any(unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in result)
    assert not any(c in '<>:"|?*' for c in result)
    assert result.split(".")[0].lower() not in WINDOWS_RESERVED
    assert result == result.strip(" ")
    assert not result.endswith(".")
    assert sanitize_filename(result) == result  # idempotent


def test_chunk_list() -> None:
    assert chunk_list([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]
    assert chunk_list([], 3) == []
    with pytest.raises(ValueError, match="at least 1"):
        chunk_list([1], 0)


def test_deep_merge_dicts_merges_without_mutation() -> None:
    base = {"a": 1, "nested": {"x": 1, "y": [1]}, "keep": {"k": 1}}
    override = {"nested": {"y": [2], "z": 3}, "a": {"now": "dict"}}
    base_before, override_before = copy.deepcopy(base), copy.deepcopy(override)
    merged = deep_merge_dicts(base, override)
    assert merged == {"a": {"now": "dict"}, "nested": {"x": 1, "y": [2], "z": 3}, "keep": {"k": 1}}
    assert base == base_before
    assert override == override_before
    merged["keep"]["k"] = 99
    merged["nested"]["y"].append(5)
    assert base == base_before
    assert override == override_before
