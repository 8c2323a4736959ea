"""`make demo` runs its walkthrough against both services and exits 0."""

from __future__ import annotations

import pytest

from examples.demo import demo

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def test_demo_walks_through_and_validates(capsys: pytest.CaptureFixture[str]) -> None:
    assert demo() == 0
    out = capsys.readouterr().out
    for step in (
        "1. Log in",
        "3. A paginated list",
        "4. A 404",
        "5. A 422",
        "6. A viewer",
        "7. Health",
        "8. Validate",
    ):
        assert step in out, step
    assert "validate passed: 0 errors, 0 warnings" in out
    assert "Demo complete" in out
