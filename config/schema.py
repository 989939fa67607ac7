"""The fleet file's schema: pydantic models with strict types, no unknown keys, frozen.

They mirror the file (``config.parser`` turns them into the domain objects the code base uses)
and hold every rule: field limits as annotated types (``config.fields``), rules between fields
as ``model_validator``s. ``config.json_schema`` publishes them for editors.
"""

from __future__ import annotations

import math
from typing import Annotated, Self

from pydantic import Field, model_validator

from .domain import copies_per_instance
from .fields import (
    Check,
    Count,
    CountOrZero,
    FileModel,
    Finite,
    Text,
    between,
    one_of,
    pattern,
    problem,
)
from .images import ecr_image
from .instance_types import INSTANCE_TYPES
from .limits import (
    EMAIL_MAX,
    EMAIL_PATTERN,
    HISTORY_TTL_DAYS_MAX,
    LOG_RETENTION_DAYS,
    SAGEMAKER_NAME_MAX,
    SCALE_IN_COOLDOWN_MINUTES,
    SCALE_IN_MAXIMUM_STEP_SIZE,
    SCALE_IN_STRATEGIES,
    SNS_TOPIC_ARN,
    SNS_TOPIC_ARN_PATTERN,
)
from .model_schema import Model, name_check
from .regions import partition_of, region_problem

Region = Annotated[
    Text,
    pattern(r"[a-z]{2,}(-[a-z]+)+-[0-9]+", "is not an AWS region name such as us-east-1", 32),
    Check(lambda v: region_problem(v) is None, lambda v: region_problem(v) or "", {}),
]


class ScaleInPolicy(FileModel):
    """ManagedInstanceScaling's ScaleInPolicy: how SageMaker releases instances."""

    strategy: Annotated[
        Text, one_of(SCALE_IN_STRATEGIES, "is not a scale-in strategy SageMaker offers")
    ] = "IDLE_RELEASE"
    cooldown_minutes: Annotated[int, between(*SCALE_IN_COOLDOWN_MINUTES)] = 20
    maximum_step_size: Annotated[int, between(*SCALE_IN_MAXIMUM_STEP_SIZE)] = 1


class Metrics(FileModel):
    """The endpoint config's MetricsConfig; each series CloudWatch keeps is billed."""

    enhanced: Annotated[
        bool,
        Field(
            description="EnableEnhancedMetrics: per-instance and per-container series, and "
            "invocation metrics at the publish frequency instead of 60 s (on by default: the "
            "scaling alarms read 10 s datapoints)"
        ),
    ] = True
    detailed_observability: Annotated[
        bool,
        Field(
            description="EnableDetailedObservability: per-GPU, host and container metrics "
            "(SageMaker's default for new endpoint configs)"
        ),
    ] = True


class Endpoint(FileModel):
    name: Annotated[Text, name_check("endpoint")]
    instance_type: Annotated[
        Text, one_of(sorted(INSTANCE_TYPES), "is not a known GPU instance type")
    ]
    min_instances: Annotated[CountOrZero, Field(description="0 allows scale to zero")]
    max_instances: Count
    scale_in_policy: ScaleInPolicy = ScaleInPolicy()
    metrics: Metrics = Metrics()
    models: Annotated[list[Model], Field(min_length=1)]

    @model_validator(mode="after")
    def _models_fit(self) -> Self:
        if self.min_instances > self.max_instances:
            raise problem(
                f"min_instances ({self.min_instances}) > max_instances ({self.max_instances}); "
                "allowed: min_instances <= max_instances",
                "min_instances",
            )
        instance = INSTANCE_TYPES[self.instance_type]
        for i, m in enumerate(self.models):
            component = f"{self.name}-{m.name}"
            if len(component) > SAGEMAKER_NAME_MAX:
                raise problem(
                    f"inference component name {component!r} ({len(component)} characters) is "
                    "longer than SageMaker allows; allowed: endpoint and model names together "
                    f"at most {SAGEMAKER_NAME_MAX - 1} characters",
                    *("models", i, "name"),
                )
            if m.accelerators > instance.gpus:
                raise problem(
                    f"{m.accelerators} accelerators per copy, but {instance.name} has "
                    f"{instance.gpus}; allowed: 1 to {instance.gpus}",
                    *("models", i, "accelerators"),
                )
            if m.memory_mb > instance.memory_mb:
                raise problem(
                    f"{m.memory_mb} MB per copy, but {instance.name} has {instance.memory_mb} "
                    f"MB; allowed: 128 to {instance.memory_mb}",
                    *("models", i, "memory_mb"),
                )
        _unique([m.name for m in self.models], "models")
        # Every copy the models may ask for must fit on max_instances at once. A copy takes
        # 1/copies_per_instance of an instance, the tighter of accelerators and memory: on a
        # 4-GPU, 192 GiB instance a 1-GPU, 96000 MB model fits 2 per instance (memory binds,
        # not GPUs), so copies.max 8 needs ceil(8 / 2) = 4 instances, not the 2 GPUs suggest.
        fits = {
            m.name: copies_per_instance(instance, m.accelerators, m.memory_mb) for m in self.models
        }
        share = sum(m.copies.max / fits[m.name] for m in self.models)
        needed = math.ceil(share - 1e-9)  # 3 x 1/3 is 1.0000000000000002 in floats
        if needed > self.max_instances:
            per = ", ".join(
                f"{m.name}: {m.copies.max} / {fits[m.name]} per instance" for m in self.models
            )
            raise problem(
                f"models' copies.max need {needed} instances of {instance.name} ({per}; by "
                f"accelerators and memory_mb) but max_instances is {self.max_instances}; "
                f"allowed: max_instances >= {needed}, or lower copies.max",
                "max_instances",
            )
        return self


def _unique(names: list[str], *below: str) -> None:
    # SageMaker names are case-insensitive: Chat and chat are the same endpoint.
    seen: dict[str, str] = {}
    for name in names:
        first = seen.get(name.lower())
        if first is not None:
            same = (
                ""
                if first == name
                else f" (same as {first!r}: SageMaker names are case-insensitive)"
            )
            raise problem(f"duplicate name {name!r}{same}; names must be unique", *below)
        seen[name.lower()] = name


class Notifications(FileModel):
    """Where operator alarms go: an existing SNS topic, an email address, both, or neither."""

    topic_arn: (
        Annotated[
            Text,
            pattern(
                SNS_TOPIC_ARN_PATTERN,
                "is not an SNS topic ARN; allowed: arn:PARTITION:sns:REGION:ACCOUNT:TOPIC "
                "(e.g. arn:aws:sns:us-east-1:123456789012:ops)",
                1024,
            ),
        ]
        | None
    ) = None
    email: (
        Annotated[
            Text,
            pattern(EMAIL_PATTERN, "is not an email address; allowed: NAME@DOMAIN", EMAIL_MAX),
            Field(description="subscribed to the alarms; SNS asks it to confirm first"),
        ]
        | None
    ) = None


class ControlPlane(FileModel):
    history_ttl_days: Annotated[
        int,
        between(1, HISTORY_TTL_DAYS_MAX),
        Field(description="decision and timing rows expire after this"),
    ] = 30
    log_retention_days: Annotated[
        int, one_of(LOG_RETENTION_DAYS, "is not a retention CloudWatch Logs offers")
    ] = 30
    notifications: Notifications = Notifications()


class Slo(FileModel):
    ttft_s: Annotated[
        Finite,
        between(0.0),
        Field(description="a request whose first token comes later misses the SLO"),
    ] = 2.0


class Fleet(FileModel):
    """A fleet file: the region, the SLO, the control plane and the endpoints."""

    region: Region = "us-east-1"
    slo: Slo = Slo()
    control_plane: ControlPlane = ControlPlane()
    endpoints: Annotated[list[Endpoint], Field(min_length=1)]

    @model_validator(mode="after")
    def _one_region(self) -> Self:
        _unique([e.name for e in self.endpoints], "endpoints")
        _unique([f"{e.name}-{m.name}" for e in self.endpoints for m in e.models], "endpoints")
        for i, e in enumerate(self.endpoints):
            for j, m in enumerate(e.models):
                ecr = ecr_image(m.image) if isinstance(m.image, str) else None
                if ecr is not None and ecr.region != self.region:
                    raise problem(
                        f"{m.image!r} is in {ecr.region} but the fleet in {self.region}: "
                        f"SageMaker pulls images from its own region; allowed: an image in "
                        f"{self.region} (ECR replication copies one there)",
                        *("endpoints", i, "models", j, "image"),
                    )
        topic = self.control_plane.notifications.topic_arn
        match = SNS_TOPIC_ARN.match(topic) if topic is not None else None
        if match is not None and partition_of(match["region"]) != partition_of(self.region):
            raise problem(
                f"{topic!r} is not in the fleet's partition ({partition_of(self.region)}, "
                f"region {self.region}); allowed: a topic in {partition_of(self.region)}",
                *("control_plane", "notifications", "topic_arn"),
            )
        return self
