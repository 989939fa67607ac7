"""What the run must show, checked on its result (pure: the run is over by then).

* Scale-out in time: the first endpoint's first component is asked for more copies within the
  scale-out alarm's detection time after the spike starts, and its copies serve within the
  cold-start model's time for a new instance after that. For the default fleet: the spike starts
  at 600 s; 2 datapoints of 10 s, 30 s of publishing delay, up to one period to the next
  evaluation and 2 s for the alarm to invoke the scaler give 600 + 20 + 30 + 10 + 2 = 662 s at
  the latest; a new instance with the image cached serves 258 s later (+ one tick to see it).
* Forecast ahead of the peak: the spike recurs daily (the run puts a week of it in CloudWatch),
  so the forecaster raises the first endpoint's first component before the spike starts, at
  least the predicted ready time ahead, and those copies serve when the spike starts. Its
  scale-out is the forecaster's; the alarm path still has to add what the forecast did not
  cover ("scale-out in time" looks at the scaler's decisions only).
* Scale-in later: after the spike ends, the scaler removes copies.
* Cleanup complete: the deleted endpoint has rows before and none after; its queue is empty.
* Isolation held: every other endpoint's rows are identical before and after the deletion and
  its copy counts unchanged.
* One physics: moto's ``CurrentCopyCount`` equals the simulation's serving copies at every tick.
* No handler failed.
"""

from __future__ import annotations

from sim.cloudwatch import HIGH_RES_PUBLISH_DELAY_S, LAMBDA_REACTION_S
from sim.simulator import TICK_S

from .results import Check, DemoResult


def scale_out_deadline_s(result: DemoResult) -> float:
    """Latest simulated time the first scale-out decision may come (see the module doc)."""
    model = result.endpoints[0].endpoint.models[0]
    alarm = model.scaling.scale_out.alarm
    return (
        result.spike_s[0]
        + alarm.period_s * alarm.datapoints
        + HIGH_RES_PUBLISH_DELAY_S
        + alarm.period_s
        + LAMBDA_REACTION_S
    )


def first_scale_out(result: DemoResult, component: str) -> tuple[float, int] | None:
    """(time, target copies) of the first decision that added copies to ``component``."""
    for e in result.decisions(component):
        if e.data.get("action") == "scaled" and (e.data.get("target") or 0) > (
            e.data.get("desired") or 0
        ):
            return e.t_s, int(e.data["target"])
    return None


def first_scale_in_after(
    result: DemoResult, component: str, after_s: float
) -> tuple[float, int, int] | None:
    """(time, from, to) of the first decision after ``after_s`` that removed copies."""
    for e in result.decisions(component):
        if (
            e.t_s >= after_s
            and e.data.get("action") == "scaled"
            and (e.data.get("target") or 0) < (e.data.get("desired") or 0)
        ):
            return e.t_s, int(e.data["desired"]), int(e.data["target"])
    return None


def serving_at_least(
    result: DemoResult, component: str, copies: int, after_s: float
) -> float | None:
    """First tick at or after ``after_s`` where ``copies`` copies serve (moto's count)."""
    for s in result.series(component):
        if s.t_s >= after_s and s.current >= copies:
            return s.t_s
    return None


def evaluate_story(result: DemoResult) -> list[Check]:
    checks: list[Check] = []
    main = result.endpoints[0].endpoint.models[0].component_name
    spike_start, spike_end = result.spike_s

    out = first_scale_out(result, main)
    deadline = scale_out_deadline_s(result)
    if out is None:
        checks.append(Check("scale-out in time", False, f"{main} was never scaled out"))
    else:
        at, target = out
        ready_s = result.ready_s[main]["cached"]
        served = serving_at_least(result, main, target, at)
        ok = (
            spike_start <= at <= deadline and served is not None and served <= at + ready_s + TICK_S
        )
        checks.append(
            Check(
                "scale-out in time",
                ok,
                (
                    f"spike at {spike_start:.0f} s; {main} asked for {target} copies at {at:.0f} s "
                    f"(deadline {deadline:.0f} s); all serving at "
                    f"{'never' if served is None else f'{served:.0f} s'} "
                    f"(cold-start model: {ready_s:.0f} s on a new instance with the image cached)"
                ),
            )
        )

    checks.append(forecast_check(result, main))

    scale_in = first_scale_in_after(result, main, spike_end)
    checks.append(
        Check(
            "scale-in later",
            scale_in is not None,
            (
                f"{main}: {scale_in[1]} -> {scale_in[2]} copies at {scale_in[0]:.0f} s, "
                f"{scale_in[0] - spike_end:.0f} s after the spike ended"
                if scale_in
                else f"{main} never scaled in after the spike ended at {spike_end:.0f} s"
            ),
        )
    )

    c = result.cleanup
    gone = c.rows_after[c.deleted_endpoint] == 0 and c.rows_before[c.deleted_endpoint] > 0
    queue_empty = c.queue_messages_after[c.deleted_endpoint] == 0
    checks.append(
        Check(
            "cleanup complete",
            gone and queue_empty,
            (
                f"{c.deleted_endpoint}: {c.rows_before[c.deleted_endpoint]} rows before, "
                f"{c.rows_after[c.deleted_endpoint]} after; "
                f"{c.queue_messages_after[c.deleted_endpoint]} messages left in its "
                f"re-evaluation queue; {c.cancelled_reevaluations} pending re-evaluations cancelled"
            ),
        )
    )

    intact = all(c.others_identical.values()) and all(
        c.rows_before[e] > 0 for e in c.others_identical
    )
    copies_same = c.other_copies_before == c.other_copies_after
    others = ", ".join(
        f"{e}: {c.rows_after[e]} rows identical" if same else f"{e}: rows changed"
        for e, same in c.others_identical.items()
    )
    checks.append(
        Check(
            "isolation held",
            intact and copies_same,
            (
                f"{others}; copies {'unchanged' if copies_same else 'CHANGED'} "
                f"({', '.join(f'{k} {v[0]}/{v[1]}' for k, v in c.other_copies_after.items())})"
            ),
        )
    )

    checks.append(
        Check(
            "one physics",
            result.drift_ticks == 0,
            (
                "moto's CurrentCopyCount matched the simulation's serving copies at every tick"
                if result.drift_ticks == 0
                else (
                    "moto and the simulation disagreed on serving copies at "
                    f"{result.drift_ticks} ticks"
                )
            ),
        )
    )

    errors = [e for e in result.events if e.kind == "error"]
    checks.append(
        Check(
            "no handler errors",
            not errors,
            (
                f"{sum(result.invocations.values())} invocations, none failed"
                if not errors
                else f"{len(errors)} failed: {errors[0].text}"
            ),
        )
    )
    return checks


def forecast_check(result: DemoResult, component: str) -> Check:
    """The forecaster raised ``component`` ahead of the spike, by at least its ready time."""
    start = result.spike_s[0]
    raised = [
        e for e in result.forecasts(component) if e.data.get("action") == "scaled" and e.t_s < start
    ]
    if not raised:
        runs = len(result.forecasts(component))
        return Check(
            "forecast ahead of the peak",
            False,
            f"{component}: the forecaster raised nothing before the spike at {start:.0f} s "
            f"({runs} forecast events)",
        )
    first = raised[0]
    target = int(first.data["target"])
    ready_s = float(first.data.get("ready_s") or 0)
    served = serving_at_least(result, component, target, first.t_s)
    ok = start - first.t_s >= ready_s and served is not None and served <= start + TICK_S
    return Check(
        "forecast ahead of the peak",
        ok,
        f"{component}: forecaster asked for {target} copies at {first.t_s:.0f} s, "
        f"{start - first.t_s:.0f} s before the spike (predicted ready time {ready_s:.0f} s); "
        f"serving at {'never' if served is None else f'{served:.0f} s'}",
    )
