"""What the policies share about the fleet's thresholds and alarm windows."""

from __future__ import annotations

import dataclasses

from config.fleet import Model

from .cloudwatch import AlarmSpec
from .protocol import ComponentView


def alarm_window(view: ComponentView, metric: str, spec: AlarmSpec) -> list[float | None]:
    """The latest datapoints of ``metric`` for the alarm ``spec``, as readable now."""
    return view.metrics[metric].window(
        view.now, spec.period_s, spec.evaluation_periods, spec.statistic
    )


def with_thresholds(model: Model, scale_out: float) -> Model:
    """``model`` with the scale-out threshold ``scale_out`` and the scale-in threshold kept in
    the fleet file's ratio to it (8 and 2 become 4 and 1)."""
    s = model.scaling
    ratio = s.scale_in.threshold / s.scale_out.threshold
    scaling = dataclasses.replace(
        s,
        scale_out=dataclasses.replace(s.scale_out, threshold=scale_out),
        scale_in=dataclasses.replace(s.scale_in, threshold=scale_out * ratio),
    )
    return dataclasses.replace(model, scaling=scaling)
