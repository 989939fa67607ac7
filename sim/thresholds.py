"""What the policies share about the fleet's thresholds."""

from __future__ import annotations

import dataclasses

from config.fleet import Model


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
