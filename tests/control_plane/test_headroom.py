"""Headroom: spare copies above the demand-sized fleet."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lambdas.control_plane.headroom import with_headroom


def test_headroom_as_copies_or_as_a_budget() -> None:
    assert with_headroom(4, max_copies=8) == 4
    assert with_headroom(4, max_copies=8, headroom_copies=2) == 6
    assert with_headroom(12, max_copies=20, headroom_percent=20) == 14  # 2.4 -> 2
    assert with_headroom(4, max_copies=8, headroom_percent=20) == 4  # 0.8 -> 0: within budget
    assert with_headroom(5, max_copies=8, headroom_percent=20) == 6  # exactly 1
    assert with_headroom(4, max_copies=8, headroom_copies=1, headroom_percent=20) == 5
    assert with_headroom(7, max_copies=8, headroom_copies=3) == 8  # capped
    assert with_headroom(0, max_copies=8, headroom_copies=2) == 0  # scale to zero stays


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"headroom_percent": math.nan}, "headroom_percent must be a finite number"),
        ({"headroom_percent": -5.0}, "headroom_percent must be at least 0"),
        ({"headroom_copies": -1}, "headroom_copies must be at least 0"),
    ],
)
def test_bad_headroom_is_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        with_headroom(4, max_copies=8, **kwargs)


@given(st.integers(0, 100), st.integers(0, 100), st.integers(0, 10), st.floats(0, 300))
def test_headroom_never_removes_and_never_passes_max(
    copies: int, cap: int, spare: int, percent: float
) -> None:
    got = with_headroom(copies, max_copies=cap, headroom_copies=spare, headroom_percent=percent)
    assert got >= copies
    assert got <= max(copies, cap)
    if copies > 0 and copies + spare <= cap:
        assert got >= copies + spare
