"""decide() by example: one row per rule, with the worked numbers of its docstring and of
docs/control-plane.md, each asserting the target copies and the reason (a table in the style of
Knative's autoscaler_test.go ``expectScale``)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from lambdas.control_plane.copy_model import CopyModel
from lambdas.control_plane.decision import (
    History,
    ReadyTimes,
    Reason,
    Trigger,
    decide,
    free_slots,
    snapshot,
)
from tests.helpers import make_spec

NOW = 1_000_000.0
# The default fleet's policy (config/fleet.yaml): 8 requests per copy, steps +50/+100/+200 %,
# at most 8 copies added per decision, 1 to 8 copies; scale-in under 2 over 10 datapoints.
FLEET = make_spec("ep", "chat", max_step_copies=8)


@dataclass(frozen=True)
class Case:
    name: str
    trigger: Trigger
    datapoints: list[float]  # the alarm window, oldest first
    desired: int
    serving: int
    want_copies: int
    want_reason: Reason
    in_alarm: bool = True
    spec: dict[str, Any] = field(default_factory=dict)  # changes to FLEET
    history: History = field(default_factory=History)


CASES = [
    # Scale-out: the larger of demand (ceil(value x serving / threshold)) and the breach step.
    Case("62 % over on 2 copies: +100 % step and demand agree on 4",
         Trigger.SCALE_OUT, [9.0, 13.0], desired=2, serving=2, want_copies=4,
         want_reason=Reason.SCALE_OUT),
    Case("a 12x spike on 1 copy: demand needs 12, the step gives 3",
         Trigger.SCALE_OUT, [96.0], desired=1, serving=1, want_copies=12,
         want_reason=Reason.SCALE_OUT, spec={"max_copies": 16, "max_step_copies": 16}),
    Case("275 % over on 3 copies, max_step_copies 4: 3 + 4",
         Trigger.SCALE_OUT, [30.0], desired=3, serving=3, want_copies=7,
         want_reason=Reason.SCALE_UP_LIMIT, spec={"max_copies": 16, "max_step_copies": 4}),
    Case("275 % over on 3 copies, default fleet: clamped to max_copies",
         Trigger.SCALE_OUT, [30.0], desired=3, serving=3, want_copies=8,
         want_reason=Reason.AT_MAX),
    Case("capacity already added counts: 2 serving, 4 asked for, the same breach",
         Trigger.SCALE_OUT, [13.0], desired=4, serving=2, want_copies=4,
         want_reason=Reason.IN_FLIGHT),
    Case("under the threshold: nothing to add",
         Trigger.SCALE_OUT, [7.0], desired=2, serving=2, want_copies=2,
         want_reason=Reason.WITHIN_TARGET),
    Case("no datapoint readable while in ALARM: the smallest step (+50 % of 2)",
         Trigger.SCALE_OUT, [], desired=2, serving=2, want_copies=3,
         want_reason=Reason.SCALE_OUT),
    Case("already at max_copies",
         Trigger.SCALE_OUT, [30.0], desired=8, serving=8, want_copies=8,
         want_reason=Reason.AT_MAX),
    Case("the alarm is back to OK: stop",
         Trigger.SCALE_OUT, [30.0], desired=2, serving=2, want_copies=2,
         want_reason=Reason.ALARM_NOT_IN_ALARM, in_alarm=False),
    # Scale-in: one step at a time, never below the copies that keep demand under the midpoint.
    Case("4 copies at 1.5: demand 6, midpoint 5 keeps 2; one copy goes",
         Trigger.SCALE_IN, [1.5] * 10, desired=4, serving=4, want_copies=3,
         want_reason=Reason.SCALE_IN),
    Case("4 copies at 1.5, three copies per step: the midpoint floor of 2 holds",
         Trigger.SCALE_IN, [1.5] * 10, desired=4, serving=4, want_copies=2,
         want_reason=Reason.SCALE_IN, spec={"scale_in_step_copies": 3}),
    Case("scale-in cooldown still running (last scale-in 100 s ago)",
         Trigger.SCALE_IN, [0.5] * 10, desired=4, serving=4, want_copies=4,
         want_reason=Reason.COOLDOWN, history=History(last_scale_in_at=NOW - 100)),
    Case("scale-out's cooldown blocks scale-in too (30 s ago)",
         Trigger.SCALE_IN, [0.5] * 10, desired=4, serving=4, want_copies=4,
         want_reason=Reason.COOLDOWN, history=History(last_scale_out_at=NOW - 30)),
    Case("copies still arriving: 3 of 4 serve",
         Trigger.SCALE_IN, [0.5] * 10, desired=4, serving=3, want_copies=4,
         want_reason=Reason.IN_FLIGHT),
    Case("4 of 10 datapoints: never scale in on partial data",
         Trigger.SCALE_IN, [0.5] * 4, desired=3, serving=3, want_copies=3,
         want_reason=Reason.PARTIAL_DATA),
    Case("no datapoint: never scale in blind",
         Trigger.SCALE_IN, [], desired=3, serving=3, want_copies=3,
         want_reason=Reason.NO_DATA),
    Case("history unreadable: scale-in fails closed",
         Trigger.SCALE_IN, [0.5] * 10, desired=3, serving=3, want_copies=3,
         want_reason=Reason.STATE_UNAVAILABLE, history=History(complete=False)),
    Case("at min_copies",
         Trigger.SCALE_IN, [0.1] * 10, desired=1, serving=1, want_copies=1,
         want_reason=Reason.AT_MIN),
    # From zero, and the clamp.
    Case("failed invocations with no copy: from_zero_copies",
         Trigger.FROM_ZERO, [3.0], desired=0, serving=0, want_copies=2,
         want_reason=Reason.SCALE_FROM_ZERO, spec={"min_copies": 0, "from_zero_copies": 2}),
    Case("from zero with a copy already asked for",
         Trigger.FROM_ZERO, [3.0], desired=1, serving=0, want_copies=1,
         want_reason=Reason.IN_FLIGHT, spec={"min_copies": 0}),
    Case("a redeploy left 12 copies over max 8: brought back",
         Trigger.SCALE_OUT, [3.0], desired=12, serving=12, want_copies=8,
         want_reason=Reason.OUT_OF_BOUNDS),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_decide(case: Case) -> None:
    spec = replace(FLEET, **case.spec)
    seen = snapshot(case.trigger, case.in_alarm, case.datapoints, case.desired, case.serving)
    decision = decide(seen, spec, case.history, NOW)
    assert (decision.target_copies, decision.reason) == (case.want_copies, case.want_reason), (
        decision.detail
    )


@pytest.mark.parametrize(
    ("instances", "own", "others", "want"),
    [
        (2, 1, {"other": (1, 2)}, 0),  # 2 - 1 - 0.5 = 0.5 instance free: no whole copy fits
        (4, 1, {"other": (1, 2)}, 2),  # 4 - 1 - 0.5 = 2.5: 2 copies
        (3, 3, {}, 0),
        (None, 1, {}, None),  # instances unknown
    ],
)
def test_free_slots(
    instances: int | None, own: int, others: dict[str, tuple[int, int]], want: int | None
) -> None:
    assert free_slots(FLEET, instances, own, others) == want


# The default fleet's rules on (config/fleet.yaml): its calibrated L4 copy with the typical
# 2048-token prompt and 28 output tokens (config.specs.copy_model; 0.54 s to first token and
# 2.41 s in service alone, 1.19 s and 3.84 s at 16), the 2 s SLO at 0.99, lookahead capped at
# 2x, a 5-minute forecaster, burst hold at 0.5; new copies serve in 76 s on a free slot, 258 s
# on a new instance with the image cached, 514 s without.
L4_COPY = CopyModel(
    16,
    (0.5416, 0.5849, 0.6283, 0.6716, 0.7149, 0.7583, 0.8016, 0.8449,
     0.8883, 0.9316, 0.9749, 1.0182, 1.0616, 1.1049, 1.1482, 1.1916),
    (2.4083, 2.5039, 2.5995, 2.6951, 2.7907, 2.8863, 2.9819, 3.0775,
     3.1731, 3.2687, 3.3642, 3.4598, 3.5554, 3.651, 3.7466, 3.8422),
)  # fmt: skip
RULES = replace(
    FLEET,
    ready_s=ReadyTimes(76.0, 258.0, 514.0),
    copy_model=L4_COPY,
    slo_ttft_s=2.0,
    slo_attainment=0.99,
    lookahead_max_growth=2.0,
    surge_multiple=3.0,
    forecast_interval_s=300,
    burst_hold_probability=0.5,
)
CACHED: dict[str, Any] = {"free_copy_slots": 0, "instances": 2, "image_cached": True}
FRESH = History(observed_ready_s={"cached": 400.0}, observed_ready_at={"cached": NOW})
EVERY_600_S_400_IN = History(burst_starts=tuple(NOW - 400 - 600 * k for k in range(4, -1, -1)))
FORECAST_1 = History(forecast_floor_copies=1, forecast_floor_until=NOW + 100)
EVERY_600_S_100_IN = History(burst_starts=tuple(NOW - 100 - 600 * k for k in range(4, -1, -1)))


@dataclass(frozen=True)
class RuleCase(Case):
    seen: dict[str, Any] = field(default_factory=dict)  # the snapshot's optional inputs


RULE_CASES = [
    # SLO sizing: Little's law (or Invocations) gives the arrival rate, sizing the copies.
    RuleCase("20 req/s (Invocations) at 9 per copy on 2: thresholds give 3, the SLO 6",
             Trigger.SCALE_OUT, [9.0], desired=2, serving=2, want_copies=6,
             want_reason=Reason.SLO_SIZED, seen={"arrival_rate_per_s": 20.0}),
    RuleCase("the same with 50 % headroom over the 6: 9 (max 16)",
             Trigger.SCALE_OUT, [9.0], desired=2, serving=2, want_copies=9,
             want_reason=Reason.SLO_SIZED, seen={"arrival_rate_per_s": 20.0},
             spec={"max_copies": 16, "headroom_percent": 50.0}),
    RuleCase("the SLO's 6 still capped by max_step_copies 2: 4",
             Trigger.SCALE_OUT, [9.0], desired=2, serving=2, want_copies=4,
             want_reason=Reason.SCALE_UP_LIMIT, seen={"arrival_rate_per_s": 20.0},
             spec={"max_step_copies": 2}),
    # Lookahead: the window's trend over the ready time of the new copies' path, at most 2x.
    RuleCase("9 then 13 on 2 copies (7.31 req/s): 2x by 258 s, 14.63 req/s need 5",
             Trigger.SCALE_OUT, [9.0, 13.0], desired=2, serving=2, want_copies=5,
             want_reason=Reason.LOOKAHEAD, seen=CACHED),
    RuleCase("the same without lookahead: the SLO needs 3, the thresholds' 4 stand",
             Trigger.SCALE_OUT, [9.0, 13.0], desired=2, serving=2, want_copies=4,
             want_reason=Reason.SCALE_OUT, seen=CACHED, spec={"lookahead_max_growth": None}),
    RuleCase("12, 12.5, 13 with free slots: 76 s ahead is 16.8 per copy, 9.45 req/s: 4 stand",
             Trigger.SCALE_OUT, [12.0, 12.5, 13.0], desired=2, serving=2, want_copies=4,
             want_reason=Reason.SCALE_OUT, seen={"free_copy_slots": 4, "instances": 2}),
    RuleCase("12, 12.5, 13 on a new cached instance: 258 s ahead is 25.9 per copy: 5",
             Trigger.SCALE_OUT, [12.0, 12.5, 13.0], desired=2, serving=2, want_copies=5,
             want_reason=Reason.LOOKAHEAD, seen=CACHED),
    # Surge: decided as scale-out, named for its alarm.
    RuleCase("surge: one datapoint of 30 on 2 copies: demand needs 8",
             Trigger.SURGE, [30.0], desired=2, serving=2, want_copies=8,
             want_reason=Reason.SURGE, spec={"max_copies": 16}),
    RuleCase("surge of 40 per copy: demand needs 10, clamped to max_copies 8",
             Trigger.SURGE, [40.0], desired=2, serving=2, want_copies=8,
             want_reason=Reason.AT_MAX, spec={"max_step_copies": 16}),
    # Scale-in: the SLO, the forecaster's floor and recent bursts.
    RuleCase("8 copies at 0.5 (1.66 req/s, the SLO needs 1), the forecaster's floor 1: one step",
             Trigger.SCALE_IN, [0.5] * 10, desired=8, serving=8, want_copies=7,
             want_reason=Reason.SCALE_IN, history=FORECAST_1),
    RuleCase("the same without a forecaster's word: one step",
             Trigger.SCALE_IN, [0.5] * 10, desired=8, serving=8, want_copies=7,
             want_reason=Reason.SCALE_IN),
    RuleCase("4 at 1.5 (the SLO needs 1, the midpoint 2), floor 1: one step, to 3",
             Trigger.SCALE_IN, [1.5] * 10, desired=4, serving=4, want_copies=3,
             want_reason=Reason.SCALE_IN, history=FORECAST_1),
    RuleCase("4 at 1.5 with 12 req/s measured: the SLO needs all 4",
             Trigger.SCALE_IN, [1.5] * 10, desired=4, serving=4, want_copies=4,
             want_reason=Reason.SLO_SIZED, seen={"arrival_rate_per_s": 12.0}),
    RuleCase("the forecaster's floor of 4, valid 100 s more: held",
             Trigger.SCALE_IN, [0.5] * 10, desired=4, serving=4, want_copies=4,
             want_reason=Reason.FORECAST_FLOOR,
             history=History(forecast_floor_copies=4, forecast_floor_until=NOW + 100)),
    RuleCase("a floor of 3: one step only, to 3",
             Trigger.SCALE_IN, [0.5] * 10, desired=4, serving=4, want_copies=3,
             want_reason=Reason.SCALE_IN,
             history=History(forecast_floor_copies=3, forecast_floor_until=NOW + 100)),
    RuleCase("a lapsed floor (the forecaster stopped): released one step at a time",
             Trigger.SCALE_IN, [0.5] * 10, desired=4, serving=4, want_copies=3,
             want_reason=Reason.SCALE_IN,
             history=History(forecast_floor_copies=4, forecast_floor_until=NOW - 1)),
    RuleCase("bursts every 600 s, 400 s into the lull: one is due within the 258 s cold start",
             Trigger.SCALE_IN, [0.5] * 10, desired=4, serving=4, want_copies=4,
             want_reason=Reason.BURST_HOLD, seen=CACHED, history=EVERY_600_S_400_IN),
    RuleCase("100 s into the lull: a released copy can be back in time, so it goes",
             Trigger.SCALE_IN, [0.5] * 10, desired=4, serving=4, want_copies=3,
             want_reason=Reason.SCALE_IN, seen=CACHED, history=EVERY_600_S_100_IN),
    RuleCase("burst hold off: released 400 s into the lull",
             Trigger.SCALE_IN, [0.5] * 10, desired=4, serving=4, want_copies=3,
             want_reason=Reason.SCALE_IN, seen=CACHED, history=EVERY_600_S_400_IN,
             spec={"burst_hold_probability": None}),
    RuleCase("burst hold never overrides missing data",
             Trigger.SCALE_IN, [0.5] * 4, desired=4, serving=4, want_copies=4,
             want_reason=Reason.PARTIAL_DATA, seen=CACHED, history=EVERY_600_S_400_IN),
]  # fmt: skip


@pytest.mark.parametrize("case", RULE_CASES, ids=[c.name for c in RULE_CASES])
def test_decide_with_the_rules(case: RuleCase) -> None:
    spec = replace(RULES, **case.spec)
    seen = snapshot(
        case.trigger, case.in_alarm, case.datapoints, case.desired, case.serving, **case.seen
    )
    decision = decide(seen, spec, case.history, NOW)
    assert (decision.target_copies, decision.reason) == (case.want_copies, case.want_reason), (
        decision.detail
    )


def test_observed_ready_times_lengthen_the_lookahead_and_the_prediction() -> None:
    """A cached scale-out observed at 400 s just now: (2 x 258 + 400) / 3 = 305 s expected."""
    seen = snapshot(Trigger.SCALE_OUT, True, [9.0, 13.0], 2, 2, **CACHED)
    decision = decide(seen, RULES, FRESH, NOW)
    assert decision.predicted_ready_s == pytest.approx(305.33, abs=0.01)
    assert "in 305 s (cached)" in decision.detail
    a_week_old = replace(FRESH, observed_ready_at={"cached": NOW - 7 * 86400})
    older = decide(seen, RULES, a_week_old, NOW)
    assert older.predicted_ready_s == pytest.approx((2 * 258 + 0.5 * 400) / 2.5)
