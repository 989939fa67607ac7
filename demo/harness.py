"""The demo's harness: simulated time, the fleet in moto, the real handlers and what they did.

``Harness`` holds what both halves of the run share, the replay (``demo.run``) and the deletion
at the end (``demo.cleanup``): the simulated clock (``now_s`` from the start, ``epoch()`` for
AWS), the story's ``events``, the agenda of things due later, the boto3 clients (every call they
make is counted), the functions of every endpoint in a ``localaws.lambda_runtime.LambdaRuntime``
and their re-evaluation queues in a ``localaws.sqs_delivery.SqsEventSource``, CloudWatch's
publishing delay and alarm evaluation (``localaws.cloudwatch``).

``invoke`` runs a handler and turns its answer into events: the scaler's decisions and the
forecaster's (a scaling also reaches the cache tracker through CloudTrail's event,
``CLOUDTRAIL_DELAY_S`` later), the tracker's observed scale-outs and the cleanup's result.
"""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any

from config.fleet import Fleet
from lambdas.control_plane import contract
from localaws import events
from localaws.agenda import Agenda
from localaws.cloudwatch import AlarmEvaluator, DelayedMetrics
from localaws.lambda_runtime import Environment, LambdaRuntime
from localaws.sqs_delivery import SqsEventSource
from sim.cloudwatch import HIGH_RES_PUBLISH_DELAY_S

from . import world
from .fleet import DemoEndpoint
from .results import Event

if TYPE_CHECKING:
    from types_boto3_cloudwatch.client import CloudWatchClient
    from types_boto3_dynamodb.client import DynamoDBClient
    from types_boto3_sagemaker.client import SageMakerClient
    from types_boto3_sqs.client import SQSClient

# Simulated time starts here (a Monday, 09:00 UTC, aligned to every alarm period).
EPOCH0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC).timestamp()
# CloudTrail delivers management events to EventBridge "on a best effort basis", typically
# within a minute or so of the call; the demo assumes 30 s (stated, not measured).
CLOUDTRAIL_DELAY_S = 30.0
FUNCTIONS = ("scaler", "cache-tracker", "cleanup", "forecaster")


class Harness:
    """State shared by the replay and the cleanup; ``connect`` and ``create`` set it up."""

    def __init__(self, fleet: Fleet, endpoints: tuple[DemoEndpoint, ...], log: IO[str]) -> None:
        self.fleet = fleet
        self.region = fleet.region
        self.endpoints = endpoints
        self.log = log
        self.now_s = 0.0
        self.events: list[Event] = []
        self.agenda = Agenda()
        self.invocations = dict.fromkeys(FUNCTIONS, 0)
        self.api_calls = 0
        self.deleted: set[str] = set()  # endpoints deleted
        self.cancelled = 0  # re-evaluations purged before they were due
        # components scaled since the last look at SageMaker, in the order they were scaled
        self.touched: dict[str, None] = {}
        self.reasons: dict[str, str] = {}  # component -> reason of its latest scaling
        self.floors: dict[str, int | None] = {}  # component -> forecast floor last told

    # --- time and story -------------------------------------------------------------------
    def epoch(self) -> float:
        """The simulated wall clock every handler and moto's extension read."""
        return EPOCH0 + self.now_s

    def note(self, kind: str, endpoint: str, component: str | None, text: str, **data: Any) -> None:
        self.events.append(Event(self.now_s, kind, endpoint, component, text, data))

    def run_agenda(self, endpoint: str | None = None) -> None:
        """Run everything due by now (of ``endpoint`` only, if given)."""
        while (item := self.agenda.pop_due(self.now_s, endpoint)) is not None:
            _, _, action = item
            action()

    def advance(self, to_s: float, endpoint: str) -> None:
        """Move the clock to ``to_s`` running ``endpoint``'s due items on the way."""
        while (item := self.agenda.pop_due(to_s, endpoint)) is not None:
            due, _, action = item
            self.now_s = max(self.now_s, due)
            action()
        self.now_s = max(self.now_s, to_s)

    # --- set-up ---------------------------------------------------------------------------
    def connect(self, environment: Environment) -> None:
        """Clients, functions and the queues' event source, against the server the
        environment points at."""
        import boto3

        from lambdas.control_plane import settings

        self.environment = environment
        self.dynamodb: DynamoDBClient = boto3.client("dynamodb", region_name=self.region)
        self.sqs: SQSClient = boto3.client("sqs", region_name=self.region)
        self.sagemaker: SageMakerClient = boto3.client("sagemaker", region_name=self.region)
        self.cloudwatch: CloudWatchClient = boto3.client("cloudwatch", region_name=self.region)
        self.iam: Any = boto3.client("iam", region_name=self.region)
        for client in (self.dynamodb, self.sqs, self.sagemaker, self.cloudwatch, self.iam):
            # Counts every call these clients make (once per call, retries not included); the
            # handlers build their own clients, so their calls are not counted here.
            client.meta.events.register("before-call", self._count_call)
        # CloudWatch as scaling sees it: datapoints readable after their publishing delay, and
        # the fleet's alarms evaluated on them.
        self.metrics = DelayedMetrics(self.cloudwatch)
        self.alarms = AlarmEvaluator(self.cloudwatch, publish_delay_s=HIGH_RES_PUBLISH_DELAY_S)
        self.runtime = LambdaRuntime(
            self.region, environment, self.log, on_environment=settings.settings.cache_clear
        )
        self.queues = SqsEventSource(
            self.sqs, self.agenda, lambda: self.now_s, region=self.region, on_cancelled=self._cancel
        )

    def _count_call(self, **_: Any) -> None:
        self.api_calls += 1

    def create(self, images: dict[str, str]) -> world.Created:
        """The fleet in moto, each endpoint's functions with their environment, and its queue
        delivering to its scaler."""
        from lambdas.control_plane import cache_tracker, cleanup, forecaster, scaler
        from stacks.components import components_env

        clients = {
            "dynamodb": self.dynamodb,
            "sqs": self.sqs,
            "sagemaker": self.sagemaker,
            "cloudwatch": self.cloudwatch,
            "iam": self.iam,
        }
        endpoints = [de.endpoint for de in self.endpoints]
        self.created = world.create_fleet(clients, self.fleet, endpoints, images)
        handlers = {
            "scaler": scaler.handler,
            "cache-tracker": cache_tracker.handler,
            "cleanup": cleanup.handler,
            "forecaster": forecaster.handler,
        }
        for endpoint in endpoints:
            variables = {
                contract.ENV_TABLE_NAME: self.created.table_name,
                contract.ENV_ENDPOINT_NAME: endpoint.name,
                contract.ENV_COMPONENTS: components_env(
                    self.fleet, endpoint, image_for=lambda m, _r: images[m.component_name]
                ),
                contract.ENV_REEVALUATION_QUEUE_URL: self.created.queue_urls[endpoint.name],
                contract.ENV_HISTORY_TTL_DAYS: str(self.fleet.control_plane.history_ttl_days),
                "POWERTOOLS_METRICS_NAMESPACE": contract.METRICS_NAMESPACE,
            }
            for function, handler in handlers.items():
                self.runtime.add(f"{endpoint.name}-{function}", handler, variables)
            self.queues.attach(
                endpoint.name,
                self.created.queue_names[endpoint.name],
                self.created.queue_urls[endpoint.name],
                functools.partial(self.invoke, "scaler", endpoint.name, source="re-evaluation"),
            )
        return self.created

    def _cancel(self, endpoint: str, message_id: str) -> None:
        self.cancelled += 1
        self.note(
            "sqs",
            endpoint,
            None,
            f"re-evaluation {message_id[:8]} not delivered: no longer in the queue (purged)",
        )

    # --- invocations ----------------------------------------------------------------------
    def invoke(
        self, function: str, endpoint: str, event: dict[str, Any], source: str = ""
    ) -> dict[str, Any] | None:
        """Run ``endpoint``'s ``function`` on ``event``; its answer (None if it failed)."""
        self.invocations[function] += 1
        done = self.runtime.invoke(f"{endpoint}-{function}", event)
        result: dict[str, Any] | None = None
        if done.error is not None:
            exc = done.error
            self.note(
                "error",
                endpoint,
                None,
                f"{function} failed: {type(exc).__name__}: {exc}",
                function=function,
            )
        else:
            result = done.result
        if result is not None:
            self._record(function, endpoint, source, result)
        self.queues.collect()
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
        elif function == "forecaster":
            for o in result.get("outcomes", []):
                self._forecast(endpoint, o)
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
        if action == "scaled":
            self._scaled(endpoint, component, reason, target)

    def _forecast(self, endpoint: str, outcome: dict[str, Any]) -> None:
        """A forecaster outcome in the story: each raise, each new floor, and the first run that
        found no history (later identical runs would only repeat it)."""
        component = str(outcome.get("component", ""))
        action, reason = str(outcome.get("action", "")), str(outcome.get("reason", ""))
        floor = outcome.get("floor")
        told = self.floors.get(component, -1)
        if action != "scaled" and floor == told:
            return
        self.floors[component] = floor
        desired, target = outcome.get("desired_copies"), outcome.get("target_copies")
        moved = f"raised {desired} -> {target}" if action == "scaled" else f"{action}"
        self.note(
            "forecast",
            endpoint,
            component,
            f"forecaster: {moved} [{reason}] {outcome.get('detail', '')}".rstrip(),
            action=action,
            reason=reason,
            floor=floor,
            desired=desired,
            target=target,
            ready_s=outcome.get("ready_s"),
        )
        if action == "scaled":
            self._scaled(endpoint, component, reason, target)

    def _scaled(self, endpoint: str, component: str, reason: str, target: Any) -> None:
        """A copy count was set: the simulation is told, and CloudTrail tells the tracker."""
        if component in self.reasons:
            self.reasons[component] = reason
            self.touched[component] = None
            event = events.cloudtrail_call(
                "UpdateInferenceComponentRuntimeConfig",
                {
                    "inferenceComponentName": component,
                    "desiredRuntimeConfig": {"copyCount": target},
                },
                timestamp=events.event_time(self.epoch()),
                region=self.region,
            )
            self.agenda.add(
                self.now_s + CLOUDTRAIL_DELAY_S,
                endpoint,
                "cloudtrail update",
                lambda: self.invoke("cache-tracker", endpoint, event),
            )
