"""From the fleet configuration to the scaling policy the control plane runs.

The scaler Lambda receives each component's ``ScalingSpec`` as JSON in its environment; the
simulator and the local demo build the same objects here, so all three decide identically.
"""

from __future__ import annotations

from lambdas.control_plane.decision import ReadyTimes, ScalingSpec, Step

from .coldstart import cold_start
from .fleet import Endpoint, Model


def ready_times(endpoint: Endpoint, model: Model) -> ReadyTimes:
    """Predicted seconds until a new copy serves, by path, from the cold-start model."""
    paths = cold_start(endpoint.instance_type, image_gb=model.image_gb, model_gb=model.model_gb)
    return ReadyTimes(
        warm_instance=round(paths["warm_instance"].total_s, 1),
        cached=round(paths["cached"].total_s, 1),
        uncached=round(paths["uncached"].total_s, 1),
    )


def scaling_spec(endpoint: Endpoint, model: Model) -> ScalingSpec:
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
    )
