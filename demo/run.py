"""The end-to-end run: a traffic spike through the real handlers on moto, in simulated time.

What happens (docs/local-demo.md tells it with the numbers of the default fleet):

1. moto's server starts on loopback and the fleet is created in it through boto3
   (``demo.world``). The simulated clock starts at ``EPOCH0``; the handlers read it through
   ``lambdas.control_plane.clock`` and the inference-component extension through its
   ``set_clock``, so SageMaker, the table's timestamps and the handlers agree on the time.
2. One ``sim.simulator.Simulation`` per inference component queues the step-spike traffic on
   the copies that serve. Every 10 s tick (``Lockstep``):
   * the tick's ``ConcurrentRequestsPerCopy`` and ``NoCapacityInvocationFailures`` go to
     CloudWatch with ``PutMetricData`` (``StorageResolution=1``) once their publishing delay
     (``sim.cloudwatch.HIGH_RES_PUBLISH_DELAY_S``) has passed, stamped with their period;
   * each alarm due at this tick reads its datapoints back with ``GetMetricData`` and is
     evaluated with ``sim.cloudwatch`` (M of N; missing data not breaching, as the stack sets
     it); a transition is written with ``SetAlarmState`` and, ``LAMBDA_REACTION_S`` later, the
     endpoint's scaler gets the documented alarm event;
   * once a minute the cache tracker gets its ``Scheduled Event`` (the polling rule);
   * every copy count the scaler set through ``UpdateInferenceComponentRuntimeConfig`` is read
     back with ``DescribeInferenceComponent`` and handed to the simulation, whose cold-start
     model decides when each copy serves; the extension's ``ready_delay`` is the same model, so
     moto's ``CurrentCopyCount`` and the simulation's serving copies move together (checked at
     every tick: ``drift``).
3. Re-evaluations the scaler sends to SQS with ``DelaySeconds`` are delivered in simulated time:
   right after each invocation the demo finds the new messages in moto's queue, holds them
   there, and at their simulated due time releases them, receives them with ``ReceiveMessage``
   and hands them to the scaler as the SQS event source would (deleting what succeeded). A
   message purged meanwhile is simply not found: cancelled, as in SQS.
4. After the traffic, the first endpoint is deleted (inference components, alarms, endpoint,
   config, models, as ``cdk destroy`` would) and cleanup runs from the state-change event,
   CloudTrail's ``DeleteEndpoint`` and the stack's custom resource; the demo then compares every
   endpoint's rows with what they were before.
"""

from __future__ import annotations

import contextlib
import functools
import heapq
import io
import itertools
import json
import logging
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from config.alarms import (
    COMPONENT_DIMENSION,
    CONCURRENCY_METRIC,
    NO_CAPACITY_METRIC,
    SAGEMAKER_NAMESPACE,
    AlarmPlan,
)
from config.fleet import Endpoint, Fleet, Model, resolve_image
from lambdas.control_plane import contract
from localaws import events
from sim.cloudwatch import (
    HIGH_RES_PUBLISH_DELAY_S,
    LAMBDA_REACTION_S,
    Alarm,
    State,
    alarm_spec,
)
from sim.simulator import TICK_S, Component, Simulation

from . import world
from .fleet import DemoEndpoint, demo_endpoints, demo_workload, spike_window_s
from .lockstep import Lockstep

# Simulated time starts here (a Monday, 09:00 UTC, aligned to every alarm period).
EPOCH0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC).timestamp()
DEFAULT_DURATION_S = 3600.0
DEFAULT_SEED = 7
# CloudTrail delivers management events to EventBridge "on a best effort basis", typically
# within a minute or so of the call; the demo assumes 30 s (stated, not measured).
CLOUDTRAIL_DELAY_S = 30.0
TRACKER_POLL_S = 60  # the tracker's polling rule: rate(1 minute)
_HOLD_MS = 10**15  # a held SQS message is delayed "forever" in moto's wall time


# --- what the run produces --------------------------------------------------------------------
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
    kind: str  # alarm | decision | tracker | sqs | cleanup | aws | error
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

    def series(self, component: str) -> list[Sample]:
        return [s for s in self.samples if s.component == component]


# --- helpers ----------------------------------------------------------------------------------
def iso(epoch_s: float) -> str:
    """CloudWatch's timestamp format in alarm events: 2026-01-05T09:10:50.000+0000."""
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


@dataclass
class LambdaContext:
    """The attributes of the Lambda context object that Powertools and handlers may read."""

    function_name: str
    region: str
    memory_limit_in_mb: int = 256
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{world.ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "demo"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@dataclass
class _Component:
    endpoint: Endpoint
    model: Model
    sim: Simulation
    alarms: list[tuple[AlarmPlan, Alarm]]
    reason: str = "initial"

    @property
    def name(self) -> str:
        return self.model.component_name


class _Agenda:
    """Things due at simulated times: (due, seq, endpoint, label, action)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, str, str, Callable[[], object]]] = []
        self._seq = itertools.count()

    def add(self, due_s: float, endpoint: str, label: str, action: Callable[[], object]) -> None:
        heapq.heappush(self._heap, (due_s, next(self._seq), endpoint, label, action))

    def next_due(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def pop_due(
        self, now_s: float, endpoint: str | None = None
    ) -> tuple[float, str, Callable[[], object]] | None:
        """The earliest item due by ``now_s`` (of ``endpoint`` only, if given)."""
        for i, (due, _, ep, label, action) in enumerate(sorted(self._heap)):
            if due > now_s:
                return None
            if endpoint is None or ep == endpoint:
                item = sorted(self._heap)[i]
                self._heap.remove(item)
                heapq.heapify(self._heap)
                return due, label, action
        return None

    def __len__(self) -> int:
        return len(self._heap)


# --- the run ----------------------------------------------------------------------------------
class DemoRun:
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
        self.fleet = fleet
        self.duration_s = float(duration_s)
        self.seed = seed
        self.endpoints = demo_endpoints(fleet)
        self.log = log or io.StringIO()
        self.progress = progress or (lambda _: None)
        self.now_s = 0.0
        self.events: list[Event] = []
        self.samples: list[Sample] = []
        self.agenda = _Agenda()
        self.invocations = {"scaler": 0, "cache-tracker": 0, "cleanup": 0}
        self.api_calls = 0
        self.drift_ticks = 0
        self.deleted: set[str] = set()
        self._seen_messages: set[str] = set()
        self._unpublished: list[tuple[float, dict[str, Any]]] = []
        self._touched: set[str] = set()
        self._cancelled = 0
        self.components: dict[str, _Component] = {}
        self.loads: dict[str, float] = {}

    def _count_call(self, **_: Any) -> None:
        self.api_calls += 1

    # --- time -----------------------------------------------------------------------------
    def epoch(self) -> float:
        """The simulated wall clock every handler and moto's extension read."""
        return EPOCH0 + self.now_s

    def note(self, kind: str, endpoint: str, component: str | None, text: str, **data: Any) -> None:
        self.events.append(Event(self.now_s, kind, endpoint, component, text, data))

    # --- entry point ----------------------------------------------------------------------
    def run(self) -> DemoResult:
        from lambdas.control_plane import aws, clock, observability, settings

        started = time.perf_counter()
        env = world.Environment()
        # The handlers' log lines go to the run's log, not the terminal. The stream is swapped
        # without StreamHandler.setStream, which flushes the old stream first: under pytest
        # that may be a capture file closed long ago.
        handler = observability.logger.registered_handler
        stream_handler = handler if isinstance(handler, logging.StreamHandler) else None
        old_stream = stream_handler.stream if stream_handler is not None else None
        try:
            with world.moto_server(self.fleet.region) as url:
                self.url = url
                env.set(**world.local_credentials(url, self.fleet.region))
                aws.client.cache_clear()  # handler clients must be built against the server
                settings.settings.cache_clear()
                clock.set_source(self.epoch)
                if stream_handler is not None:
                    stream_handler.stream = self.log
                self.env = env
                self._setup()
                self.progress(f"replaying {self.duration_s / 60:.0f} simulated minutes")
                self._replay()
                self.progress("deleting the first endpoint and cleaning up")
                cleanup = self._delete_and_clean(self.endpoints[0])
                result = DemoResult(
                    config=str(self.fleet.source),
                    server_url=url,
                    endpoints=self.endpoints,
                    duration_s=self.duration_s,
                    spike_s=spike_window_s(self.duration_s),
                    loads=dict(self.loads),
                    ready_s={
                        c.name: {
                            p: round(c.sim.c.ready_s(p, container_cache=True, data_cache=True), 1)
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
        from .checks import evaluate_story

        result.checks = evaluate_story(result)
        result.wall_s = time.perf_counter() - started
        return result

    # --- set-up ---------------------------------------------------------------------------
    def _setup(self) -> None:
        import boto3

        from localaws import sagemaker_ic
        from stacks.components import components_env

        region = self.fleet.region
        self.clients = {
            name: boto3.client(name, region_name=region)
            for name in ("dynamodb", "sqs", "sagemaker", "cloudwatch", "iam")
        }
        for client in self.clients.values():
            # Counts every call these clients make (once per call, retries not included); the
            # handlers build their own clients, so their calls are not counted here.
            client.meta.events.register("before-call", self._count_call)
        self.progress(f"creating the fleet in moto at {self.url}")
        images = {
            m.component_name: resolve_image(m.image, region)
            for de in self.endpoints
            for m in de.endpoint.models
        }
        control = sagemaker_ic.control(world.ACCOUNT_ID, region)
        control.set_clock(self.epoch)
        control.set_ready_delay(lambda component, path: 0.0)  # the deployed fleet is running
        endpoints = [de.endpoint for de in self.endpoints]
        self.created = world.create_fleet(self.clients, self.fleet, endpoints, images)
        self.control = control

        self.function_env: dict[str, dict[str, str]] = {}
        for endpoint in endpoints:
            self.function_env[endpoint.name] = {
                contract.ENV_TABLE_NAME: self.created.table_name,
                contract.ENV_ENDPOINT_NAME: endpoint.name,
                contract.ENV_COMPONENTS: components_env(
                    self.fleet, endpoint, image_for=lambda m, _r: images[m.component_name]
                ),
                contract.ENV_REEVALUATION_QUEUE_URL: self.created.queue_urls[endpoint.name],
                contract.ENV_HISTORY_TTL_DAYS: str(self.fleet.control_plane.history_ttl_days),
                "POWERTOOLS_METRICS_NAMESPACE": contract.METRICS_NAMESPACE,
            }

        self.lockstep = Lockstep(self._moment)
        for i, endpoint in enumerate(endpoints):
            for model in endpoint.models:
                workload, load = demo_workload(
                    model, duration_s=self.duration_s, seed=self.seed + i
                )
                self.loads[model.component_name] = load
                component = Component(
                    endpoint, model, self.fleet.slo_ttft_s, _paths(endpoint, model)
                )
                sim = Simulation(component, workload, self.lockstep.follower(model.component_name))
                alarms = [
                    (a, Alarm(alarm_spec(a))) for a in self.created.alarms[model.component_name]
                ]
                self.components[model.component_name] = _Component(endpoint, model, sim, alarms)
                self.lockstep.add(model.component_name, sim)
        # From now on copies take as long as the simulator's cold-start model says.
        control.set_ready_delay(self._ready_delay)
        for de in self.endpoints:
            self.note("aws", de.name, None, f"created {de.label}")
            self._invoke(
                "cache-tracker", de.name, _state_change(de.name, "IN_SERVICE", self.fleet.region)
            )

    def _ready_delay(self, component: str, path: str) -> float:
        comp = self.components.get(component)
        if comp is None:
            return 0.0
        return comp.sim.c.ready_s(path, container_cache=True, data_cache=True)

    # --- the replay -----------------------------------------------------------------------
    def _replay(self) -> None:
        self.lockstep.run()

    def _moment(self, now_s: float, is_tick: bool) -> None:
        """Everything that happens at ``now_s`` while every simulation is paused there."""
        self.now_s = now_s
        if is_tick:
            self._collect_datapoints()
            self._publish_due()
        self._run_agenda()
        if is_tick:
            self._evaluate_alarms()
            if round(now_s) % TRACKER_POLL_S == 0:
                for de in self.endpoints:
                    self._invoke(
                        "cache-tracker", de.name, _scheduled(self.fleet.region, self.epoch())
                    )
            self._run_agenda()
        self._sync_capacity(record=is_tick)
        nxt = self.agenda.next_due()
        if nxt is not None:
            self.lockstep.at(nxt)
        if is_tick and round(now_s) % 600 == 0:
            self.progress(f"  simulated {now_s / 60:.0f} of {self.duration_s / 60:.0f} min")

    def _run_agenda(self, endpoint: str | None = None) -> None:
        while (item := self.agenda.pop_due(self.now_s, endpoint)) is not None:
            _, _, action = item
            action()

    # --- CloudWatch -----------------------------------------------------------------------
    def _collect_datapoints(self) -> None:
        """The tick's datapoints, to be published once CloudWatch would have them."""
        stamp = datetime.fromtimestamp(self.epoch() - TICK_S, UTC)
        due = self.now_s + HIGH_RES_PUBLISH_DELAY_S
        for comp in self.components.values():
            dims = [{"Name": COMPONENT_DIMENSION, "Value": comp.name}]
            per_copy = comp.sim.metrics["ConcurrentRequestsPerCopy"].values[-1]
            failures = comp.sim.metrics["NoCapacityInvocationFailures"].values[-1]
            if per_copy is not None:  # no copy serving: SageMaker emits nothing per copy
                self._unpublished.append(
                    (
                        due,
                        {
                            "MetricName": CONCURRENCY_METRIC,
                            "Dimensions": dims,
                            "Timestamp": stamp,
                            "Value": round(per_copy, 3),
                            "StorageResolution": 1,
                        },
                    )
                )
            if failures:
                self._unpublished.append(
                    (
                        due,
                        {
                            "MetricName": NO_CAPACITY_METRIC,
                            "Dimensions": dims,
                            "Timestamp": stamp,
                            "Value": float(failures),
                            "StorageResolution": 1,
                        },
                    )
                )

    def _publish_due(self) -> None:
        ready = [d for due, d in self._unpublished if due <= self.now_s]
        self._unpublished = [(due, d) for due, d in self._unpublished if due > self.now_s]
        for start in range(0, len(ready), 1000):  # PutMetricData takes 1000 datapoints
            self.clients["cloudwatch"].put_metric_data(
                Namespace=SAGEMAKER_NAMESPACE, MetricData=ready[start : start + 1000]
            )

    def _evaluate_alarms(self) -> None:
        """Every alarm due now reads its datapoints back from CloudWatch and is evaluated."""
        due: dict[int, list[tuple[_Component, AlarmPlan, Alarm]]] = {}
        for comp in self.components.values():
            if comp.endpoint.name in self.deleted:
                continue
            for adef, alarm in comp.alarms:
                if alarm.due(self.now_s):
                    due.setdefault(adef.period_s, []).append((comp, adef, alarm))
        for period_s, group in due.items():
            # Datapoints are readable up to the publishing horizon; the window is the last N
            # whole periods before it (sim.cloudwatch.MetricSeries.window, read from moto).
            horizon = self.epoch() - HIGH_RES_PUBLISH_DELAY_S
            end = math.floor(horizon / period_s) * period_s
            periods = max(a.evaluation_periods for _, a, _ in group)
            start = end - periods * period_s
            queries = [
                {
                    "Id": f"a{i}",
                    "ReturnData": True,
                    "MetricStat": {
                        "Metric": {
                            "Namespace": SAGEMAKER_NAMESPACE,
                            "MetricName": a.metric,
                            "Dimensions": [{"Name": COMPONENT_DIMENSION, "Value": a.component}],
                        },
                        "Period": period_s,
                        "Stat": a.statistic,
                    },
                }
                for i, (_, a, _) in enumerate(group)
            ]
            response = self.clients["cloudwatch"].get_metric_data(
                MetricDataQueries=queries,
                StartTime=datetime.fromtimestamp(start, UTC),
                EndTime=datetime.fromtimestamp(end, UTC),
                ScanBy="TimestampAscending",
            )
            by_id = {r["Id"]: r for r in response["MetricDataResults"]}
            for i, (comp, adef, alarm) in enumerate(group):
                result = by_id.get(f"a{i}", {})
                slots: list[float | None] = [None] * adef.evaluation_periods
                first = end - adef.evaluation_periods * period_s
                for stamp, value in zip(
                    result.get("Timestamps", []), result.get("Values", []), strict=False
                ):
                    k = round((stamp.timestamp() - first) / period_s)
                    if 0 <= k < adef.evaluation_periods:
                        slots[k] = float(value)
                old = alarm.state
                # alarm_spec carries the plan's TreatMissingData (notBreaching) to the evaluator.
                new = alarm.update(self.now_s, slots)
                if new is not None:
                    self._transition(comp, adef, old, new, slots, first, period_s)

    def _transition(
        self,
        comp: _Component,
        adef: AlarmPlan,
        old: State,
        new: State,
        slots: list[float | None],
        first: float,
        period_s: int,
    ) -> None:
        at = self.epoch()
        present = [v for v in slots if v is not None]
        symbol = adef.symbol
        verdict = "were" if new is State.ALARM else "were not"
        reason = (
            f"Threshold Crossed: {adef.datapoints} out of the last "
            f"{adef.evaluation_periods} datapoints {verdict} {symbol} the threshold "
            f"({adef.threshold:g})"
        )
        reason_data = json.dumps(
            {
                "version": "1.0",
                "queryDate": iso(at),
                "startDate": iso(first),
                "statistic": adef.statistic,
                "period": period_s,
                "recentDatapoints": [round(v, 3) for v in present],
                "threshold": adef.threshold,
                # Each datapoint carries its own period's timestamp (slot k starts at
                # first + k x period); a missing slot is left out, as CloudWatch does.
                "evaluatedDatapoints": [
                    {
                        "timestamp": iso(first + k * period_s),
                        "sampleCount": 1.0,
                        "value": round(v, 3),
                    }
                    for k, v in enumerate(slots)
                    if v is not None
                ],
            }
        )
        self.clients["cloudwatch"].set_alarm_state(
            AlarmName=adef.name,
            StateValue=new.value,
            StateReason=reason,
            StateReasonData=reason_data,
        )
        shown = ", ".join(f"{v:.1f}" for v in present[-adef.evaluation_periods :]) or "none"
        self.note(
            "alarm",
            comp.endpoint.name,
            comp.name,
            f"{adef.trigger.value} alarm {old.value} -> {new.value} "
            f"({adef.metric} {adef.statistic} {symbol} {adef.threshold:g}; "
            f"datapoints {shown})",
            trigger=adef.trigger.value,
            state=new.value,
        )
        # Every transition invokes the scaler, INSUFFICIENT_DATA -> OK of a new alarm too
        # (the stack wires the scaler to ALARM and OK); there it only learns to stay put.
        event = _alarm_event(adef, old.value, new.value, reason, reason_data, at, self.fleet.region)
        endpoint = comp.endpoint.name
        self.agenda.add(
            self.now_s + LAMBDA_REACTION_S,
            endpoint,
            f"alarm {adef.name}",
            lambda: self._invoke("scaler", endpoint, event, source=f"alarm {new.value}"),
        )

    # --- invocations ------------------------------------------------------------------------
    def _invoke(
        self, function: str, endpoint: str, event: dict[str, Any], source: str = ""
    ) -> dict[str, Any] | None:
        from lambdas.control_plane import cache_tracker, cleanup, scaler, settings

        handlers = {
            "scaler": scaler.handler,
            "cache-tracker": cache_tracker.handler,
            "cleanup": cleanup.handler,
        }
        self.env.set(**self.function_env[endpoint])
        settings.settings.cache_clear()
        context = LambdaContext(f"{endpoint}-{function}", self.fleet.region)
        self.invocations[function] += 1
        result: dict[str, Any] | None
        with contextlib.redirect_stdout(self.log):
            try:
                result = handlers[function](event, context)
            except Exception as exc:
                self.note(
                    "error",
                    endpoint,
                    None,
                    f"{function} failed: {type(exc).__name__}: {exc}",
                    function=function,
                )
                result = None
        if result is not None:
            self._record(function, endpoint, source, result)
        self._collect_messages()
        return result

    def _record(self, function: str, endpoint: str, source: str, result: dict[str, Any]) -> None:
        if function == "scaler":
            outcomes = result.get("outcomes", [result]) if "outcomes" in result else [result]
            for failure in result.get("batchItemFailures", []):
                self.note(
                    "error", endpoint, None, f"re-evaluation {failure.get('itemIdentifier')} failed"
                )
            for o in outcomes:
                self._decision(endpoint, source, o)
        elif function == "cache-tracker":
            for c in result.get("components", []) if isinstance(result, dict) else []:
                done = c.get("scale_out") if isinstance(c, dict) else None
                if done:
                    self.note(
                        "tracker",
                        endpoint,
                        c["component"],
                        f"tracker: scale-out to {done['target_copies']} copies observed "
                        f"after {done['seconds']:.0f} s (path {done['path']})",
                        **done,
                    )
        elif function == "cleanup":
            self.note(
                "cleanup",
                endpoint,
                None,
                f"cleanup: {json.dumps(result, sort_keys=True)}",
                **result,
            )

    def _decision(self, endpoint: str, source: str, outcome: dict[str, Any]) -> None:
        component = str(outcome.get("component", ""))
        action = str(outcome.get("action", ""))
        reason = str(outcome.get("reason", ""))
        desired = outcome.get("desired_copies")
        target = outcome.get("target_copies")
        moved = (
            f"{desired} -> {target}"
            if action == "scaled" and desired is not None
            else f"stays {desired}"
            if desired is not None
            else ""
        )
        detail = str(outcome.get("detail", ""))
        self.note(
            "decision",
            endpoint,
            component,
            f"scaler ({source}): {action} {moved} [{reason}] {detail}".rstrip(),
            action=action,
            reason=reason,
            desired=desired,
            target=target,
            source=source,
            reevaluate_after_s=outcome.get("reevaluate_after_s"),
        )
        if action == "scaled" and component in self.components:
            self.components[component].reason = reason
            self._touched.add(component)
            event = _cloudtrail(
                self.fleet.region,
                self.epoch(),
                "UpdateInferenceComponentRuntimeConfig",
                {
                    "inferenceComponentName": component,
                    "desiredRuntimeConfig": {"copyCount": target},
                },
            )
            self.agenda.add(
                self.now_s + CLOUDTRAIL_DELAY_S,
                endpoint,
                "cloudtrail update",
                lambda: self._invoke("cache-tracker", endpoint, event),
            )

    # --- SQS in simulated time --------------------------------------------------------------
    def _queues(self) -> Any:
        from moto.sqs.models import sqs_backends

        return sqs_backends[world.ACCOUNT_ID][self.fleet.region]

    def _collect_messages(self) -> None:
        """New messages in the re-evaluation queues: hold them, deliver at their due time."""
        backend = self._queues()
        for endpoint, name in self.created.queue_names.items():
            queue = backend.queues.get(name)
            if queue is None:
                continue
            for message in list(queue._messages):
                if message.id in self._seen_messages:
                    continue
                self._seen_messages.add(message.id)
                sent_ms = float(message.sent_timestamp or 0)
                delay_s = (
                    max(0.0, (message.delayed_until - sent_ms) / 1000.0)
                    if message.delayed_until
                    else 0.0
                )
                message.delayed_until = _HOLD_MS
                due = self.now_s + round(delay_s)
                self.agenda.add(
                    due,
                    endpoint,
                    f"sqs {message.id}",
                    functools.partial(self._deliver, endpoint, message.id),
                )

    def _deliver(self, endpoint: str, message_id: str) -> None:
        queue = self._queues().queues.get(self.created.queue_names[endpoint])
        message = next((m for m in (queue._messages if queue else []) if m.id == message_id), None)
        if message is None:
            self._cancelled += 1
            self.note(
                "sqs",
                endpoint,
                None,
                f"re-evaluation {message_id[:8]} not delivered: no longer in the queue (purged)",
            )
            return
        message.delayed_until = 0.0
        sqs = self.clients["sqs"]
        url = self.created.queue_urls[endpoint]
        received = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=60,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            return
        arn = (
            f"arn:aws:sqs:{self.fleet.region}:{world.ACCOUNT_ID}:"
            f"{self.created.queue_names[endpoint]}"
        )
        records = [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": m.get("MessageAttributes", {}),
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": self.fleet.region,
            }
            for m in received
        ]
        result = self._invoke("scaler", endpoint, {"Records": records}, source="re-evaluation")
        failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
        if result is None:
            failed = {r["messageId"] for r in records}
        for m in received:
            if m["MessageId"] in failed:
                # Keep it out of later receives; the error is in the events.
                held = next((x for x in queue._messages if x.id == m["MessageId"]), None)
                if held is not None:
                    held.delayed_until = _HOLD_MS
                continue
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])

    # --- SageMaker -> simulation ------------------------------------------------------------
    def _sync_capacity(self, record: bool) -> None:
        """Hand the copy counts the scaler set to the simulations; sample at ticks."""
        sm = self.clients["sagemaker"]
        for comp in self.components.values():
            if comp.endpoint.name in self.deleted:
                continue
            if not record and comp.name not in self._touched:
                continue
            described = sm.describe_inference_component(InferenceComponentName=comp.name)
            runtime = described["RuntimeConfig"]
            desired, current = int(runtime["DesiredCopyCount"]), int(runtime["CurrentCopyCount"])
            if desired != comp.sim.desired:
                comp.sim.set_desired(desired, comp.reason)
            if not record:
                continue
            if current != comp.sim.serving:
                self.drift_ticks += 1
            sim = comp.sim
            self.samples.append(
                Sample(
                    t_s=self.now_s,
                    endpoint=comp.endpoint.name,
                    component=comp.name,
                    in_flight=round(sim.timeline.in_system[-1], 2),
                    per_copy=_rounded(sim.metrics["ConcurrentRequestsPerCopy"].values[-1]),
                    desired=desired,
                    current=current,
                    sim_serving=sim.serving,
                    instances=self.control.instance_counts(comp.endpoint.name)[0],
                    alarms={a.trigger.value: alarm.state.value for a, alarm in comp.alarms},
                )
            )
        self._touched.clear()

    # --- the end: delete an endpoint, clean up, compare ------------------------------------
    def _advance(self, to_s: float, endpoint: str) -> None:
        """After the replay: move the clock to ``to_s`` running ``endpoint``'s due items."""
        while (item := self.agenda.pop_due(to_s, endpoint)) is not None:
            due, _, action = item
            self.now_s = max(self.now_s, due)
            action()
        self.now_s = max(self.now_s, to_s)

    def _delete_and_clean(self, target: DemoEndpoint) -> CleanupResult:
        ddb, sm, sqs, cw = (self.clients[k] for k in ("dynamodb", "sagemaker", "sqs", "cloudwatch"))
        region = self.fleet.region
        table = self.created.table_name
        name = target.name
        others = [de.name for de in self.endpoints if de.name != name]
        rows_before = {de.name: world.partition_rows(ddb, table, de.name) for de in self.endpoints}
        other_components = [
            m.component_name for de in self.endpoints if de.name != name for m in de.endpoint.models
        ]

        def copies(component: str) -> tuple[int, int]:
            rc = sm.describe_inference_component(InferenceComponentName=component)["RuntimeConfig"]
            return int(rc["DesiredCopyCount"]), int(rc["CurrentCopyCount"])

        other_before = {c: copies(c) for c in other_components}
        t0 = self.now_s + TICK_S
        self.now_s = t0
        # CloudFormation deletes the inference components first (they depend on the endpoint).
        for model in target.endpoint.models:
            sm.delete_inference_component(InferenceComponentName=model.component_name)
            self.note(
                "aws",
                name,
                model.component_name,
                f"DeleteInferenceComponent {model.component_name}",
            )
            event = _cloudtrail(
                region,
                self.epoch(),
                "DeleteInferenceComponent",
                {"inferenceComponentName": model.component_name},
            )
            self.agenda.add(
                t0 + CLOUDTRAIL_DELAY_S,
                name,
                "cloudtrail delete ic",
                functools.partial(self._invoke, "cache-tracker", name, event),
            )
        self._advance(t0 + CLOUDTRAIL_DELAY_S, name)
        self.now_s += TICK_S
        cw.delete_alarms(
            AlarmNames=[
                a.name
                for m in target.endpoint.models
                for a in self.created.alarms[m.component_name]
            ]
        )
        sm.delete_endpoint(EndpointName=name)
        self.deleted.add(name)
        self.note("aws", name, None, f"DeleteEndpoint {name} (alarms deleted with the stack)")
        deleting = _state_change(name, "DELETING", region)
        t1 = self.now_s
        self.agenda.add(
            t1 + 1,
            name,
            "state change -> tracker",
            lambda: self._invoke("cache-tracker", name, deleting),
        )
        self.agenda.add(
            t1 + 1, name, "state change -> cleanup", lambda: self._invoke("cleanup", name, deleting)
        )
        trail = _cloudtrail(region, self.epoch(), "DeleteEndpoint", {"endpointName": name})
        self.agenda.add(
            t1 + CLOUDTRAIL_DELAY_S,
            name,
            "cloudtrail -> cleanup",
            lambda: self._invoke("cleanup", name, trail),
        )
        resource = _custom_resource_delete(
            name, [m.component_name for m in target.endpoint.models], region
        )
        self.agenda.add(
            t1 + 2 * CLOUDTRAIL_DELAY_S,
            name,
            "custom resource -> cleanup",
            lambda: self._invoke("cleanup", name, resource),
        )
        # Re-evaluations of the deleted endpoint still pending come due (and find nothing).
        self._advance(t1 + 900 + TICK_S, name)
        sm.delete_endpoint_config(EndpointConfigName=f"{name}-config")
        for model in target.endpoint.models:
            sm.delete_model(ModelName=model.model_resource_name)
        rows_after = {de.name: world.partition_rows(ddb, table, de.name) for de in self.endpoints}
        runs = [e.data for e in self.events if e.kind == "cleanup"]
        deleted_rows = sum(int(r.get("rows_deleted", 0) or 0) for r in runs)
        queue_after = {}
        for de in self.endpoints:
            attrs = sqs.get_queue_attributes(
                QueueUrl=self.created.queue_urls[de.name],
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesDelayed",
                ],
            )["Attributes"]
            queue_after[de.name] = int(attrs["ApproximateNumberOfMessages"]) + int(
                attrs["ApproximateNumberOfMessagesDelayed"]
            )
        other_after = {c: copies(c) for c in other_components}
        for endpoint in others:
            same = rows_before[endpoint] == rows_after[endpoint]
            self.note(
                "cleanup",
                endpoint,
                None,
                f"{endpoint}: {len(rows_after[endpoint])} rows, "
                f"{'identical to' if same else 'DIFFERENT from'} before the deletion",
            )
        return CleanupResult(
            deleted_endpoint=name,
            rows_before={k: len(v) for k, v in rows_before.items()},
            rows_after={k: len(v) for k, v in rows_after.items()},
            rows_deleted_by_cleanup=deleted_rows,
            others_identical={e: rows_before[e] == rows_after[e] for e in others},
            other_copies_before=other_before,
            other_copies_after=other_after,
            queue_messages_after=queue_after,
            cancelled_reevaluations=self._cancelled,
            runs=runs,
        )


# --- event shapes -----------------------------------------------------------------------------
def _paths(endpoint: Endpoint, model: Model) -> dict[str, Any]:
    from config.coldstart import cold_start

    return cold_start(endpoint.instance_type, image_gb=model.image_gb, model_gb=model.model_gb)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _alarm_event(
    adef: AlarmPlan, old: str, new: str, reason: str, reason_data: str, at: float, region: str
) -> dict[str, Any]:
    """The CloudWatch alarm -> Lambda event for one of the fleet's alarms."""
    return events.alarm_event(
        adef.name,
        adef.component,
        new,
        old,
        metric=adef.metric,
        statistic=adef.statistic,
        period_s=adef.period_s,
        reason=reason,
        reason_data=reason_data,
        timestamp=iso(at),
        region=region,
        account=world.ACCOUNT_ID,
        description=f"{adef.trigger.value} for inference component {adef.component}",
        namespace=SAGEMAKER_NAMESPACE,
    )


def _eventbridge(
    detail_type: str, source: str, detail: dict[str, Any], region: str, at: float
) -> dict[str, Any]:
    return events.eventbridge(
        detail_type,
        detail,
        source=source,
        region=region,
        account=world.ACCOUNT_ID,
        timestamp=datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


def _state_change(endpoint: str, status: str, region: str) -> dict[str, Any]:
    arn = f"arn:aws:sagemaker:{region}:{world.ACCOUNT_ID}:endpoint/{endpoint.lower()}"
    from lambdas.control_plane import clock

    return _eventbridge(
        "SageMaker Endpoint State Change",
        "aws.sagemaker",
        {
            "EndpointName": endpoint,
            "EndpointArn": arn,
            "EndpointStatus": status,
            "EndpointConfigName": f"{endpoint}-config",
            "Tags": {},
        },
        region,
        clock.now(),
    )


def _scheduled(region: str, at: float) -> dict[str, Any]:
    return _eventbridge("Scheduled Event", "aws.events", {}, region, at)


def _cloudtrail(region: str, at: float, event_name: str, request: dict[str, Any]) -> dict[str, Any]:
    return _eventbridge(
        "AWS API Call via CloudTrail",
        "aws.sagemaker",
        {
            "eventVersion": "1.09",
            "eventSource": "sagemaker.amazonaws.com",
            "eventName": event_name,
            "awsRegion": region,
            "eventType": "AwsApiCall",
            "eventTime": datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "requestParameters": request,
            "responseElements": None,
            "eventID": str(uuid.uuid4()),
            "readOnly": False,
        },
        region,
        at,
    )


def _custom_resource_delete(endpoint: str, components: list[str], region: str) -> dict[str, Any]:
    """The Provider framework's onEvent for the stack's Cleanup resource on ``cdk destroy``."""
    return events.custom_resource(
        "Delete",
        endpoint,
        components,
        resource_type="Custom::Cleanup",
        logical_id="Cleanup",
        physical_id=f"cleanup-{endpoint}",
        region=region,
        stack_name=f"SageMakerFastScale-{endpoint}",
        account=world.ACCOUNT_ID,
    )


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
