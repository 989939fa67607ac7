"""What a demo run produces: samples per tick, events, the cleanup's outcome and the checks.

Plain data: the runner (``demo.run``) fills it, ``demo.checks`` judges it and ``demo.render``
shows it; none of them needs the others to read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .fleet import DemoEndpoint


@dataclass(frozen=True)
class Sample:
    """One component at one 10 s tick."""

    t_s: float
    endpoint: str
    component: str
    in_flight: float  # requests in service or queued, averaged over the tick
    per_copy: float | None  # the ConcurrentRequestsPerCopy datapoint of the tick
    desired: int  # DesiredCopyCount (moto)
    current: int  # CurrentCopyCount (moto)
    sim_serving: int  # copies serving in the simulation
    instances: int  # instances running (moto)
    alarms: dict[str, str]  # trigger -> state


@dataclass(frozen=True)
class Event:
    """Something that happened: an alarm transition, an invocation and what it did, a check."""

    t_s: float
    kind: str  # alarm | decision | forecast | tracker | sqs | cleanup | aws | error
    endpoint: str
    component: str | None
    text: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class CleanupResult:
    deleted_endpoint: str
    rows_before: dict[str, int]
    rows_after: dict[str, int]
    rows_deleted_by_cleanup: int
    others_identical: dict[str, bool]
    other_copies_before: dict[str, tuple[int, int]]
    other_copies_after: dict[str, tuple[int, int]]
    queue_messages_after: dict[str, int]
    cancelled_reevaluations: int
    runs: list[dict[str, Any]]


@dataclass
class DemoResult:
    config: str
    server_url: str
    endpoints: tuple[DemoEndpoint, ...]
    duration_s: float
    spike_s: tuple[float, float]
    loads: dict[str, float]  # component -> load factor on the scenario
    ready_s: dict[str, dict[str, float]]  # component -> path -> seconds
    samples: list[Sample]
    events: list[Event]
    cleanup: CleanupResult
    checks: list[Check]
    invocations: dict[str, int]
    api_calls: int
    drift_ticks: int
    wall_s: float

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def decisions(self, component: str | None = None) -> list[Event]:
        return [
            e
            for e in self.events
            if e.kind == "decision" and (component is None or e.component == component)
        ]

    def forecasts(self, component: str | None = None) -> list[Event]:
        return [
            e
            for e in self.events
            if e.kind == "forecast" and (component is None or e.component == component)
        ]

    def series(self, component: str) -> list[Sample]:
        return [s for s in self.samples if s.component == component]
