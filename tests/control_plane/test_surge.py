"""The surge alarm's description."""

from __future__ import annotations

import math

import pytest

from lambdas.control_plane.surge import SurgeAlarm, surge_alarm


def test_surge_alarm_acts_on_one_datapoint_at_a_multiple_of_the_threshold() -> None:
    assert surge_alarm(8.0) == SurgeAlarm(threshold=24.0, period_s=10, datapoints=1)
    assert surge_alarm(8.0, 2.5).threshold == 20.0


@pytest.mark.parametrize(
    ("threshold", "multiple", "message"),
    [
        (8.0, 1.0, "multiple must be greater than 1"),
        (8.0, math.nan, "multiple must be a finite number"),
        (0.0, 3.0, "threshold must be greater than 0"),
    ],
)
def test_bad_surge_settings_are_refused(threshold: float, multiple: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        surge_alarm(threshold, multiple)
