"""sanitize_filename against hostile names: reserved device names however padded, idempotence,
and a custom `max_bytes` always respected (hypothesis)."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opsconductor_shared import sanitize_filename

DEVICES = ["con", "prn", "aux", "nul", "com1", "com9", "lpt1", "lpt3", "conin$", "conout$"]
# What Windows takes for a device name: the part before the first dot, trailing spaces and
# dots ignored, any case.
RESERVED = re.compile(
    r"^(con|prn|aux|nul|conin\$|conout\$|clock\$|com[0-9¹²³]|lpt[0-9¹²³])[ .]*$", re.IGNORECASE
)


def _is_reserved(name: str) -> bool:
    return bool(RESERVED.match(name.split(".", maxsplit=1)[0]))


@pytest.mark.parametrize(
    "name",
    ["con .txt", "LPT1 .tar.gz", "nul . .txt", "CoM1  .x", "aux..txt", "prn .", "con  ", "Con. .a"],
)
def test_a_padded_device_name_is_escaped(name: str) -> None:
    result = sanitize_filename(name)
    assert not _is_reserved(result), result
    assert sanitize_filename(result) == result


@settings(max_examples=300)
@given(
    device=st.sampled_from(DEVICES),
    case=st.sampled_from([str.lower, str.upper, str.capitalize]),
    padding=st.text(alphabet=" .", max_size=4),
    rest=st.text(alphabet="abc. ", max_size=8),
)
def test_no_device_name_survives_any_padding(device: str, case, padding: str, rest: str) -> None:  # type: ignore[no-untyped-def]
    result = sanitize_filename(f"{case(device)}{padding}{rest}")
    assert not _is_reserved(result), result
    assert sanitize_filename(result) == result


NAMES = st.one_of(
    st.text(max_size=300),
    st.builds(
        lambda device, pad, ext: f"{device}{pad}.{ext}",
        st.sampled_from(DEVICES),
        st.text(alphabet=" .", max_size=3),
        st.text(max_size=40),
    ),
    st.builds(lambda stem, ext: f"{stem}.{ext}", st.text(max_size=60), st.text(max_size=60)),
)


@settings(max_examples=500)
@given(name=NAMES, max_bytes=st.integers(min_value=16, max_value=300))
def test_idempotent_and_within_max_bytes(name: str, max_bytes: int) -> None:
    result = sanitize_filename(name, max_bytes=max_bytes)
    assert len(result.encode("utf-8")) <= max_bytes
    assert result
    assert result not in (".", "..")
    assert not _is_reserved(result)
    assert result == result.strip(" ")
    assert not result.endswith(".")
    assert not any(unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in result)
    assert sanitize_filename(result, max_bytes=max_bytes) == result


def test_a_long_extension_never_exceeds_a_small_max_bytes() -> None:
    result = sanitize_filename("a." + "x" * 30, max_bytes=16)
    assert len(result.encode()) <= 16


def test_a_default_longer_than_max_bytes_is_refused() -> None:
    with pytest.raises(ValueError, match="default"):
        sanitize_filename("", default="d" * 40, max_bytes=16)
