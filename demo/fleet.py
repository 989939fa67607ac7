"""Which endpoints the demo runs and what traffic each one gets. Pure: no AWS, no clock.

The demo runs the user's fleet file as it is. Isolation needs at least two endpoints, so a fleet
with one endpoint gets a second, smaller *neighbour* derived from it (same models, at most two
instances and two copies per model), labelled as such everywhere it appears.

Traffic is the simulator's ``step-spike`` scenario (2 req/s, then 25 req/s from 1/6 to 1/2 of
the run), scaled per component so that the spike holds ``SPIKE_PER_COPY_SHARE`` of the
scale-out threshold on ``SPIKE_COPIES`` copies (fewer if the component allows fewer). For the
default fleet: 0.75 x 8 x 6 = 36 requests in flight, which is 25 req/s at the Azure trace's mean
service time of 1.46 s, i.e. load 1.0: the scenario as the simulator defines it. The derived
neighbour (max 2 copies) gets 0.75 x 8 x 2 = 12 in flight at the peak, load 0.33.

The spike is a daily one that has grown: the configured endpoints' components get
``HISTORY_DAYS`` previous days of per-minute ``Invocations`` in CloudWatch, each day the run's
own traffic at ``HISTORY_SHARE`` of its rate (``invocations_per_minute``). So the forecaster
has a recurring peak to find and raises the copies that peak needs ahead of it, and today's
larger spike still breaches the scale-out alarm, whose path adds the rest:
both mechanisms in one run. The derived neighbour is new: no history, and its forecaster finds
nothing to do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from config.fleet import SAGEMAKER_NAME, SAGEMAKER_NAME_MAX, Endpoint, Fleet, Model
from config.serving import copy_speed
from sim.traffic import SCENARIOS, Workload, step_spike_window_s, synthetic

SCENARIO = "step-spike"
HISTORY_DAYS = 7  # previous days of Invocations the configured endpoints' components have
HISTORY_SHARE = 1 / 3  # their rate on those days, of the run's
SPIKE_COPIES = 6
SPIKE_PER_COPY_SHARE = 0.75
NEIGHBOUR_SUFFIX = "-neighbour"
NEIGHBOUR_MAX_INSTANCES = 2
NEIGHBOUR_MAX_COPIES = 2


@dataclass(frozen=True)
class DemoEndpoint:
    """An endpoint of the demo and where it came from."""

    endpoint: Endpoint
    derived_from: str | None = None  # the configured endpoint a neighbour was derived from

    @property
    def name(self) -> str:
        return self.endpoint.name

    @property
    def label(self) -> str:
        if self.derived_from is None:
            return f"{self.name} (from the config)"
        return (
            f"{self.name} (derived neighbour of {self.derived_from}: same models, at most "
            f"{self.endpoint.max_instances} instances and "
            f"{max(m.max_copies for m in self.endpoint.models)} copies per model)"
        )


def neighbour_name(endpoint: Endpoint) -> str:
    """``<name>-neighbour``, shortened so every component name stays within SageMaker's 63."""
    longest_model = max(len(m.name) for m in endpoint.models)
    room = min(SAGEMAKER_NAME_MAX, SAGEMAKER_NAME_MAX - 1 - longest_model)
    base = endpoint.name[: max(1, room - len(NEIGHBOUR_SUFFIX))]
    name = base + NEIGHBOUR_SUFFIX
    if not SAGEMAKER_NAME.match(name):
        raise ValueError(f"cannot derive a valid neighbour name from {endpoint.name!r}")
    return name


def derive_neighbour(endpoint: Endpoint) -> Endpoint:
    """A smaller endpoint with the same models: the second endpoint isolation is shown on."""
    name = neighbour_name(endpoint)
    max_instances = min(endpoint.max_instances, NEIGHBOUR_MAX_INSTANCES)
    min_instances = min(endpoint.min_instances, max_instances)
    models = []
    for m in endpoint.models:
        max_copies = max(1, min(m.max_copies, NEIGHBOUR_MAX_COPIES))
        min_copies = min(m.min_copies, max_copies)
        models.append(
            replace(
                m,
                endpoint_name=name,
                min_copies=min_copies,
                max_copies=max_copies,
                initial_copies=max(min_copies, min(m.initial_copies, max_copies)),
                scaling=replace(
                    m.scaling,
                    from_zero=replace(
                        m.scaling.from_zero, copies=min(m.scaling.from_zero.copies, max_copies)
                    ),
                ),
            )
        )
    return replace(
        endpoint,
        name=name,
        min_instances=min_instances,
        max_instances=max_instances,
        models=tuple(models),
    )


def demo_endpoints(fleet: Fleet) -> tuple[DemoEndpoint, ...]:
    """The fleet's endpoints, plus a derived neighbour when the fleet has only one."""
    configured = tuple(DemoEndpoint(e) for e in fleet.endpoints)
    if len(configured) >= 2:
        return configured
    base = fleet.endpoints[0]
    return (*configured, DemoEndpoint(derive_neighbour(base), derived_from=base.name))


def spike_in_flight(model: Model) -> float:
    """Requests in flight at the spike's peak for ``model``'s component."""
    copies = min(model.max_copies, SPIKE_COPIES)
    return SPIKE_PER_COPY_SHARE * model.scaling.scale_out.threshold * copies


def demo_workload(
    model: Model, *, duration_s: float, seed: int, instance_type: str | None = None
) -> tuple[Workload, float]:
    """The step-spike traffic for ``model`` and the load factor applied to the scenario.

    By Little's law the peak holds ``peak_rate x mean service time`` requests in flight; the
    load factor scales the scenario's rate so that this equals ``spike_in_flight(model)``. With
    ``instance_type`` the service time is the simulator's (``config.serving``: the copy's speed at
    the spike's requests per copy), else the fleet file's ``serving`` rates.
    """
    base = synthetic(SCENARIO, seed=seed, duration_s=duration_s)
    prefill, decode = model.serving.prefill_tokens_per_s, model.serving.decode_tokens_per_s
    if instance_type is not None:
        speed = copy_speed(instance_type, model)
        per_copy = max(1, round(SPIKE_PER_COPY_SHARE * model.scaling.scale_out.threshold))
        prefill, decode = speed.prefill_tokens_per_s(per_copy), speed.decode_tokens_per_s(per_copy)
    service_s = base.service_time_s(prefill, decode)
    mean_service_s = float(service_s.mean()) if service_s.size else 1.0
    load = spike_in_flight(model) / (SCENARIOS[SCENARIO].peak_rate * mean_service_s)
    load = round(load, 2)
    return base.scaled(load, seed), load


def spike_window_s(duration_s: float) -> tuple[float, float]:
    """When the demo's spike starts and ends: the step-spike scenario's window."""
    return step_spike_window_s(duration_s)


def invocations_per_minute(workload: Workload, share: float = 1.0) -> list[float]:
    """Requests arriving in each minute of ``workload`` (CloudWatch's ``Invocations`` Sum at
    60 s) times ``share``, from its first minute to the last one it covers."""
    minutes = max(1, math.ceil(workload.duration_s / 60))
    counts, _ = np.histogram(workload.arrival_s, bins=minutes, range=(0.0, minutes * 60.0))
    return [round(float(c) * share) for c in counts]
