"""decide() by example: one row per rule, with the worked numbers of its docstring and of
docs/control-plane.md, each asserting the target copies and the reason (a table in the style of
Knative's autoscaler_test.go ``expectScale``)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from lambdas.control_plane.decision import (
    History,
    ReadyTimes,
    Reason,
    ScalingSpec,
    Step,
    Trigger,
    decide,
    free_slots,
    snapshot,
)

NOW = 1_000_000.0
# The default fleet's policy (config/fleet.yaml): 8 requests per copy, steps +50/+100/+200 %,
# at most 8 copies added per decision, 1 to 8 copies; scale-in under 2 over 10 datapoints.
FLEET = ScalingSpec(
    endpoint="ep",
    component="chat",
    min_copies=1,
    max_copies=8,
    scale_out_threshold=8.0,
    scale_out_cooldown_s=60,
    steps=(Step(0.0, 50), Step(0.5, 100), Step(1.0, 200)),
    max_step_copies=8,
    scale_in_threshold=2.0,
    scale_in_cooldown_s=300,
    scale_in_step_copies=1,
    scale_in_datapoints=10,
    from_zero_copies=1,
    copies_per_instance=1,
    max_instances=8,
    ready_s=ReadyTimes(30.0, 258.0, 525.0),
)


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
