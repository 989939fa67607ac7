"""The fleet as the rest of the code base sees it: frozen dataclasses, built by ``config.parser``
from a validated fleet file. Nothing here reads or checks the file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .instance_types import INSTANCE_TYPES, InstanceType


class ConfigError(ValueError):
    """A fleet file that cannot be deployed; the message names file, field and what is allowed."""


def valid_alarm_period(period_s: int) -> bool:
    """CloudWatch accepts 10, 20 and 30 s (high resolution) or any multiple of 60 s."""
    return period_s in (10, 20, 30) or (period_s > 0 and period_s % 60 == 0)


def copies_per_instance(instance: InstanceType, accelerators: int, memory_mb: int) -> int:
    """How many copies of accelerators x memory_mb fit on one instance, the tighter of both."""
    return max(0, min(instance.gpus // accelerators, instance.memory_mb // memory_mb))


@dataclass(frozen=True)
class AlarmWindow:
    """An alarm's evaluation: ``datapoints`` breaching of ``evaluation_periods`` x ``period_s``."""

    period_s: int
    datapoints: int
    evaluation_periods: int

    @property
    def window_s(self) -> int:
        return self.period_s * self.evaluation_periods


@dataclass(frozen=True)
class StepAdjustment:
    """Add ``add_percent`` of the serving copies (at least one) when the metric exceeds the
    scale-out threshold by ``breach`` or more, as a fraction of the threshold (0.5 = 50 % over)."""

    breach: float
    add_percent: int


@dataclass(frozen=True)
class ScaleOut:
    threshold: float  # ConcurrentRequestsPerCopy above which copies are added
    alarm: AlarmWindow
    cooldown_s: int
    steps: tuple[StepAdjustment, ...]
    max_step_copies: int


@dataclass(frozen=True)
class ScaleIn:
    threshold: float  # ConcurrentRequestsPerCopy below which copies are removed
    alarm: AlarmWindow
    cooldown_s: int
    step_copies: int


@dataclass(frozen=True)
class FromZero:
    alarm: AlarmWindow  # on NoCapacityInvocationFailures > 0
    copies: int


@dataclass(frozen=True)
class SloSizing:
    """Copies sized for the SLO; ``prompt_tokens``/``output_tokens`` are a typical request."""

    enabled: bool
    attainment: float
    prompt_tokens: int
    output_tokens: int


@dataclass(frozen=True)
class Lookahead:
    enabled: bool
    max_growth: float  # the projection's cap, as a multiple of the latest datapoint


@dataclass(frozen=True)
class Surge:
    enabled: bool
    multiple: float  # of the scale-out threshold, on one datapoint of the scale-out period


@dataclass(frozen=True)
class Forecast:
    enabled: bool
    interval_minutes: int
    history_days: int


@dataclass(frozen=True)
class BurstHold:
    enabled: bool
    min_probability: float


@dataclass(frozen=True)
class Headroom:
    copies: int
    percent: float


@dataclass(frozen=True)
class Scaling:
    scale_out: ScaleOut
    scale_in: ScaleIn
    from_zero: FromZero
    metric_publish_frequency_s: int
    # The rules of docs/control-plane.md, "Sizing for the SLO, lookahead, forecast".
    slo_sizing: SloSizing
    lookahead: Lookahead
    surge: Surge
    forecast: Forecast
    burst_hold: BurstHold
    headroom: Headroom


@dataclass(frozen=True)
class Serving:
    """What one copy can do: the concurrency limit and the token rates that give service time."""

    max_concurrency: int
    prefill_tokens_per_s: float
    decode_tokens_per_s: float  # per request, at full batch


@dataclass(frozen=True)
class FrameworkImage:
    framework: str
    version: str


@dataclass(frozen=True)
class Model:
    """One model served by one inference component of its endpoint."""

    name: str
    endpoint_name: str
    image: str | FrameworkImage
    image_gb: float
    model_data_url: str | None  # S3 prefix with the artifacts, or None when hf_model_id is set
    hf_model_id: str | None
    model_gb: float
    environment: Mapping[str, str]
    accelerators: int
    memory_mb: int
    min_copies: int
    max_copies: int
    initial_copies: int
    serving: Serving
    scaling: Scaling
    slo_ttft_s: float  # the fleet's slo.ttft_s, which this model's copies are sized for

    @property
    def component_name(self) -> str:
        """The inference component's name: unique in the account and region."""
        return f"{self.endpoint_name}-{self.name}"

    @property
    def model_resource_name(self) -> str:
        """The SageMaker model object's name."""
        return f"{self.endpoint_name}-{self.name}"


@dataclass(frozen=True)
class ScaleInPolicy:
    strategy: str
    cooldown_minutes: int
    maximum_step_size: int


@dataclass(frozen=True)
class Endpoint:
    name: str
    instance_type: str
    min_instances: int
    max_instances: int
    scale_in_policy: ScaleInPolicy
    models: tuple[Model, ...]
    # The endpoint config's MetricsConfig: EnableEnhancedMetrics (per-instance and per-container
    # series, and invocation metrics at the publish frequency) and EnableDetailedObservability
    # (per-GPU, host and container metrics; SageMaker's default for new endpoint configs).
    enhanced_metrics: bool = True
    detailed_observability: bool = True

    @property
    def instance(self) -> InstanceType:
        return INSTANCE_TYPES[self.instance_type]

    @property
    def variant_name(self) -> str:
        return "AllTraffic"

    @property
    def initial_instances(self) -> int:
        """The variant's ``InitialInstanceCount``: ``min_instances``, but at least 1, the API's
        minimum (botocore's sagemaker model), so an endpoint that may scale to no instance
        still starts with one, which ManagedInstanceScaling releases when it stays empty."""
        return max(1, self.min_instances)

    def copies_per_instance(self, model: Model) -> int:
        """How many copies of ``model`` fit on one instance, by accelerators and memory."""
        return copies_per_instance(self.instance, model.accelerators, model.memory_mb)


@dataclass(frozen=True)
class Notifications:
    """Where operator alarms go: an existing SNS topic, an email address, both, or neither."""

    topic_arn: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class ControlPlane:
    history_ttl_days: int
    log_retention_days: int
    notifications: Notifications = Notifications()


@dataclass(frozen=True)
class Fleet:
    source: Path
    region: str
    slo_ttft_s: float
    control_plane: ControlPlane
    endpoints: tuple[Endpoint, ...]

    @property
    def models(self) -> tuple[Model, ...]:
        return tuple(m for e in self.endpoints for m in e.models)

    def endpoint(self, name: str) -> Endpoint:
        for e in self.endpoints:
            if e.name == name:
                return e
        raise KeyError(f"no endpoint {name!r}; fleet has {[e.name for e in self.endpoints]}")
