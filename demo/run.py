"""The end-to-end run: a traffic spike through the real handlers on moto, in simulated time.

What happens (docs/local-demo.md tells it with the numbers of the default fleet):

1. moto's server starts on loopback (``localaws.server``) and the fleet is created in it through
   boto3 (``demo.world``). The simulated clock starts at ``EPOCH0``; the handlers read it through
   ``lambdas.control_plane.clock`` and the inference-component extension through its
   ``set_clock``, so SageMaker, the table's timestamps and the handlers agree on the time.
2. One ``sim.simulator.EndpointSimulation`` per endpoint queues each inference component's
   step-spike traffic on its copies that serve, on the endpoint's shared instances. Every 10 s
   tick (``Lockstep``):
   * the tick's ``ConcurrentRequestsPerCopy`` and ``NoCapacityInvocationFailures`` go to
     CloudWatch with ``PutMetricData`` (``StorageResolution=1``) once their publishing delay
     (``sim.cloudwatch.HIGH_RES_PUBLISH_DELAY_S``) has passed, stamped with their period, and
     each minute's ``Invocations`` a minute after it (``STANDARD_PUBLISH_DELAY_S``);
   * each alarm due at this tick reads its datapoints back with ``GetMetricData`` and is
     evaluated (``localaws.cloudwatch``, with ``sim.cloudwatch``'s M of N; missing data not
     breaching, as the stack sets it); a transition is written with ``SetAlarmState`` and,
     ``LAMBDA_REACTION_S`` later, the endpoint's scaler gets the documented alarm event;
   * once a minute the cache tracker gets its ``Scheduled Event`` (the polling rule), and every
     ``forecast.interval_minutes`` each endpoint's forecaster gets its schedule's event; the
     configured endpoints' components have ``demo.fleet.HISTORY_DAYS`` previous days of the
     same traffic at ``demo.fleet.HISTORY_SHARE`` of its rate in CloudWatch (``Invocations``
     per minute), so the forecaster raises their copies ahead of the spike, which recurs daily
     and has grown, and the alarms add the rest; the derived neighbour has no history;
   * every copy count the scaler set through ``UpdateInferenceComponentRuntimeConfig`` is read
     back with ``DescribeInferenceComponent`` and handed to the simulation, in the order the
     scaler set them; the simulation and the extension place, time and remove copies by one
     rule (``sim.placement``) and the extension's ``ready_delay`` is the simulation's cold-start
     model, so moto's ``CurrentCopyCount`` and the simulation's serving copies move together
     (checked at every tick: ``drift``).
3. Re-evaluations the scaler sends to SQS with ``DelaySeconds`` are delivered in simulated time
   (``localaws.sqs_delivery``): right after each invocation the new messages in moto's queue are
   held there, and at their simulated due time released, received with ``ReceiveMessage`` and
   handed to the scaler as the SQS event source would (deleting what succeeded). A message
   purged meanwhile is simply not found: cancelled, as in SQS.
4. After the traffic, the first endpoint is deleted (inference components, alarms, endpoint,
   config, models, as ``cdk destroy`` would) and cleanup runs from the state-change event,
   CloudTrail's ``DeleteEndpoint`` and the stack's custom resource; the demo then compares every
   endpoint's rows with what they were before (``demo.cleanup``).

The shared state (clock, story, clients, functions, queues) is ``demo.harness.Harness``; the
result types are ``demo.results``, judged by ``demo.checks``.
"""

from __future__ import annotations

import functools
import io
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from config.alarms import (
    COMPONENT_DIMENSION,
    SAGEMAKER_NAMESPACE,
    AlarmPlan,
)
from config.fleet import Endpoint, Fleet, Model, resolve_image
from lambdas.control_plane import contract
from localaws import events
from localaws.cloudwatch import MetricAlarm
from sim.cloudwatch import LAMBDA_REACTION_S
from sim.simulator import Component, EndpointSimulation, Lane
from sim.traffic import Workload
from stacks.components import forecast_interval_minutes

from . import world
from .checks import evaluate_story
from .cleanup import delete_and_clean
from .datapoints import tick_datapoints
from .fleet import (
    HISTORY_DAYS,
    HISTORY_SHARE,
    demo_endpoints,
    demo_workload,
    invocations_per_minute,
    spike_window_s,
)
from .harness import Harness
from .lockstep import Lockstep
from .results import DemoResult, Sample

if TYPE_CHECKING:
    from types_boto3_cloudwatch.type_defs import MetricDatumTypeDef

DEFAULT_DURATION_S = 3600.0
DEFAULT_SEED = 7
TRACKER_POLL_S = 60  # the tracker's polling rule: rate(1 minute)


@dataclass
class _Component:
    endpoint: Endpoint
    model: Model
    lane: Lane  # its part of its endpoint's simulation
    alarms: list[AlarmPlan]

    @property
    def name(self) -> str:
        return self.model.component_name


class DemoRun(Harness):
    """One run; ``run()`` returns the ``DemoResult``."""

    def __init__(
        self,
        fleet: Fleet,
        *,
        duration_s: float = DEFAULT_DURATION_S,
        seed: int = DEFAULT_SEED,
        log: IO[str] | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        if not (math.isfinite(duration_s) and duration_s >= 1800 and duration_s % 60 == 0):
            raise ValueError(
                f"duration must be a whole number of minutes, at least 1800 s "
                f"(the spike and the scale-in window need it); got {duration_s}"
            )
        super().__init__(fleet, demo_endpoints(fleet), log or io.StringIO())
        self.duration_s = float(duration_s)
        self.seed = seed
        self.progress = progress or (lambda _: None)
        self.drift_ticks = 0
        self.samples: list[Sample] = []
        self.components: dict[str, _Component] = {}
        self.loads: dict[str, float] = {}

    # --- entry point ----------------------------------------------------------------------
    def run(self) -> DemoResult:
        from lambdas.control_plane import aws, clock, observability, settings
        from localaws.lambda_runtime import Environment
        from localaws.server import local_credentials, moto_server

        started = time.perf_counter()
        env = Environment()
        # The handlers' log lines go to the run's log, not the terminal. The stream is swapped
        # without StreamHandler.setStream, which flushes the old stream first: under pytest
        # that may be a capture file closed long ago.
        handler = observability.logger.registered_handler
        stream_handler = handler if isinstance(handler, logging.StreamHandler) else None
        old_stream = stream_handler.stream if stream_handler is not None else None
        try:
            with moto_server() as url:
                self.url = url
                env.set(**local_credentials(url, self.region))
                aws.client.cache_clear()  # handler clients must be built against the server
                settings.settings.cache_clear()
                clock.set_source(self.epoch)
                if stream_handler is not None:
                    stream_handler.stream = self.log
                self.connect(env)
                self._setup()
                self.progress(f"replaying {self.duration_s / 60:.0f} simulated minutes")
                self.lockstep.run()
                self.progress("deleting the first endpoint and cleaning up")
                cleanup = delete_and_clean(self, self.endpoints[0])
                result = DemoResult(
                    config=str(self.fleet.source),
                    server_url=url,
                    endpoints=self.endpoints,
                    duration_s=self.duration_s,
                    spike_s=spike_window_s(self.duration_s),
                    loads=dict(self.loads),
                    ready_s={
                        c.name: {
                            p: round(c.lane.c.ready_s(p, container_cache=True, data_cache=True), 1)
                            for p in ("warm_instance", "cached", "uncached")
                        }
                        for c in self.components.values()
                    },
                    samples=self.samples,
                    events=self.events,
                    cleanup=cleanup,
                    checks=[],
                    invocations=dict(self.invocations),
                    api_calls=self.api_calls,
                    drift_ticks=self.drift_ticks,
                    wall_s=0.0,
                )
        finally:
            clock.set_source(None)
            if stream_handler is not None:
                stream_handler.stream = old_stream
            env.restore()
            aws.client.cache_clear()
            settings.settings.cache_clear()
        result.checks = evaluate_story(result)
        result.wall_s = time.perf_counter() - started
        return result

    # --- set-up ---------------------------------------------------------------------------
    def _setup(self) -> None:
        from localaws import sagemaker_ic

        self.progress(f"creating the fleet in moto at {self.url}")
        images = {
            m.component_name: resolve_image(m.image, self.region)
            for de in self.endpoints
            for m in de.endpoint.models
        }
        control = sagemaker_ic.control(events.ACCOUNT_ID, self.region)
        control.set_clock(self.epoch)
        control.set_ready_delay(lambda component, path, held: 0.0)  # the deployed fleet is running
        created = self.create(images)
        self.control = control

        self.lockstep = Lockstep(self._moment)
        for i, de in enumerate(self.endpoints):
            endpoint = de.endpoint
            follower = self.lockstep.follower(endpoint.name)
            lanes = []
            for model in endpoint.models:
                workload, load = demo_workload(
                    model,
                    duration_s=self.duration_s,
                    seed=self.seed + i,
                    instance_type=endpoint.instance_type,
                )
                self.loads[model.component_name] = load
                component = Component(
                    endpoint, model, self.fleet.slo_ttft_s, _paths(endpoint, model)
                )
                lanes.append((component, workload, follower))
                if de.derived_from is None:
                    self._put_history(model.component_name, workload)
            sim = EndpointSimulation(lanes)
            self.lockstep.add(endpoint.name, sim)
            for model, lane in zip(endpoint.models, sim.lanes, strict=True):
                plans = created.alarms[model.component_name]
                for plan in plans:
                    self.alarms.add(_metric_alarm(plan))
                self.components[model.component_name] = _Component(endpoint, model, lane, plans)
                self.reasons[model.component_name] = "initial"
        # From now on copies take as long as the simulator's cold-start model says.
        control.set_ready_delay(self._ready_delay)
        for de in self.endpoints:
            self.note("aws", de.name, None, f"created {de.label}")
            state = events.endpoint_state_change(
                de.name, "IN_SERVICE", timestamp=events.event_time(self.epoch()), region=self.region
            )
            self.invoke("cache-tracker", de.name, state)

    def _put_history(self, component: str, workload: Workload) -> None:
        """``HISTORY_DAYS`` previous days of ``component``'s per-minute ``Invocations``, each
        day the run's own traffic at the same time of day, at ``HISTORY_SHARE`` of its rate."""
        data: list[MetricDatumTypeDef] = [
            {
                "MetricName": "Invocations",
                "Dimensions": [{"Name": COMPONENT_DIMENSION, "Value": component}],
                "Timestamp": datetime.fromtimestamp(self.epoch() - day * 86400 + 60 * i, UTC),
                "Value": count,
                "Unit": "Count",
            }
            for day in range(1, HISTORY_DAYS + 1)
            for i, count in enumerate(invocations_per_minute(workload, HISTORY_SHARE))
        ]
        for first in range(0, len(data), 1000):
            self.cloudwatch.put_metric_data(
                Namespace=SAGEMAKER_NAMESPACE, MetricData=data[first : first + 1000]
            )

    def _run_forecasters(self) -> None:
        """Each endpoint's forecaster, when its schedule comes due."""
        for de in self.endpoints:
            minutes = forecast_interval_minutes(de.endpoint)
            if minutes is not None and round(self.now_s) % (60 * minutes) == 0:
                event = {"source": contract.FORECAST_SOURCE, "endpoint": de.name}
                self.invoke("forecaster", de.name, event)

    def _ready_delay(self, component: str, path: str, model_on_instance: bool) -> float:
        comp = self.components.get(component)
        if comp is None:
            return 0.0
        return comp.lane.c.ready_s(path, container_cache=True, data_cache=model_on_instance)

    # --- the replay -----------------------------------------------------------------------
    def _moment(self, now_s: float, is_tick: bool) -> None:
        """Everything that happens at ``now_s`` while every simulation is paused there."""
        self.now_s = now_s
        if is_tick:
            self._collect_datapoints()
            self.metrics.publish_due(self.now_s)
        self.run_agenda()
        if is_tick:
            self._evaluate_alarms()
            if round(now_s) % TRACKER_POLL_S == 0:
                for de in self.endpoints:
                    scheduled = events.scheduled(
                        timestamp=events.event_time(self.epoch()), region=self.region
                    )
                    self.invoke("cache-tracker", de.name, scheduled)
            self._run_forecasters()
            self.run_agenda()
        self._sync_capacity(record=is_tick)
        nxt = self.agenda.next_due()
        if nxt is not None:
            self.lockstep.at(nxt)
        if is_tick and round(now_s) % 600 == 0:
            self.progress(f"  simulated {now_s / 60:.0f} of {self.duration_s / 60:.0f} min")

    # --- CloudWatch -----------------------------------------------------------------------
    def _collect_datapoints(self) -> None:
        """The tick's datapoints, to be published once CloudWatch would have them."""
        for comp in self.components.values():
            for due, datum in tick_datapoints(comp.lane, comp.name, self.now_s, self.epoch()):
                self.metrics.add(due, SAGEMAKER_NAMESPACE, datum)

    def _evaluate_alarms(self) -> None:
        """Every alarm due now reads its datapoints back from CloudWatch and is evaluated; a
        transition invokes the endpoint's scaler ``LAMBDA_REACTION_S`` later."""
        plans = {p.name: (c, p) for c in self.components.values() for p in c.alarms}
        for change in self.alarms.evaluate(self.epoch()):
            comp, plan = plans[change.alarm.name]
            present = [v for v in change.datapoints if v is not None]
            shown = ", ".join(f"{v:.1f}" for v in present[-plan.evaluation_periods :]) or "none"
            self.note(
                "alarm",
                comp.endpoint.name,
                comp.name,
                f"{plan.trigger.value} alarm {change.old.value} -> {change.new.value} "
                f"({plan.metric} {plan.statistic} {plan.symbol} {plan.threshold:g}; "
                f"datapoints {shown})",
                trigger=plan.trigger.value,
                state=change.new.value,
            )
            # Every transition invokes the scaler, INSUFFICIENT_DATA -> OK of a new alarm too
            # (the stack wires the scaler to ALARM and OK); there it only learns to stay put.
            self.agenda.add(
                self.now_s + LAMBDA_REACTION_S,
                comp.endpoint.name,
                f"alarm {plan.name}",
                functools.partial(
                    self.invoke,
                    "scaler",
                    comp.endpoint.name,
                    change.event(self.region),
                    source=f"alarm {change.new.value}",
                ),
            )

    # --- SageMaker -> simulation ------------------------------------------------------------
    def _sync_capacity(self, record: bool) -> None:
        """Hand the copy counts the scaler set to the simulations, in the order it set them
        (where copies of one endpoint go depends on it); sample at ticks."""
        states = self.alarms.states()
        live = [c for c in self.components.values() if c.endpoint.name not in self.deleted]
        order = [c for name in self.touched for c in live if c.name == name]
        order += [c for c in live if record and c.name not in self.touched]
        runtime: dict[str, tuple[int, int]] = {}
        for comp in order:
            described = self.sagemaker.describe_inference_component(
                InferenceComponentName=comp.name
            )["RuntimeConfig"]
            desired = int(described.get("DesiredCopyCount", 0))
            runtime[comp.name] = desired, int(described.get("CurrentCopyCount", 0))
            if desired != comp.lane.desired:
                comp.lane.set_desired(desired, self.reasons[comp.name])
        for comp in live if record else ():
            desired, current = runtime[comp.name]
            lane = comp.lane
            if current != lane.serving:
                self.drift_ticks += 1
            self.samples.append(
                Sample(
                    t_s=self.now_s,
                    endpoint=comp.endpoint.name,
                    component=comp.name,
                    in_flight=round(lane.timeline.in_system[-1], 2),
                    per_copy=_rounded(lane.metrics["ConcurrentRequestsPerCopy"].values[-1]),
                    desired=desired,
                    current=current,
                    sim_serving=lane.serving,
                    instances=self.control.instance_counts(comp.endpoint.name)[0],
                    alarms={a.trigger.value: states[a.name].value for a in comp.alarms},
                )
            )
        self.touched.clear()


def _metric_alarm(plan: AlarmPlan) -> MetricAlarm:
    """The alarm ``demo.world`` put for ``plan``, as the evaluator reads it."""
    return MetricAlarm(
        name=plan.name,
        namespace=SAGEMAKER_NAMESPACE,
        metric=plan.metric,
        dimensions=((COMPONENT_DIMENSION, plan.component),),
        statistic=plan.statistic,
        period_s=plan.period_s,
        evaluation_periods=plan.evaluation_periods,
        datapoints_to_alarm=plan.datapoints,
        threshold=plan.threshold,
        comparison=plan.comparison,
        treat_missing_data=plan.treat_missing_data,
        description=world.alarm_description(plan),
    )


def _paths(endpoint: Endpoint, model: Model) -> dict[str, Any]:
    from config.coldstart import cold_start

    return cold_start(endpoint.instance_type, image_gb=model.image_gb, model_gb=model.model_gb)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def run_demo(
    fleet: Fleet,
    *,
    duration_s: float = DEFAULT_DURATION_S,
    seed: int = DEFAULT_SEED,
    log_path: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> DemoResult:
    """Run the whole story once; handler logs (JSON lines) go to ``log_path`` if given."""
    if log_path is None:
        return DemoRun(fleet, duration_s=duration_s, seed=seed, progress=progress).run()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w", encoding="utf-8") as log:
        return DemoRun(fleet, duration_s=duration_s, seed=seed, log=log, progress=progress).run()
