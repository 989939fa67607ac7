"""A readable summary of what a deploy of the fleet would create.

``python -m stacks.summary --fleet config/fleet.yaml [--cloud-assembly cdk.out]``; ``make demo``
prints it after the synth and its gates passed. Cost is not estimated: the project carries no
cited SageMaker price table.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from config.alarms import alarm_plans
from config.fleet import ConfigError, Endpoint, Fleet, Model, load_fleet
from config.specs import scaling_spec
from lambdas.control_plane.decision import ScalingSpec

from .app import CONTROL_PLANE_STACK, endpoint_stack_name
from .components import default_image_for

# CloudFormation quotas (AWS CloudFormation User Guide, "Understand CloudFormation quotas").
MAX_RESOURCES = 500
MAX_TEMPLATE_BYTES = 1_000_000


def _stack_line(cloud_assembly: Path | None, stack: str) -> str:
    if cloud_assembly is None:
        return stack
    template = cloud_assembly / f"{stack}.template.json"
    if not template.exists():
        return f"{stack} (not in {cloud_assembly})"
    size_bytes = template.stat().st_size
    resources = json.loads(template.read_text())["Resources"]
    kinds = Counter(r["Type"] for r in resources.values())
    return (
        f"{stack}: {len(resources)} resources (limit {MAX_RESOURCES}), "
        f"{size_bytes / 1000:.0f} kB template (limit {MAX_TEMPLATE_BYTES // 1000} kB); "
        f"{kinds['AWS::Lambda::Function']} functions, {kinds['AWS::CloudWatch::Alarm']} "
        "alarms"
    )


def _model_lines(
    endpoint: Endpoint,
    model: Model,
    spec: ScalingSpec,
    image_uri: str,
) -> list[str]:
    source = (
        f"HF_MODEL_ID {model.hf_model_id} (downloaded by the container)"
        if model.hf_model_id
        else f"weights {model.model_data_url}"
    )
    ready = spec.ready_s
    lines = [
        f"    inference component {model.component_name}",
        f"      image     {image_uri} ({model.image_gb:g} GB)",
        f"      model     {source} ({model.model_gb:g} GB)",
        f"      per copy  {model.accelerators} GPU, {model.memory_mb} MB; "
        f"{endpoint.copies_per_instance(model)} copies fit on one instance",
        f"      copies    min {model.min_copies}, initial {model.initial_copies}, "
        f"max {model.max_copies}",
        f"      new copy ready in (predicted): {ready.warm_instance:.0f} s on a running "
        f"instance, {ready.cached:.0f} s on a new instance with the image cached, "
        f"{ready.uncached:.0f} s uncached",
        _forecast_line(model),
        "      alarms (each invokes the scaler on ALARM and OK):",
    ]
    for plan in alarm_plans(model):
        w = plan.window
        lines.append(
            f"        {plan.name:<40} {plan.metric} {plan.statistic} {plan.symbol} "
            f"{plan.threshold:g}, "
            f"{w.datapoints} of {w.evaluation_periods} x {w.period_s} s "
            f"(fires >= {plan.detects_within_s} s after the condition starts)"
        )
    return lines


def _forecast_line(model: Model) -> str:
    forecast = model.scaling.forecast
    if not forecast.enabled:
        return "      forecast  off"
    return (
        f"      forecast  every {forecast.interval_minutes} min from {forecast.history_days} "
        "days of Invocations; raises copies ahead of a recurring peak, never lowers them"
    )


def render(
    fleet: Fleet,
    *,
    cloud_assembly: Path | None = None,
    spec_for: Callable[[Endpoint, Model], ScalingSpec] = scaling_spec,
    image_for: Callable[[Model, str], str] = default_image_for,
) -> str:
    """The summary text of ``fleet`` (with stack sizes when ``cloud_assembly`` is given)."""
    high_res = sum(1 for m in fleet.models for p in alarm_plans(m) if p.window.period_s < 60)
    alarms = sum(len(alarm_plans(m)) for m in fleet.models)
    lines = [
        f"Fleet {fleet.source} in {fleet.region}: {len(fleet.endpoints)} endpoint(s), "
        f"{len(fleet.models)} inference component(s), {alarms} alarms "
        f"({high_res} high-resolution)",
        "",
        "Stacks:",
        f"  {_stack_line(cloud_assembly, CONTROL_PLANE_STACK)}",
        *(f"  {_stack_line(cloud_assembly, endpoint_stack_name(e.name))}" for e in fleet.endpoints),
        "",
    ]
    for endpoint in fleet.endpoints:
        it = endpoint.instance
        policy = endpoint.scale_in_policy
        lines += [
            f"Endpoint {endpoint.name} (stack {endpoint_stack_name(endpoint.name)})",
            f"  instances {endpoint.instance_type}: {it.gpus} x {it.gpu_model} "
            f"{it.gpu_memory_gib} GiB, {it.vcpus} vCPU, {it.memory_gib} GiB, "
            f"{'up to ' if it.network_burst else ''}{it.network_gbps:g} Gbps",
            f"  managed instance scaling {endpoint.min_instances}..{endpoint.max_instances}, "
            f"scale-in {policy.strategy} after {policy.cooldown_minutes} min",
        ]
        for model in endpoint.models:
            lines += _model_lines(
                endpoint, model, spec_for(endpoint, model), image_for(model, fleet.region)
            )
        lines.append("")
    lines += [
        "Control plane per endpoint: scaler, cache tracker and cleanup functions, a forecaster",
        "(when a model forecasts), a re-evaluation queue, EventBridge rules (endpoint state,",
        "CloudTrail calls, 1-minute poll, the forecaster's schedule),",
        "Cleanup and Reconcile custom resources, a dashboard, and operator alarms (dead letters,",
        "function errors and throttles, scaling errors, capacity shortages) sent to",
        f"{_topic(fleet)}.",
        "Shared: the state table and its throttling alarms.",
        "Costs: GPU instances bill per instance-hour while in service; alarms with periods",
        "under 60 s bill as high-resolution alarms. No price table is bundled, so no estimate.",
    ]
    return "\n".join(lines)


def _topic(fleet: Fleet) -> str:
    """Where the operator alarms go, as the summary says it."""
    notifications = fleet.control_plane.notifications
    topic = notifications.topic_arn or "each stack's own SNS topic"
    return topic + (f", mailed to {notifications.email}" if notifications.email else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fleet", default="config/fleet.yaml")
    parser.add_argument(
        "--cloud-assembly",
        type=Path,
        default=Path("cdk.out"),
        help="synth output to read stack sizes from (default: cdk.out)",
    )
    parser.add_argument(
        "--gates-passed",
        action="store_true",
        help="say that the synth's gates passed (make demo passes it after make synth succeeded)",
    )
    args = parser.parse_args(argv)
    try:
        fleet = load_fleet(args.fleet)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    assembly = args.cloud_assembly if args.cloud_assembly.is_dir() else None
    print(render(fleet, cloud_assembly=assembly))
    if args.gates_passed:
        print("Gates passed: cdk-nag AwsSolutions (in synth), cfn-lint (every template).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
