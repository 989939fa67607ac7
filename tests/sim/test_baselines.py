"""Each AWS baseline's alarms and cooldowns, against the documentation it cites.

The quotes are from /work/shared/reference/aws-facts.md's sources:
* aws-samples/sagemaker-genai-hosting-examples, scale_down_to_zero notebook: "With a
  high-resolution metric, target tracking's scale-out alarm fires after 3 datapoints of 10 s
  (30 s); its scale-in alarm needs 90 datapoints (15 min). [...] Standard metrics: 3 x 60 s to
  scale out."
* Application Auto Scaling user guide, target tracking overview: "Target tracking cooldowns
  default to 300 s (scale-out and scale-in) for SageMaker endpoint variants and for inference
  components."
* Application Auto Scaling API reference, StepScalingPolicyConfiguration.Cooldown: "If not
  specified, the default value is 300."
* Application Auto Scaling user guide, target tracking: the low alarm is at 90 % of the target.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from config.fleet import DEFAULT_FLEET, load_fleet
from sim import policies
from sim.component import Component
from sim.policies import make_policy
from sim.simulator import Simulation, simulate
from sim.traffic import Workload


def attached(name: str, **knob: float) -> Any:
    fleet = load_fleet(DEFAULT_FLEET)
    empty = Workload("none", np.zeros(0), np.zeros(0), np.zeros(0), 60.0)
    policy = make_policy(name, knob or None)
    sim = Simulation(Component.from_fleet(fleet), empty, policy)
    policy.attach(sim.lane)
    return policy


def shape(aas: Any) -> tuple[str, float, int, int, int]:
    s = aas.alarm.spec
    return (s.comparison, s.threshold, s.period_s, s.datapoints_to_alarm, s.evaluation_periods)


@pytest.mark.parametrize("name", ["aws-target-tracking", "aws-target-tracking-tuned"])
def test_high_resolution_target_tracking_is_3_of_3_x_10_s_out_and_90_of_90_in(name: str) -> None:
    p = attached(name)
    assert p.metric == "ConcurrentRequestsPerCopy"
    assert shape(p.high) == ("GreaterThanThreshold", 8.0, 10, 3, 3)
    assert shape(p.low) == ("LessThanThreshold", 0.9 * 8.0, 10, 90, 90)
    assert policies.TT_COOLDOWN_S == 300
    assert p.container_cache and p.data_cache


def test_pre_caching_is_invocations_per_copy_3_of_3_x_60_s_out_15_of_15_in_no_caches() -> None:
    p = attached("pre-caching")
    assert p.metric == "InvocationsPerCopy"
    comparison, threshold, period, m, n = shape(p.high)
    assert (comparison, period, m, n) == ("GreaterThanThreshold", 60, 3, 3)
    # Little's law: 8 in flight at the mean service time (no traffic here: 1 s) per minute
    assert threshold == pytest.approx(8 * 60.0)
    assert shape(p.low)[2:] == (60, 15, 15)
    assert not p.container_cache and not p.data_cache


def test_tuned_target_tracking_scales_in_by_a_step_policy_on_the_fleet_s_alarm() -> None:
    p = attached("aws-target-tracking-tuned")
    assert p.disable_scale_in
    # the fleet file's scale-in alarm: 10 of 10 x 60 s under 2 per copy, one copy per 300 s
    assert shape(p.scale_in.alarm) == ("LessThanThreshold", 2.0, 60, 10, 10)
    assert (p.scale_in.copies, p.scale_in.cooldown_s) == (1, 300)


def test_step_10s_uses_the_fleet_s_10_s_alarm_and_step_table() -> None:
    p = attached("aws-step-10s")
    assert shape(p.high) == ("GreaterThanThreshold", 8.0, 10, 2, 3)
    assert [(x.breach, x.add_percent) for x in p.steps] == [(0.0, 50), (0.5, 100), (1.0, 200)]
    assert p.cooldown_s == 60
    assert shape(p.scale_in.alarm) == ("LessThanThreshold", 2.0, 60, 10, 10)


def test_scheduled_starts_one_cached_cold_start_before_the_hour() -> None:
    p = attached("aws-scheduled")
    # 258 s on the cached path for the default fleet, rounded up to the minute
    assert p.peaks.lead_s == 300
    assert p.peaks.minimum_due(3600 * 25 - 300, 8.0) is None  # no history yet
    p.peaks.peaks[1] = 20.0  # yesterday's hour 1 peaked at 20 in flight
    assert p.peaks.minimum_due(3600 * 25 - 300, 8.0) == 3  # ceil(20 / 8)
    assert p.peaks.minimum_due(3600 * 25 - 290, 8.0) is None


def test_scheduled_keeps_one_schedule_for_weekdays_and_one_for_weekends() -> None:
    p = attached("aws-scheduled")
    day, nine_fifty_five = 24, 10 * 3600 - 300  # hours a day; 300 s before 10:00
    # Given 10:00 peaks (requests in flight) of 80 on the first Friday (day 4), 16 on Saturday
    # (day 5), 24 on Sunday (day 6) and 40 on the second Friday (day 11)
    for d, peak in ((4, 80.0), (5, 16.0), (6, 24.0), (11, 40.0)):
        p.peaks.peaks[d * day + 10] = peak

    def due(d: int) -> int | None:
        return p.peaks.minimum_due(d * 86400 + nine_fifty_five, 8.0)

    # Then the first Saturday has no weekend day behind it: nothing scheduled, not Friday's 10
    assert due(5) is None
    # Sunday follows Saturday (16 / 8), Monday follows Friday (80 / 8), not Sunday
    assert (due(6), due(7)) == (2, 10)
    # and the second Saturday follows the last Sunday (24 / 8), not the Friday before it
    assert due(12) == 3


def test_scheduled_raises_monday_for_friday_s_peak_and_not_the_weekend() -> None:
    # Given eight days from Monday at 0.2 req/s, with a busy hour (15 req/s) from 10:00 on Friday
    day, ten = 86_400.0, 10 * 3600.0
    friday, monday = 4 * day, 7 * day
    quiet = np.arange(0.0, monday + day, 5.0)
    busy = np.arange(friday + ten, friday + ten + 3600.0, 1 / 15)
    arrivals = np.sort(np.concatenate([quiet, busy]))
    n = arrivals.size
    w = Workload("a Friday peak", arrivals, np.full(n, 1000.0), np.full(n, 20.0), monday + day)
    # When aws-scheduled runs them
    result = simulate(
        Component.from_fleet(load_fleet(DEFAULT_FLEET)), w, make_policy("aws-scheduled")
    )
    # Then the one scheduled raise is Monday's, 300 s before 10:00 (plus the reaction delay):
    # the weekend schedule does not copy Friday's peak into Saturday
    raised = [a for a in result.actions if a.reason.startswith("scheduled minimum")]
    assert [a.at_s for a in raised] == [monday + ten - 300 + 30]
    assert raised[0].to_copies > 1


def test_every_baseline_shares_aws_s_from_zero_step_and_the_knob_moves_the_threshold() -> None:
    for name in ("aws-target-tracking", "aws-target-tracking-tuned", "aws-step-10s"):
        assert shape(attached(name).from_zero.alarm) == ("GreaterThanThreshold", 0.0, 10, 1, 1)
    assert attached("aws-target-tracking", target=4).target == 4.0
    project = attached("project", threshold=4)
    assert project.spec.scale_out_threshold == 4.0
    assert project.spec.scale_in_threshold == 1.0  # the fleet's 8:2 ratio kept
    with pytest.raises(
        ValueError, match="policy 'project' has no knob 'target'; allowed: threshold"
    ):
        make_policy("project", {"target": 3})
    with pytest.raises(ValueError, match="unknown policy 'aws-step-sample'"):
        make_policy("aws-step-sample")


def test_scheduled_raises_the_minimum_before_yesterday_s_peak_hour() -> None:
    # Given two days at 1 req/s with a busy hour (15 req/s) from 10:00 each day
    day, peak = 86_400.0, 10 * 3600.0
    quiet = np.arange(0.0, 2 * day, 1.0)
    busy = np.concatenate([np.arange(d + peak, d + peak + 3600.0, 1 / 14) for d in (0.0, day)])
    arrivals = np.sort(np.concatenate([quiet, busy]))
    n = arrivals.size
    w = Workload("two days", arrivals, np.full(n, 1000.0), np.full(n, 20.0), 2 * day)
    fleet = load_fleet(DEFAULT_FLEET)
    component = Component.from_fleet(fleet)
    # When aws-scheduled and aws-target-tracking-tuned run them
    scheduled = simulate(component, w, make_policy("aws-scheduled"))
    tuned = simulate(component, w, make_policy("aws-target-tracking-tuned"))
    # Then only the scheduled policy acts ahead of day 2's busy hour, 300 s (one cached cold
    # start, rounded up) before it, plus the reaction delay
    ahead = [a for a in scheduled.actions if a.reason.startswith("scheduled minimum")]
    assert ahead and ahead[0].at_s == day + peak - 300 + 30
    assert ahead[0].to_copies > 1
    assert not [a for a in tuned.actions if a.reason.startswith("scheduled")]
    # and its day-2 hour meets the SLO for more requests than tuned target tracking's
    hour = (arrivals >= day + peak) & (arrivals < day + peak + 3600)
    met = [float(np.mean(r.ttft_s[hour] <= 2.0)) for r in (scheduled, tuned)]
    assert met[0] > met[1]
