"""From the fleet configuration to the scaling policy the control plane runs.

The scaler Lambda receives each component's ``ScalingSpec`` as JSON in its environment; the
simulator and the local demo build the same objects here, so all three decide identically.
"""

from __future__ import annotations

from lambdas.control_plane.copy_model import CopyModel
from lambdas.control_plane.decision import ReadyTimes, ScalingSpec, Step

from .coldstart import cold_start
from .fleet import Endpoint, Model
from .serving import copy_speed

# Seconds kept per time in the spec's copy model: 0.1 ms is far below any SLO, and keeps the
# components document small (one spec per component travels with the scaler's code).
_DIGITS = 4


def ready_times(endpoint: Endpoint, model: Model) -> ReadyTimes:
    """Predicted seconds until a new copy serves, by path, from the cold-start model."""
    paths = cold_start(endpoint.instance_type, image_gb=model.image_gb, model_gb=model.model_gb)
    return ReadyTimes(
        warm_instance=round(paths["warm_instance"].total_s, 1),
        cached=round(paths["cached"].total_s, 1),
        uncached=round(paths["uncached"].total_s, 1),
    )


def copy_model(endpoint: Endpoint, model: Model) -> CopyModel:
    """A typical request's time to first token and time in service on one copy of ``model``,
    at each concurrency 1..``serving.max_concurrency``: the calibrated copy speed on the
    endpoint's instance type (``config.serving``) with ``slo_sizing``'s typical prompt and
    output lengths."""
    speed = copy_speed(endpoint.instance_type, model)
    typical = model.scaling.slo_sizing
    levels = range(1, speed.max_concurrency + 1)
    exact = CopyModel.from_token_rates(
        [speed.prefill_tokens_per_s(n) for n in levels],
        [speed.decode_tokens_per_s(n) for n in levels],
        prompt_tokens=typical.prompt_tokens,
        output_tokens=typical.output_tokens,
    )
    return CopyModel(
        exact.max_concurrency,
        tuple(round(s, _DIGITS) for s in exact.prefill_s),
        tuple(round(s, _DIGITS) for s in exact.service_s),
    )


def scaling_spec(endpoint: Endpoint, model: Model) -> ScalingSpec:
    """``model``'s policy, with the fleet's SLO (``slo.ttft_s``) its copies are sized for."""
    s = model.scaling
    return ScalingSpec(
        endpoint=endpoint.name,
        component=model.component_name,
        min_copies=model.min_copies,
        max_copies=model.max_copies,
        scale_out_threshold=s.scale_out.threshold,
        scale_out_cooldown_s=s.scale_out.cooldown_s,
        steps=tuple(Step(x.breach, x.add_percent) for x in s.scale_out.steps),
        max_step_copies=s.scale_out.max_step_copies,
        scale_in_threshold=s.scale_in.threshold,
        scale_in_cooldown_s=s.scale_in.cooldown_s,
        scale_in_step_copies=s.scale_in.step_copies,
        scale_in_datapoints=s.scale_in.alarm.datapoints,
        from_zero_copies=s.from_zero.copies,
        copies_per_instance=endpoint.copies_per_instance(model),
        max_instances=endpoint.max_instances,
        ready_s=ready_times(endpoint, model),
        copy_model=copy_model(endpoint, model) if s.slo_sizing.enabled else None,
        slo_ttft_s=model.slo_ttft_s,
        slo_attainment=s.slo_sizing.attainment,
        lookahead_max_growth=s.lookahead.max_growth if s.lookahead.enabled else None,
        scale_out_period_s=s.scale_out.alarm.period_s,
        surge_multiple=s.surge.multiple if s.surge.enabled else None,
        headroom_copies=s.headroom.copies,
        headroom_percent=s.headroom.percent,
        forecast_interval_s=s.forecast.interval_minutes * 60 if s.forecast.enabled else None,
        forecast_history_days=s.forecast.history_days,
        burst_hold_probability=s.burst_hold.min_probability if s.burst_hold.enabled else None,
        hold_recent_s=endpoint.scale_in_policy.cooldown_minutes * 60
        if s.burst_hold.enabled
        else None,
    )
