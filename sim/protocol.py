"""What a scaling policy sees of the simulation, and what the simulation asks of a policy.

``sim.policies`` and ``sim.simulator`` both import this module and never each other: a policy
acts on one inference component through ``ComponentView`` (its copy counts, its CloudWatch
metrics, the endpoint's free room, a clock and a scheduler), and the simulator calls a policy
through ``Policy``. The local demo's policy (``demo.lockstep.Follower``) uses the same protocol.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from config.fleet import Endpoint, Model

from .cloudwatch import MetricSeries


class ComponentView(Protocol):
    """One inference component inside a running simulation, as a policy may see and change it."""

    @property
    def now(self) -> float: ...

    @property
    def desired(self) -> int:
        """DesiredCopyCount."""
        ...

    @property
    def serving(self) -> int:
        """Copies serving now (CurrentCopyCount)."""
        ...

    @property
    def reaction_s(self) -> float:
        """Alarm state change (or evaluation) to the capacity call, the same for every policy."""
        ...

    @property
    def image_cached(self) -> bool:
        """The endpoint's container cache holds this component's image."""
        ...

    @property
    def metrics(self) -> Mapping[str, MetricSeries]:
        """The component's metrics as CloudWatch publishes them, with their delays."""
        ...

    @property
    def model(self) -> Model: ...

    @property
    def endpoint(self) -> Endpoint: ...

    def free_copy_slots(self) -> int:
        """Copies of this component that fit on running instances right now."""
        ...

    def siblings(self) -> Mapping[str, tuple[int, int]]:
        """The endpoint's other components: (desired copies, copies per instance) each."""
        ...

    def instance_count(self) -> int:
        """Instances of the endpoint, running or launching."""
        ...

    def mean_service_s(self) -> float:
        """Mean seconds a request of this component's traffic holds a copy (for Little's law)."""
        ...

    def set_desired(self, copies: int, reason: str) -> None:
        """UpdateInferenceComponentRuntimeConfig: clamped to the component's min..max copies."""
        ...

    def schedule(self, at_s: float, fn: Callable[[], None]) -> None:
        """Run ``fn`` at simulated time ``at_s``."""
        ...


class Policy(Protocol):
    """A scaling policy for one inference component: fresh per run and per component."""

    name: str
    container_cache: bool
    data_cache: bool

    def attach(self, view: ComponentView) -> None:
        """Called once before the run."""

    def on_tick(self, view: ComponentView) -> None:
        """Called every 10 s, after the tick's datapoints were recorded."""
