"""The end of the story: delete the first endpoint as ``cdk destroy`` would, let cleanup run,
compare every endpoint's rows with what they were before.

CloudFormation deletes the inference components first (they depend on the endpoint), then the
alarms and the endpoint; cleanup runs from the endpoint's state-change event, CloudTrail's
``DeleteEndpoint`` (``CLOUDTRAIL_DELAY_S`` later) and the stack's custom resource. Re-evaluations
of the deleted endpoint still pending come due meanwhile and find nothing.
"""

from __future__ import annotations

import functools

from localaws import events
from sim.simulator import TICK_S

from . import world
from .fleet import DemoEndpoint
from .harness import CLOUDTRAIL_DELAY_S, Harness
from .results import CleanupResult

# How long after the deletion pending re-evaluations may still come due (the scaler's
# longest re-evaluation delay is SQS's 900 s maximum).
PENDING_WINDOW_S = 900


def delete_and_clean(h: Harness, target: DemoEndpoint) -> CleanupResult:
    """Delete ``target``, run its cleanup, and report what the table and queues hold after."""
    region = h.region
    table = h.created.table_name
    name = target.name
    others = [de.name for de in h.endpoints if de.name != name]
    rows_before = {de.name: world.partition_rows(h.dynamodb, table, de.name) for de in h.endpoints}
    other_components = [
        m.component_name for de in h.endpoints if de.name != name for m in de.endpoint.models
    ]

    def copies(component: str) -> tuple[int, int]:
        rc = h.sagemaker.describe_inference_component(InferenceComponentName=component)[
            "RuntimeConfig"
        ]
        return int(rc.get("DesiredCopyCount", 0)), int(rc.get("CurrentCopyCount", 0))

    other_before = {c: copies(c) for c in other_components}
    t0 = h.now_s + TICK_S
    h.now_s = t0
    # CloudFormation deletes the inference components first (they depend on the endpoint).
    for model in target.endpoint.models:
        h.sagemaker.delete_inference_component(InferenceComponentName=model.component_name)
        h.note(
            "aws", name, model.component_name, f"DeleteInferenceComponent {model.component_name}"
        )
        event = events.cloudtrail_call(
            "DeleteInferenceComponent",
            {"inferenceComponentName": model.component_name},
            timestamp=events.event_time(h.epoch()),
            region=region,
        )
        h.agenda.add(
            t0 + CLOUDTRAIL_DELAY_S,
            name,
            "cloudtrail delete ic",
            functools.partial(h.invoke, "cache-tracker", name, event),
        )
    h.advance(t0 + CLOUDTRAIL_DELAY_S, name)
    h.now_s += TICK_S
    alarm_names = [
        a.name for m in target.endpoint.models for a in h.created.alarms[m.component_name]
    ]
    h.cloudwatch.delete_alarms(AlarmNames=alarm_names)
    h.alarms.remove(alarm_names)
    h.sagemaker.delete_endpoint(EndpointName=name)
    h.deleted.add(name)
    h.note("aws", name, None, f"DeleteEndpoint {name} (alarms deleted with the stack)")
    t1 = h.now_s
    deleting = events.endpoint_state_change(
        name, "DELETING", timestamp=events.event_time(h.epoch()), region=region
    )
    h.agenda.add(
        t1 + 1, name, "state change -> tracker", lambda: h.invoke("cache-tracker", name, deleting)
    )
    h.agenda.add(
        t1 + 1, name, "state change -> cleanup", lambda: h.invoke("cleanup", name, deleting)
    )
    trail = events.cloudtrail_call(
        "DeleteEndpoint",
        {"endpointName": name},
        timestamp=events.event_time(h.epoch()),
        region=region,
    )
    h.agenda.add(
        t1 + CLOUDTRAIL_DELAY_S,
        name,
        "cloudtrail -> cleanup",
        lambda: h.invoke("cleanup", name, trail),
    )
    resource = events.custom_resource(
        "Delete",
        name,
        [m.component_name for m in target.endpoint.models],
        resource_type="Custom::Cleanup",
        logical_id="Cleanup",
        physical_id=f"cleanup-{name}",
        region=region,
        stack_name=f"SageMakerFastScale-{name}",
    )
    h.agenda.add(
        t1 + 2 * CLOUDTRAIL_DELAY_S,
        name,
        "custom resource -> cleanup",
        lambda: h.invoke("cleanup", name, resource),
    )
    # Re-evaluations of the deleted endpoint still pending come due (and find nothing).
    h.advance(t1 + PENDING_WINDOW_S + TICK_S, name)
    h.sagemaker.delete_endpoint_config(EndpointConfigName=f"{name}-config")
    for model in target.endpoint.models:
        h.sagemaker.delete_model(ModelName=model.model_resource_name)
    rows_after = {de.name: world.partition_rows(h.dynamodb, table, de.name) for de in h.endpoints}
    runs = [e.data for e in h.events if e.kind == "cleanup"]
    deleted_rows = sum(int(r.get("rows_deleted", 0) or 0) for r in runs)
    queue_after = {de.name: _messages_left(h, de.name) for de in h.endpoints}
    other_after = {c: copies(c) for c in other_components}
    for endpoint in others:
        same = rows_before[endpoint] == rows_after[endpoint]
        h.note(
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
        cancelled_reevaluations=h.cancelled,
        runs=runs,
    )


def _messages_left(h: Harness, endpoint: str) -> int:
    """Messages in ``endpoint``'s re-evaluation queue, visible or delayed."""
    attrs = h.sqs.get_queue_attributes(
        QueueUrl=h.created.queue_urls[endpoint],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed"],
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(
        attrs["ApproximateNumberOfMessagesDelayed"]
    )
