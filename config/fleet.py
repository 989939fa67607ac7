"""The fleet configuration: one YAML file parsed once into frozen dataclasses.

Everything that deploys, simulates or demonstrates the fleet reads it through ``load_fleet``.
A mistake raises ``ConfigError`` naming the file, the field and what is allowed; nothing is
synthesized from a file that does not validate.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import yaml

from .instance_types import INSTANCE_TYPES, InstanceType

DEFAULT_FLEET = Path(__file__).with_name("fleet.yaml")

# botocore's service model: EndpointName / InferenceComponentName / ModelName.
SAGEMAKER_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
SAGEMAKER_NAME_MAX = 63
ECR_IMAGE = re.compile(
    r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[a-z0-9._/-]+(:[\w.-]+|@sha256:[0-9a-f]{64})$"
)
S3_URI = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$")
REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
# MetricPublishFrequencyInSeconds of an inference component's MetricsConfig.
METRIC_PUBLISH_FREQUENCIES_S = (10, 30, 60, 120, 180, 240, 300)
SCALE_IN_STRATEGIES = ("IDLE_RELEASE", "CONSOLIDATION")
# CloudWatch Logs PutRetentionPolicy: the only retention periods it accepts, in days.
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
FRAMEWORKS = ("djl-lmi",)
# An SNS topic ARN (topic names: 1-256 letters, digits, hyphens, underscores; FIFO adds .fifo).
SNS_TOPIC_ARN = re.compile(
    r"arn:aws(-[a-z]+)*:sns:[a-z]{2}(-[a-z]+)+-\d:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?"
)
# An email address as SNS's email protocol takes it: one @, no spaces, a dot in the domain.
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")
EMAIL_MAX = 254


class ConfigError(ValueError):
    """A fleet file that cannot be deployed; the message names file, field and what is allowed."""


def valid_alarm_period(period_s: int) -> bool:
    """CloudWatch accepts 10, 20 and 30 s (high resolution) or any multiple of 60 s."""
    return period_s in (10, 20, 30) or (period_s > 0 and period_s % 60 == 0)


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
class Scaling:
    scale_out: ScaleOut
    scale_in: ScaleIn
    from_zero: FromZero
    metric_publish_frequency_s: int


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
    enhanced_metrics: bool = False
    detailed_observability: bool = True

    @property
    def instance(self) -> InstanceType:
        return INSTANCE_TYPES[self.instance_type]

    @property
    def variant_name(self) -> str:
        return "AllTraffic"

    def copies_per_instance(self, model: Model) -> int:
        """How many copies of ``model`` fit on one instance, by accelerators and memory."""
        by_gpu = self.instance.gpus // model.accelerators
        by_memory = self.instance.memory_mb // model.memory_mb
        return max(0, min(by_gpu, by_memory))


@dataclass(frozen=True)
class Notifications:
    """Where operator alarms go: an existing SNS topic, an email address, both, or neither."""

    topic_arn: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class ControlPlane:
    history_ttl_days: int
    log_retention_days: int
    powertools_layer_version: int
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


# ---------------------------------------------------------------------------------------------
# Parsing

T = TypeVar("T")
_MISSING = object()


class _Node:
    """A mapping in the file, with its dotted path for error messages."""

    def __init__(self, source: Path, path: str, value: Any, allowed: tuple[str, ...]):
        self.source = source
        self.path = path
        if not isinstance(value, Mapping):
            self.fail(f"must be a mapping with keys {', '.join(allowed)}; got {_show(value)}")
        self.value = value
        unknown = [k for k in value if k not in allowed]
        if unknown:
            self.fail(
                f"unknown key{'s' if len(unknown) > 1 else ''} {', '.join(map(str, unknown))}; "
                f"allowed: {', '.join(allowed)}"
            )

    def fail(self, message: str, key: str | None = None) -> NoReturn:
        where = f"{self.path}.{key}" if key and self.path else (key or self.path or "(top level)")
        raise ConfigError(f"{self.source}: {where}: {message}")

    def child(self, key: str, allowed: tuple[str, ...], default: Any = _MISSING) -> _Node:
        raw = self.value.get(key, default)
        if raw is _MISSING:
            self.fail("is required", key)
        return _Node(self.source, f"{self.path}.{key}" if self.path else key, raw, allowed)

    def get(self, key: str, kind: type[T], default: Any = _MISSING) -> T:
        raw = self.value.get(key, default)
        if raw is _MISSING:
            self.fail(f"is required ({kind.__name__})", key)
        if raw is None and default is None:
            return None  # type: ignore[return-value]
        if kind is float and isinstance(raw, int) and not isinstance(raw, bool):
            raw = float(raw)
        if kind is str and isinstance(raw, int | float) and not isinstance(raw, bool):
            raw = str(raw)
        if not isinstance(raw, kind) or (kind is int and isinstance(raw, bool)):
            self.fail(f"must be {kind.__name__}; got {_show(raw)}", key)
        return raw

    def number(
        self,
        key: str,
        kind: type[T],
        *,
        minimum: float,
        maximum: float = math.inf,
        default: Any = _MISSING,
    ) -> T:
        value = self.get(key, kind, default)
        if not minimum <= value <= maximum:  # type: ignore[operator]
            bound = f">= {minimum}" if maximum == math.inf else f"from {minimum} to {maximum}"
            self.fail(f"{value} is out of range; allowed: {bound}", key)
        return value

    def items(self, key: str) -> list[Any]:
        raw = self.value.get(key, _MISSING)
        if raw is _MISSING:
            self.fail("is required (a list)", key)
        if not isinstance(raw, list) or not raw:
            self.fail(f"must be a non-empty list; got {_show(raw)}", key)
        return raw

    def sub_path(self, key: str, index: int) -> str:
        return f"{self.path}.{key}[{index}]" if self.path else f"{key}[{index}]"


def _show(value: Any) -> str:
    return f"{type(value).__name__} {value!r}" if value is not None else "nothing"


def _name(node: _Node, key: str, what: str) -> str:
    name = node.get(key, str)
    if not SAGEMAKER_NAME.match(name):
        node.fail(
            f"{name!r} is not a valid SageMaker {what} name; allowed: 1-63 letters, digits and "
            "hyphens, starting and ending with a letter or digit",
            key,
        )
    return name


def _alarm(node: _Node, key: str, defaults: Mapping[str, int]) -> AlarmWindow:
    n = node.child(key, ("period_s", "datapoints", "evaluation_periods"), default=dict(defaults))
    period = n.get("period_s", int, defaults["period_s"])
    if not valid_alarm_period(period):
        n.fail(
            f"{period} is not a period CloudWatch alarms accept; allowed: 10, 20, 30 or a "
            "multiple of 60",
            "period_s",
        )
    evaluation = n.number(
        "evaluation_periods", int, minimum=1, default=defaults["evaluation_periods"]
    )
    # CloudWatch: evaluation_periods * period must not exceed one day.
    if period * evaluation > 86_400:
        n.fail(
            f"period_s x evaluation_periods = {period * evaluation} s exceeds one day "
            "(86400 s), the longest window CloudWatch evaluates",
            "evaluation_periods",
        )
    datapoints = n.number("datapoints", int, minimum=1, default=defaults["datapoints"])
    if datapoints > evaluation:
        n.fail(
            f"{datapoints} datapoints out of {evaluation} evaluation periods; allowed: "
            f"1 to evaluation_periods ({evaluation})",
            "datapoints",
        )
    return AlarmWindow(period, datapoints, evaluation)


def _steps(node: _Node) -> tuple[StepAdjustment, ...]:
    raw = node.value.get(
        "steps",
        [
            {"breach": 0.0, "add_percent": 50},
            {"breach": 0.5, "add_percent": 100},
            {"breach": 1.0, "add_percent": 200},
        ],
    )
    if not isinstance(raw, list) or not raw:
        node.fail(f"must be a non-empty list of {{breach, add_percent}}; got {_show(raw)}", "steps")
    steps = []
    for i, item in enumerate(raw):
        s = _Node(node.source, node.sub_path("steps", i), item, ("breach", "add_percent"))
        steps.append(
            StepAdjustment(
                s.number("breach", float, minimum=0.0),
                s.number("add_percent", int, minimum=1, maximum=1000),
            )
        )
    breaches = [s.breach for s in steps]
    if breaches != sorted(set(breaches)) or breaches[0] != 0.0:
        node.fail(f"breach values {breaches} must start at 0 and strictly increase", "steps")
    if [s.add_percent for s in steps] != sorted(s.add_percent for s in steps):
        node.fail("add_percent must not decrease as the breach grows", "steps")
    return tuple(steps)


def _scaling(node: _Node) -> Scaling:
    s = node.child(
        "scaling", ("metric_publish_frequency_s", "scale_out", "scale_in", "from_zero"), default={}
    )
    frequency = s.get("metric_publish_frequency_s", int, 10)
    if frequency not in METRIC_PUBLISH_FREQUENCIES_S:
        s.fail(
            f"{frequency} is not a publish frequency SageMaker offers; allowed: "
            f"{', '.join(map(str, METRIC_PUBLISH_FREQUENCIES_S))}",
            "metric_publish_frequency_s",
        )

    o = s.child(
        "scale_out", ("threshold", "alarm", "cooldown_s", "steps", "max_step_copies"), default={}
    )
    scale_out = ScaleOut(
        threshold=o.number("threshold", float, minimum=0.1, default=4.0),
        alarm=_alarm(o, "alarm", {"period_s": 10, "datapoints": 2, "evaluation_periods": 3}),
        cooldown_s=o.number("cooldown_s", int, minimum=0, maximum=3600, default=60),
        steps=_steps(o),
        max_step_copies=o.number("max_step_copies", int, minimum=1, default=8),
    )
    if scale_out.alarm.period_s < frequency:
        o.child("alarm", ("period_s", "datapoints", "evaluation_periods")).fail(
            f"{scale_out.alarm.period_s} is shorter than metric_publish_frequency_s "
            f"({frequency}): most datapoints would be missing; allowed: >= {frequency}",
            "period_s",
        )

    i = s.child("scale_in", ("threshold", "alarm", "cooldown_s", "step_copies"), default={})
    scale_in = ScaleIn(
        threshold=i.number("threshold", float, minimum=0.0, default=1.0),
        alarm=_alarm(i, "alarm", {"period_s": 60, "datapoints": 10, "evaluation_periods": 10}),
        cooldown_s=i.number("cooldown_s", int, minimum=0, maximum=86_400, default=300),
        step_copies=i.number("step_copies", int, minimum=1, default=1),
    )
    if scale_in.threshold >= scale_out.threshold:
        i.fail(
            f"{scale_in.threshold} must be below the scale-out threshold "
            f"({scale_out.threshold}) or the two alarms fight",
            "threshold",
        )
    if scale_in.alarm.window_s <= scale_out.alarm.window_s:
        i.fail(
            f"its window ({scale_in.alarm.window_s} s) must be longer than scale-out's "
            f"({scale_out.alarm.window_s} s): scale-in is the slower direction",
            "alarm",
        )

    z = s.child("from_zero", ("alarm", "copies"), default={})
    from_zero = FromZero(
        alarm=_alarm(z, "alarm", {"period_s": 10, "datapoints": 1, "evaluation_periods": 1}),
        copies=z.number("copies", int, minimum=1, default=1),
    )
    # Scale-in and from-zero read the same published metrics: a shorter period leaves most of
    # their datapoints missing too (scale-in then never has its full window).
    for key, child, alarm in (("scale_in", i, scale_in.alarm), ("from_zero", z, from_zero.alarm)):
        if alarm.period_s < frequency:
            child.child("alarm", ("period_s", "datapoints", "evaluation_periods")).fail(
                f"{alarm.period_s} is shorter than metric_publish_frequency_s ({frequency}): "
                f"most {key} datapoints would be missing; allowed: >= {frequency}",
                "period_s",
            )
    return Scaling(scale_out, scale_in, from_zero, frequency)


def _image(node: _Node) -> str | FrameworkImage:
    raw = node.value.get("image", _MISSING)
    if isinstance(raw, str):
        if not ECR_IMAGE.match(raw):
            node.fail(
                f"{raw!r} is not an ECR image URI; allowed: "
                "ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO:TAG (or @sha256:DIGEST), or "
                f"{{framework: {'|'.join(FRAMEWORKS)}, version: X}}",
                "image",
            )
        return raw
    if raw is _MISSING:
        node.fail("is required: an ECR image URI or {framework, version}", "image")
    n = node.child("image", ("framework", "version"))
    framework = n.get("framework", str)
    if framework not in FRAMEWORKS:
        n.fail(f"{framework!r} is not supported; allowed: {', '.join(FRAMEWORKS)}", "framework")
    return FrameworkImage(framework, n.get("version", str))


def _model(
    endpoint: _Node, endpoint_name: str, raw: Any, path: str, instance: InstanceType
) -> Model:
    node = _Node(
        endpoint.source,
        path,
        raw,
        (
            "name",
            "image",
            "image_gb",
            "model",
            "model_gb",
            "environment",
            "accelerators",
            "memory_mb",
            "copies",
            "serving",
            "scaling",
        ),
    )
    name = _name(node, "name", "model")
    component = f"{endpoint_name}-{name}"
    if len(component) > SAGEMAKER_NAME_MAX:
        node.fail(
            f"inference component name {component!r} ({len(component)} characters) is "
            f"longer than SageMaker allows; allowed: endpoint and model names together "
            f"at most {SAGEMAKER_NAME_MAX - 1} characters",
            "name",
        )

    source = node.child("model", ("hf_model_id", "s3_uri"))
    hf_model_id: str | None = source.get("hf_model_id", str, None)
    s3_uri: str | None = source.get("s3_uri", str, None)
    if (hf_model_id is None) == (s3_uri is None):
        source.fail(
            "needs exactly one of hf_model_id (the LMI container downloads it) or "
            "s3_uri (ModelDataUrl)"
        )
    if s3_uri is not None and not S3_URI.match(s3_uri):
        source.fail(f"{s3_uri!r} is not an S3 URI; allowed: s3://BUCKET/PREFIX", "s3_uri")

    env_raw = node.value.get("environment", {})
    if not isinstance(env_raw, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str | int | float) and not isinstance(v, bool)
        for k, v in env_raw.items()
    ):
        node.fail(f"must map names to strings; got {_show(env_raw)}", "environment")
    environment = {k: str(v) for k, v in env_raw.items()}
    if hf_model_id is not None:
        environment.setdefault("HF_MODEL_ID", hf_model_id)

    accelerators = node.number("accelerators", int, minimum=1)
    if accelerators > instance.gpus:
        node.fail(
            f"{accelerators} accelerators per copy, but {instance.name} has "
            f"{instance.gpus}; allowed: 1 to {instance.gpus}",
            "accelerators",
        )
    memory_mb = node.number("memory_mb", int, minimum=128)
    if memory_mb > instance.memory_mb:
        node.fail(
            f"{memory_mb} MB per copy, but {instance.name} has {instance.memory_mb} MB; "
            f"allowed: 128 to {instance.memory_mb}",
            "memory_mb",
        )

    c = node.child("copies", ("min", "max", "initial"))
    min_copies = c.number("min", int, minimum=0)
    max_copies = c.number("max", int, minimum=1)
    if min_copies > max_copies:
        c.fail(f"min ({min_copies}) > max ({max_copies}); allowed: min <= max")
    initial = c.number("initial", int, minimum=0, default=max(min_copies, 1))
    if not min_copies <= initial <= max_copies:
        c.fail(f"{initial} is outside min..max; allowed: {min_copies} to {max_copies}", "initial")

    sv = node.child("serving", ("max_concurrency", "prefill_tokens_per_s", "decode_tokens_per_s"))
    serving = Serving(
        max_concurrency=sv.number("max_concurrency", int, minimum=1),
        prefill_tokens_per_s=sv.number("prefill_tokens_per_s", float, minimum=1.0),
        decode_tokens_per_s=sv.number("decode_tokens_per_s", float, minimum=0.1),
    )
    scaling = _scaling(node)
    if scaling.scale_out.threshold > serving.max_concurrency:
        node.fail(
            f"scaling.scale_out.threshold ({scaling.scale_out.threshold}) is above "
            f"serving.max_concurrency ({serving.max_concurrency}): the alarm would fire "
            "only once requests already queue; allowed: <= max_concurrency",
            "scaling",
        )
    if scaling.from_zero.copies > max_copies:
        node.fail(
            f"scaling.from_zero.copies ({scaling.from_zero.copies}) > copies.max ({max_copies})",
            "scaling",
        )

    return Model(
        name=name,
        endpoint_name=endpoint_name,
        image=_image(node),
        image_gb=node.number("image_gb", float, minimum=0.01),
        model_data_url=s3_uri,
        hf_model_id=hf_model_id,
        model_gb=node.number("model_gb", float, minimum=0.01),
        environment=environment,
        accelerators=accelerators,
        memory_mb=memory_mb,
        min_copies=min_copies,
        max_copies=max_copies,
        initial_copies=initial,
        serving=serving,
        scaling=scaling,
    )


def _endpoint(fleet: _Node, raw: Any, path: str) -> Endpoint:
    node = _Node(
        fleet.source,
        path,
        raw,
        (
            "name",
            "instance_type",
            "min_instances",
            "max_instances",
            "scale_in_policy",
            "metrics",
            "models",
        ),
    )
    name = _name(node, "name", "endpoint")
    type_name = node.get("instance_type", str)
    if type_name not in INSTANCE_TYPES:
        node.fail(
            f"{type_name!r} is not a known GPU instance type; allowed: "
            f"{', '.join(sorted(INSTANCE_TYPES))}",
            "instance_type",
        )
    instance = INSTANCE_TYPES[type_name]
    min_instances = node.number("min_instances", int, minimum=0)
    max_instances = node.number("max_instances", int, minimum=1)
    if min_instances > max_instances:
        node.fail(
            f"min_instances ({min_instances}) > max_instances ({max_instances}); "
            "allowed: min_instances <= max_instances",
            "min_instances",
        )

    p = node.child(
        "scale_in_policy", ("strategy", "cooldown_minutes", "maximum_step_size"), default={}
    )
    strategy = p.get("strategy", str, "IDLE_RELEASE")
    if strategy not in SCALE_IN_STRATEGIES:
        p.fail(f"{strategy!r}; allowed: {', '.join(SCALE_IN_STRATEGIES)}", "strategy")
    policy = ScaleInPolicy(
        strategy=strategy,
        cooldown_minutes=p.number("cooldown_minutes", int, minimum=5, maximum=1440, default=20),
        maximum_step_size=p.number("maximum_step_size", int, minimum=1, maximum=100, default=1),
    )

    metrics = node.child("metrics", ("enhanced", "detailed_observability"), default={})
    models = tuple(
        _model(node, name, item, node.sub_path("models", i), instance)
        for i, item in enumerate(node.items("models"))
    )
    _unique(node, "models", [m.name for m in models])
    endpoint = Endpoint(
        name,
        type_name,
        min_instances,
        max_instances,
        policy,
        models,
        enhanced_metrics=metrics.get("enhanced", bool, False),
        detailed_observability=metrics.get("detailed_observability", bool, True),
    )

    # Every copy the models may ask for must fit on max_instances at once. A copy takes
    # 1/copies_per_instance of an instance, the tighter of accelerators and memory: on a
    # 4-GPU, 192 GiB instance a 1-GPU, 96000 MB model fits 2 per instance (memory binds, not
    # GPUs), so copies.max 8 needs ceil(8 / 2) = 4 instances, not the 2 a GPU count gives.
    share = sum(m.max_copies / endpoint.copies_per_instance(m) for m in models)
    needed = math.ceil(share - 1e-9)  # 3 x 1/3 is 1.0000000000000002 in floats
    if needed > max_instances:
        per = ", ".join(
            f"{m.name}: {m.max_copies} / {endpoint.copies_per_instance(m)} per instance"
            for m in models
        )
        node.fail(
            f"models' copies.max need {needed} instances of {type_name} ({per}; by "
            f"accelerators and memory_mb) but max_instances is {max_instances}; allowed: "
            f"max_instances >= {needed}, or lower copies.max",
            "max_instances",
        )
    return endpoint


def _retention(node: _Node) -> int:
    days = node.get("log_retention_days", int, 30)
    if days not in LOG_RETENTION_DAYS:
        node.fail(
            f"{days} is not a retention CloudWatch Logs offers; allowed: "
            f"{', '.join(map(str, LOG_RETENTION_DAYS))}",
            "log_retention_days",
        )
    return days


def _notifications(node: _Node) -> Notifications:
    n = node.child("notifications", ("topic_arn", "email"), default={})
    topic_arn: str | None = n.get("topic_arn", str, None)
    if topic_arn is not None and not SNS_TOPIC_ARN.fullmatch(topic_arn):
        n.fail(
            f"{topic_arn!r} is not an SNS topic ARN; allowed: "
            "arn:PARTITION:sns:REGION:ACCOUNT:TOPIC (e.g. arn:aws:sns:us-east-1:123456789012:ops)",
            "topic_arn",
        )
    email: str | None = n.get("email", str, None)
    if email is not None and (len(email) > EMAIL_MAX or not EMAIL.fullmatch(email)):
        n.fail(
            f"{email!r} is not an email address; allowed: NAME@DOMAIN, at most {EMAIL_MAX} "
            "characters",
            "email",
        )
    return Notifications(topic_arn, email)


def _unique(node: _Node, key: str, names: list[str]) -> None:
    # SageMaker names are case-insensitive: Chat and chat are the same endpoint.
    seen: dict[str, str] = {}
    for n in names:
        if n.lower() in seen:
            same = (
                ""
                if seen[n.lower()] == n
                else f" (same as {seen[n.lower()]!r}: SageMaker names are case-insensitive)"
            )
            node.fail(f"duplicate name {n!r}{same}; names must be unique", key)
        seen[n.lower()] = n


def parse_fleet(document: Any, source: Path) -> Fleet:
    """Validate a loaded YAML document; see ``load_fleet``."""
    top = _Node(source, "", document, ("region", "slo", "control_plane", "endpoints"))
    region = top.get("region", str, "us-east-1")
    if not REGION.match(region):
        top.fail(f"{region!r} is not an AWS region name such as us-east-1", "region")
    slo = top.child("slo", ("ttft_s",), default={})
    cp = top.child(
        "control_plane",
        ("history_ttl_days", "log_retention_days", "powertools_layer_version", "notifications"),
        default={},
    )
    control_plane = ControlPlane(
        history_ttl_days=cp.number("history_ttl_days", int, minimum=1, default=30),
        log_retention_days=_retention(cp),
        powertools_layer_version=cp.number("powertools_layer_version", int, minimum=1, default=27),
        notifications=_notifications(cp),
    )
    endpoints = tuple(
        _endpoint(top, item, top.sub_path("endpoints", i))
        for i, item in enumerate(top.items("endpoints"))
    )
    _unique(top, "endpoints", [e.name for e in endpoints])
    _unique(top, "endpoints", [m.component_name for e in endpoints for m in e.models])
    return Fleet(
        source=source,
        region=region,
        slo_ttft_s=slo.number("ttft_s", float, minimum=0.0, default=2.0),
        control_plane=control_plane,
        endpoints=endpoints,
    )


def load_fleet(path: str | Path = DEFAULT_FLEET) -> Fleet:
    """Read and validate a fleet file; ``ConfigError`` on any mistake."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read the fleet file: {exc.strerror}") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from None
    return parse_fleet(document, source)


def resolve_image(
    image: str | FrameworkImage, region: str, retrieve: Callable[..., str] | None = None
) -> str:
    """The ECR URI of ``image`` in ``region``.

    Framework images are looked up offline in the SageMaker Python SDK's bundled tables
    (``sagemaker.core.image_uris.retrieve``), imported only when needed: it costs about 2 s.
    """
    if isinstance(image, str):
        return image
    lookup = retrieve
    if lookup is None:
        from sagemaker.core.image_uris import retrieve as sdk_retrieve

        lookup = sdk_retrieve
    try:
        return lookup(framework=image.framework, region=region, version=image.version)
    except ValueError as exc:
        raise ConfigError(
            f"image {{framework: {image.framework}, version: {image.version}}} "
            f"cannot be resolved for {region}: {exc}"
        ) from None
