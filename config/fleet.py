"""The fleet configuration: one YAML file parsed once into frozen dataclasses.

Everything that deploys, simulates or demonstrates the fleet reads it through ``load_fleet``.
A mistake raises ``ConfigError`` naming the file, the field and what is allowed; nothing is
synthesized from a file that does not validate.

This module is the package's front door; the work is done in:
``domain`` (the dataclasses), ``reader`` (safe YAML), ``schema`` and ``scaling_schema`` (the
pydantic models with every rule), ``parser`` (validation to dataclasses), ``images`` (the ECR
pattern, framework images), ``limits`` and ``regions`` (what AWS accepts, with sources).
"""

from __future__ import annotations

from .domain import (
    AlarmWindow,
    ConfigError,
    ControlPlane,
    Endpoint,
    Fleet,
    FrameworkImage,
    FromZero,
    Model,
    Notifications,
    ScaleIn,
    ScaleInPolicy,
    ScaleOut,
    Scaling,
    Serving,
    StepAdjustment,
    valid_alarm_period,
)
from .images import ECR_IMAGE, resolve_image
from .limits import (
    FRAMEWORKS,
    LOG_RETENTION_DAYS,
    METRIC_PUBLISH_FREQUENCIES_S,
    SAGEMAKER_NAME,
    SAGEMAKER_NAME_MAX,
    SCALE_IN_STRATEGIES,
)
from .parser import DEFAULT_FLEET, load_fleet, parse_fleet

__all__ = [
    "DEFAULT_FLEET",
    "ECR_IMAGE",
    "FRAMEWORKS",
    "LOG_RETENTION_DAYS",
    "METRIC_PUBLISH_FREQUENCIES_S",
    "SAGEMAKER_NAME",
    "SAGEMAKER_NAME_MAX",
    "SCALE_IN_STRATEGIES",
    "AlarmWindow",
    "ConfigError",
    "ControlPlane",
    "Endpoint",
    "Fleet",
    "FrameworkImage",
    "FromZero",
    "Model",
    "Notifications",
    "ScaleIn",
    "ScaleInPolicy",
    "ScaleOut",
    "Scaling",
    "Serving",
    "StepAdjustment",
    "load_fleet",
    "parse_fleet",
    "resolve_image",
    "valid_alarm_period",
]
