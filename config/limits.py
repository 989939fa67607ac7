"""What AWS accepts in the fields of the fleet file, each with its source.

Patterns are written once here, without anchors, in the subset of regular expressions that
Python and JSON Schema (ECMA-262) read alike: ``compiled`` anchors them for Python (``\\Z``, so a
trailing newline never passes as ``$`` would let it), and the JSON Schema wraps them in ``^...$``.
"""

from __future__ import annotations

import re

# Smithy's ``integer``, the type of every count in SageMaker's API (MaxInstanceCount,
# CopyCount, MemoryInMb...): 32 bits. botocore's model gives these shapes a minimum and no
# maximum (ManagedInstanceScalingMaxInstanceCount: min 1; InferenceComponentCopyCount: min 0;
# MemoryInMb: min 128), so the wire type is the only upper limit AWS states; account quotas
# (Service Quotas, adjustable) are lower and checked at deploy time.
INT32_MAX = 2**31 - 1


def compiled(pattern: str) -> re.Pattern[str]:
    """``pattern`` anchored at both ends, for ``match`` and ``fullmatch`` alike."""
    return re.compile(f"(?:{pattern})\\Z")


def json_schema_pattern(pattern: str) -> str:
    """``pattern`` as JSON Schema reads it: anchored, without Python's named groups."""
    return "^(?:" + re.sub(r"\(\?P<\w+>", "(", pattern) + ")$"


# botocore's sagemaker model: EndpointName (InferenceComponentName and ModelName allow the
# same names: letters, digits and hyphens, not starting or ending with a hyphen), max 63.
SAGEMAKER_NAME_PATTERN = r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
SAGEMAKER_NAME = compiled(SAGEMAKER_NAME_PATTERN)
SAGEMAKER_NAME_MAX = 63

# botocore's sagemaker model: EnvironmentMap (max 100 entries), EnvironmentKey (pattern,
# max 1024), EnvironmentValue (max 1024).
ENVIRONMENT_KEY_PATTERN = r"[a-zA-Z_][a-zA-Z0-9_]*"
ENVIRONMENT_KEY_MAX = 1024
ENVIRONMENT_VALUE_MAX = 1024
ENVIRONMENT_ENTRIES_MAX = 100

# botocore's sagemaker model: ContainerImage, max 255 characters.
CONTAINER_IMAGE_MAX = 255

# botocore's sagemaker model: S3ModelUri and Url, max 1024 characters. The bucket follows S3's
# bucket naming rules (3-63 lower-case letters, digits, dots and hyphens).
S3_URI_PATTERN = r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^\n\r]*)?"
S3_URI_MAX = 1024

# A Hugging Face repository id, ``name`` or ``owner/name``: letters, digits, ``-``, ``_``,
# ``.``, each part at most 96 characters (the Hub's limit on repository names).
_HF_PART = r"[A-Za-z0-9]([A-Za-z0-9_.-]{0,94}[A-Za-z0-9])?"
HF_MODEL_ID_PATTERN = f"({_HF_PART}/)?{_HF_PART}"

# botocore's sagemaker model: ManagedInstanceScalingScaleInStrategy,
# ManagedInstanceScalingCooldownInMinutes (5-1440), ManagedInstanceScalingMaximumStepSize (1-100).
SCALE_IN_STRATEGIES = ("IDLE_RELEASE", "CONSOLIDATION")
SCALE_IN_COOLDOWN_MINUTES = (5, 1440)
SCALE_IN_MAXIMUM_STEP_SIZE = (1, 100)

# MetricsConfig.MetricPublishFrequencyInSeconds (botocore's documentation of the member).
METRIC_PUBLISH_FREQUENCIES_S = (10, 30, 60, 120, 180, 240, 300)

# CloudWatch Logs PutRetentionPolicy: the only retention periods it accepts, in days
# (botocore's logs model, documentation of the Days shape).
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

# DynamoDB sets no upper limit on a TTL. Ten years, the longest retention CloudWatch Logs
# offers, is this project's cap: history never outlives the logs that explain it, and a slip
# such as 300000 is caught instead of becoming a date past the year 2800.
HISTORY_TTL_DAYS_MAX = 3653

# CloudWatch alarms: Period is 10, 20 or 30 s (high resolution) or a multiple of 60 s, and
# Period x EvaluationPeriods may not exceed one day.
ALARM_WINDOW_MAX_S = 86_400

# An SNS topic ARN: the topic name is 1-256 letters, digits, hyphens and underscores, and a
# FIFO topic's ends in ``.fifo`` (SNS CreateTopic).
SNS_TOPIC_ARN_PATTERN = (
    r"arn:(?P<partition>aws(-[a-z]+)*):sns:(?P<region>[a-z]{2}(-[a-z]+)+-[0-9]+):"
    r"[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?"
)
SNS_TOPIC_ARN = compiled(SNS_TOPIC_ARN_PATTERN)

# An email address as SNS's email protocol takes it: a local part, one @, a domain with a dot,
# no spaces; at most 254 characters (RFC 5321's limit on a path).
EMAIL_PATTERN = r"[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+"
EMAIL_MAX = 254

# The image frameworks ``resolve_image`` looks up in the SageMaker Python SDK's tables.
FRAMEWORKS = ("djl-lmi",)
# A framework version as the SDK's tables spell it: 0.33.0, 0.33.0-lmi15.0.0-cu128, ...
FRAMEWORK_VERSION_PATTERN = r"[0-9A-Za-z][0-9A-Za-z._-]{0,63}"
