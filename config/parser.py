"""From a fleet file to the domain objects: read (``config.reader``), validate
(``config.schema``), build (``config.domain``).

Every problem becomes one line of a ``ConfigError``: ``file: field: problem; allowed: ...``,
the field written as in the file (``endpoints[0].models[1].copies.max``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from . import domain, schema
from .domain import ConfigError
from .fields import PROBLEM, described
from .model_schema import IMAGE_TAGS, Model
from .reader import MAX_BYTES, read_fleet_bytes, where
from .scaling_schema import Alarm, Scaling

DEFAULT_FLEET = Path(__file__).with_name("fleet.yaml")
MAX_PROBLEMS = 20  # listed in one error; the rest are counted

# pydantic's own error types, in the project's words ("must be int; got str 'eight'").
_EXPECTED = {
    "int_type": "must be int",
    "float_type": "must be a number",
    "string_type": "must be text",
    "bool_type": "must be true or false",
    "list_type": "must be a list",
    "dict_type": "must be a mapping",
    "finite_number": "must be a finite number",
}


def load_fleet(path: str | Path = DEFAULT_FLEET) -> domain.Fleet:
    """Read and validate a fleet file; ``ConfigError`` on any mistake."""
    source = Path(path)
    try:
        with source.open("rb") as file:
            data = file.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read the fleet file: {exc.strerror}") from None
    return parse_fleet(read_fleet_bytes(data, source), source)


def parse_fleet(document: Any, source: Path) -> domain.Fleet:
    """Validate a loaded document (dicts, lists, scalars); see ``load_fleet``."""
    try:
        fleet = schema.Fleet.model_validate(document)
    except ValidationError as exc:
        raise ConfigError(_message(exc, source)) from None
    return _fleet(fleet, source)


def _message(exc: ValidationError, source: Path) -> str:
    lines: list[str] = []
    for error in exc.errors(include_url=False):
        line = f"{source}: {where(_path(error))}: {_problem(error)}"
        if line not in lines:
            lines.append(line)
    if len(lines) > MAX_PROBLEMS:
        lines[MAX_PROBLEMS:] = [f"{source}: and {len(lines) - MAX_PROBLEMS} more problems"]
    return "\n".join(lines)


def _path(error: ErrorDetails) -> list[str | int]:
    # Drop what pydantic adds to a location that is not in the file: the image's union tags
    # and the marker of a mapping's key.
    path = [p for p in error["loc"] if p not in IMAGE_TAGS and p != "[key]"]
    if error["type"] == PROBLEM:
        path.extend(error.get("ctx", {}).get("below", ()))
    return path


def _problem(error: ErrorDetails) -> str:
    kind = error["type"]
    if kind == PROBLEM:
        return str(error.get("ctx", {})["message"])
    if kind == "missing":
        return "is required"
    if kind == "too_short":
        return f"must be a non-empty list; got {described(error['input'])}"
    if kind == "string_type" and isinstance(error["input"], bool | int | float):
        return f"must be text; got {described(error['input'])} (quote it to keep it text)"
    if kind in _EXPECTED:
        return f"{_EXPECTED[kind]}; got {described(error['input'])}"
    return f"{error['msg']}; got {described(error['input'])}"


def _fleet(f: schema.Fleet, source: Path) -> domain.Fleet:
    cp = f.control_plane
    return domain.Fleet(
        source=source,
        region=f.region,
        slo_ttft_s=f.slo.ttft_s,
        control_plane=domain.ControlPlane(
            history_ttl_days=cp.history_ttl_days,
            log_retention_days=cp.log_retention_days,
            notifications=domain.Notifications(cp.notifications.topic_arn, cp.notifications.email),
        ),
        endpoints=tuple(_endpoint(e, f.slo.ttft_s) for e in f.endpoints),
    )


def _endpoint(e: schema.Endpoint, slo_ttft_s: float) -> domain.Endpoint:
    p = e.scale_in_policy
    return domain.Endpoint(
        name=e.name,
        instance_type=e.instance_type,
        min_instances=e.min_instances,
        max_instances=e.max_instances,
        scale_in_policy=domain.ScaleInPolicy(p.strategy, p.cooldown_minutes, p.maximum_step_size),
        models=tuple(_model(e.name, m, slo_ttft_s) for m in e.models),
        enhanced_metrics=e.metrics.enhanced,
        detailed_observability=e.metrics.detailed_observability,
    )


def _model(endpoint_name: str, m: Model, slo_ttft_s: float) -> domain.Model:
    environment = dict(m.environment)
    if m.model.hf_model_id is not None:
        environment.setdefault("HF_MODEL_ID", m.model.hf_model_id)
    image = (
        m.image
        if isinstance(m.image, str)
        else domain.FrameworkImage(m.image.framework, m.image.version)
    )
    return domain.Model(
        name=m.name,
        endpoint_name=endpoint_name,
        image=image,
        image_gb=m.image_gb,
        model_data_url=m.model.s3_uri,
        hf_model_id=m.model.hf_model_id,
        model_gb=m.model_gb,
        environment=environment,
        accelerators=m.accelerators,
        memory_mb=m.memory_mb,
        min_copies=m.copies.min,
        max_copies=m.copies.max,
        initial_copies=m.copies.initial if m.copies.initial is not None else max(m.copies.min, 1),
        serving=domain.Serving(
            m.serving.max_concurrency,
            m.serving.prefill_tokens_per_s,
            m.serving.decode_tokens_per_s,
        ),
        scaling=_scaling(m.scaling),
        slo_ttft_s=slo_ttft_s,
    )


def _alarm(a: Alarm) -> domain.AlarmWindow:
    return domain.AlarmWindow(a.period_s, a.datapoints, a.evaluation_periods)


def _scaling(s: Scaling) -> domain.Scaling:
    out, in_, zero = s.scale_out, s.scale_in, s.from_zero
    return domain.Scaling(
        scale_out=domain.ScaleOut(
            threshold=out.threshold,
            alarm=_alarm(out.alarm),
            cooldown_s=out.cooldown_s,
            steps=tuple(domain.StepAdjustment(x.breach, x.add_percent) for x in out.steps),
            max_step_copies=out.max_step_copies,
        ),
        scale_in=domain.ScaleIn(in_.threshold, _alarm(in_.alarm), in_.cooldown_s, in_.step_copies),
        from_zero=domain.FromZero(_alarm(zero.alarm), zero.copies),
        metric_publish_frequency_s=s.metric_publish_frequency_s,
        slo_sizing=domain.SloSizing(
            s.slo_sizing.enabled,
            s.slo_sizing.attainment,
            s.slo_sizing.prompt_tokens,
            s.slo_sizing.output_tokens,
        ),
        lookahead=domain.Lookahead(s.lookahead.enabled, s.lookahead.max_growth),
        surge=domain.Surge(s.surge.enabled, s.surge.multiple),
        forecast=domain.Forecast(
            s.forecast.enabled, s.forecast.interval_minutes, s.forecast.history_days
        ),
        burst_hold=domain.BurstHold(s.burst_hold.enabled, s.burst_hold.min_probability),
        headroom=domain.Headroom(s.headroom.copies, s.headroom.percent),
    )
