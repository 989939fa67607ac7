"""The model part of the fleet file's schema: one inference component's image, weights,
environment, resources, copies and serving figures."""

from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import Discriminator, Field, Tag, WithJsonSchema, model_validator

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
from .images import ECR_IMAGE_FORMAT, ECR_IMAGE_PATTERN
from .limits import (
    CONTAINER_IMAGE_MAX,
    ENVIRONMENT_ENTRIES_MAX,
    ENVIRONMENT_KEY_MAX,
    ENVIRONMENT_KEY_PATTERN,
    ENVIRONMENT_VALUE_MAX,
    FRAMEWORK_VERSION_PATTERN,
    FRAMEWORKS,
    HF_MODEL_ID_PATTERN,
    INT32_MAX,
    S3_URI_MAX,
    S3_URI_PATTERN,
    SAGEMAKER_NAME_MAX,
    SAGEMAKER_NAME_PATTERN,
    json_schema_pattern,
)
from .scaling_schema import Scaling

NAME_RULE = "allowed: 1-63 letters, digits and hyphens, starting and ending with a letter or digit"


def name_check(what: str) -> Check:
    return pattern(
        SAGEMAKER_NAME_PATTERN,
        f"is not a valid SageMaker {what} name; {NAME_RULE}",
        SAGEMAKER_NAME_MAX,
    )


class Serving(FileModel):
    """What one copy sustains (the simulator and the demo use it)."""

    max_concurrency: Count
    prefill_tokens_per_s: Annotated[Finite, between(1.0)]
    decode_tokens_per_s: Annotated[Finite, between(0.1), Field(description="per request")]


class FrameworkImage(FileModel):
    """A framework image, resolved offline for the fleet's region."""

    framework: Annotated[Text, one_of(FRAMEWORKS, "is not a supported framework")]
    version: Annotated[
        Text,
        pattern(FRAMEWORK_VERSION_PATTERN, "is not a framework version such as 0.33.0", 64),
    ]


ImageUri = Annotated[
    Text,
    pattern(
        ECR_IMAGE_PATTERN,
        f"is not an ECR image URI; allowed: {ECR_IMAGE_FORMAT}, or "
        f"{{framework: {'|'.join(FRAMEWORKS)}, version: X}}",
        CONTAINER_IMAGE_MAX,
    ),
]


def _image_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return "image-uri"
    return "image-framework" if isinstance(value, dict) else None


Image = Annotated[
    Annotated[ImageUri, Tag("image-uri")] | Annotated[FrameworkImage, Tag("image-framework")],
    Discriminator(
        _image_kind,
        custom_error_type="fleet",
        custom_error_message="{message}",
        custom_error_context={
            "message": f"must be an ECR image URI ({ECR_IMAGE_FORMAT}) or "
            f"{{framework: {'|'.join(FRAMEWORKS)}, version: X}}",
            "below": (),
        },
    ),
]
IMAGE_TAGS = ("image-uri", "image-framework")


class ModelSource(FileModel):
    """Exactly one of ``hf_model_id`` or ``s3_uri``."""

    hf_model_id: (
        Annotated[
            Text,
            pattern(
                HF_MODEL_ID_PATTERN, "is not a Hugging Face model id such as Qwen/Qwen3-8B", 193
            ),
            Field(description="the LMI container downloads it: no bucket needed"),
        ]
        | None
    ) = None
    s3_uri: (
        Annotated[
            Text,
            pattern(S3_URI_PATTERN, "is not an S3 URI; allowed: s3://BUCKET/PREFIX", S3_URI_MAX),
            Field(description="ModelDataUrl: a .tar.gz or an uncompressed prefix"),
        ]
        | None
    ) = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.hf_model_id is None) == (self.s3_uri is None):
            raise problem(
                "needs exactly one of hf_model_id (the LMI container downloads it) or "
                "s3_uri (ModelDataUrl)"
            )
        return self


EnvironmentKey = Annotated[
    Text,
    pattern(
        ENVIRONMENT_KEY_PATTERN,
        "is not an environment variable name SageMaker accepts; allowed: a letter or "
        "underscore, then letters, digits and underscores",
        ENVIRONMENT_KEY_MAX,
    ),
]
EnvironmentValue = Annotated[
    Text,
    Check(
        lambda v: len(v) <= ENVIRONMENT_VALUE_MAX,
        lambda v: f"a value of {len(v)} characters; allowed: at most {ENVIRONMENT_VALUE_MAX}",
        {"maxLength": ENVIRONMENT_VALUE_MAX},
    ),
]


Environment = Annotated[
    dict[EnvironmentKey, EnvironmentValue],
    WithJsonSchema(
        {
            "type": "object",
            "description": "container environment: names to text",
            "propertyNames": {
                "pattern": json_schema_pattern(ENVIRONMENT_KEY_PATTERN),
                "maxLength": ENVIRONMENT_KEY_MAX,
            },
            "additionalProperties": {"type": "string", "maxLength": ENVIRONMENT_VALUE_MAX},
        }
    ),
    Check(
        lambda v: len(v) <= ENVIRONMENT_ENTRIES_MAX,
        lambda v: (
            f"{len(v)} variables; allowed: at most {ENVIRONMENT_ENTRIES_MAX} (SageMaker's "
            "limit, HF_MODEL_ID included)"
        ),
        {"maxProperties": ENVIRONMENT_ENTRIES_MAX},
    ),
]


class Copies(FileModel):
    min: CountOrZero
    max: Count
    initial: Annotated[CountOrZero, Field(description="default: max(min, 1)")] | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min > self.max:
            raise problem(f"min ({self.min}) > max ({self.max}); allowed: min <= max")
        initial = self.initial if self.initial is not None else max(self.min, 1)
        if not self.min <= initial <= self.max:
            raise problem(
                f"{initial} is outside min..max; allowed: {self.min} to {self.max}", "initial"
            )
        return self


class Model(FileModel):
    """One model, served by the inference component ``<endpoint>-<name>``."""

    name: Annotated[Text, name_check("model")]
    image: Image
    image_gb: Annotated[Finite, between(0.01), Field(description="compressed image size")]
    model: ModelSource
    model_gb: Annotated[Finite, between(0.01)]
    environment: Environment = Field(default_factory=dict)
    accelerators: Annotated[Count, Field(description="GPUs per copy")]
    memory_mb: Annotated[int, between(128, INT32_MAX), Field(description="host memory per copy")]
    copies: Copies
    serving: Serving
    scaling: Scaling = Scaling()

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        threshold = self.scaling.scale_out.threshold
        if threshold > self.serving.max_concurrency:
            raise problem(
                f"scaling.scale_out.threshold ({threshold}) is above serving.max_concurrency "
                f"({self.serving.max_concurrency}): the alarm would fire only once requests "
                "already queue; allowed: <= max_concurrency",
                "scaling",
            )
        if self.scaling.from_zero.copies > self.copies.max:
            raise problem(
                f"scaling.from_zero.copies ({self.scaling.from_zero.copies}) > copies.max "
                f"({self.copies.max})",
                "scaling",
            )
        adds_hf_model_id = (
            self.model.hf_model_id is not None and "HF_MODEL_ID" not in self.environment
        )
        if adds_hf_model_id and len(self.environment) >= ENVIRONMENT_ENTRIES_MAX:
            raise problem(
                f"{len(self.environment)} variables and HF_MODEL_ID; allowed: at most "
                f"{ENVIRONMENT_ENTRIES_MAX} (SageMaker's limit)",
                "environment",
            )
        return self
