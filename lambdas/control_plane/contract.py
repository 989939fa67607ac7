"""Names shared by the stacks that deploy the control plane and the handlers that run in it.

The CDK app imports this module (it is pure Python) so that an alarm name, an environment
variable or a table key is spelled once.
"""

from __future__ import annotations

from .decision import Trigger

# --- Environment of every control-plane function (one set of functions per endpoint) --------
ENV_TABLE_NAME = "TABLE_NAME"
ENV_ENDPOINT_NAME = "ENDPOINT_NAME"
# The components document, JSON: {component name: {"spec": ScalingSpec.to_dict(),
# "image": ECR URI, "model": model name}}. The stacks ship it as a file in the function's code
# (ENV_COMPONENTS_FILE names it, relative to the code root); local runs may pass it inline in
# ENV_COMPONENTS instead, within Lambda's 4 KB of environment.
ENV_COMPONENTS_FILE = "COMPONENTS_FILE"
COMPONENTS_FILE_NAME = "components.json"
ENV_COMPONENTS = "COMPONENTS"
ENV_REEVALUATION_QUEUE_URL = "REEVALUATION_QUEUE_URL"
ENV_HISTORY_TTL_DAYS = "HISTORY_TTL_DAYS"
# Lambda's environment holds at most 4 KB in all: an inline ENV_COMPONENTS may take this much.
# The other variables (table name, endpoint name, queue URL, TTL, Powertools' namespace) take
# under 400 bytes with their names; 768 are left for them.
ENV_COMPONENTS_MAX_BYTES = 3328

# The scaler function's timeout. An idempotency claim stays "in progress" this long: after a
# timeout or a kill (no Python error, so no release) the retry may take the claim over.
SCALER_TIMEOUT_S = 60

# --- Re-evaluation queue ------------------------------------------------------------------
# A re-evaluation is only useful within minutes; an hour-old one is noise.
REEVALUATION_RETENTION_S = 3600
# Receives before a message goes to the dead-letter queue, which keeps it 14 days.
REEVALUATION_MAX_RECEIVES = 5
DEAD_LETTER_RETENTION_S = 14 * 86400

# --- State table --------------------------------------------------------------------------
# Every row of an endpoint lives in the partition named exactly after the endpoint, so IAM's
# dynamodb:LeadingKeys condition (StringEquals, not a prefix) confines a role to its endpoint.
TABLE_PARTITION_KEY = "pk"  # endpoint name
TABLE_SORT_KEY = "sk"  # COMPONENT#<name>, IMAGE#<uri>, DECISION#<ts>#<component>, ...
TABLE_TTL_ATTRIBUTE = "expires_at"  # epoch seconds; set on history rows only

# --- Metrics the handlers emit (CloudWatch embedded metric format) ------------------------
METRICS_NAMESPACE = "SageMakerFastScale"
DIM_ENDPOINT = "EndpointName"
DIM_COMPONENT = "InferenceComponentName"
DIM_PATH = "Path"  # warm_instance | cached | uncached
METRIC_SCALING_DECISIONS = "ScalingDecisions"  # count of decisions that changed the target
METRIC_TARGET_COPIES = "TargetCopies"
METRIC_SCALING_ERRORS = "ScalingErrors"
METRIC_SCALE_OUT_SECONDS = "ScaleOutSeconds"  # decision to CurrentCopyCount reaching target
# The scaler's phases (dimension InferenceComponentName): an alarm's transition to ALARM (its
# state-change timestamp) to the decision, and the decision to the copy-count update returning.
METRIC_ALARM_TO_DECISION_SECONDS = "AlarmToDecisionSeconds"
METRIC_DECISION_TO_DESIRED_SECONDS = "DecisionToDesiredSeconds"
# A scale-out SageMaker accepted but could not place (no instances of the type to be had): seen
# later as a component stuck Updating or a failure reason, never as the call's own error.
METRIC_CAPACITY_SHORTAGES = "CapacityShortages"
# Emitted by the cache tracker each time it observes a component (events and polling):
METRIC_DESIRED_COPIES = "DesiredCopies"
METRIC_CURRENT_COPIES = "CurrentCopies"
METRIC_INSTANCES = "Instances"  # dimension EndpointName only
# Emitted by the forecaster each run: the copies it holds as the component's floor.
METRIC_FORECAST_FLOOR = "ForecastFloor"

# --- EventBridge events the tracker and cleanup subscribe to ---------------------------------
# SageMaker publishes endpoint state changes; inference-component calls arrive only as CloudTrail
# API calls (with a trail recording management events); the schedule is the polling fallback.
SAGEMAKER_SOURCE = "aws.sagemaker"
SAGEMAKER_EVENT_SOURCE = "sagemaker.amazonaws.com"  # CloudTrail's detail.eventSource
SCHEDULE_SOURCE = "aws.events"
DETAIL_ENDPOINT_STATE_CHANGE = "SageMaker Endpoint State Change"
DETAIL_API_CALL = "AWS API Call via CloudTrail"
DETAIL_SCHEDULED = "Scheduled Event"
# The inference-component calls the tracker observes, and the call that ends an endpoint.
COMPONENT_API_CALLS = (
    "CreateInferenceComponent",
    "UpdateInferenceComponent",
    "UpdateInferenceComponentRuntimeConfig",
    "DeleteInferenceComponent",
)
ENDPOINT_DELETE_CALLS = ("DeleteEndpoint",)
# The forecaster's schedule rule sends this input (not EventBridge's Scheduled Event), so that
# the event names the endpoint it is for: {"source": FORECAST_SOURCE, "endpoint": <name>}.
FORECAST_SOURCE = "sagemaker-fast-scale.forecast"

# --- Alarms -------------------------------------------------------------------------------
_ALARM_SUFFIX = {
    Trigger.SCALE_OUT: "scale-out",
    Trigger.SURGE: "surge",
    Trigger.SCALE_IN: "scale-in",
    Trigger.FROM_ZERO: "from-zero",
}


def alarm_name(component: str, trigger: Trigger) -> str:
    """The CloudWatch alarm that asks the scaler to act on ``component``."""
    return f"{component}-{_ALARM_SUFFIX[trigger]}"


def parse_alarm_name(name: str) -> tuple[str, Trigger]:
    """``(component, trigger)`` of an alarm named by ``alarm_name``; ``ValueError`` otherwise."""
    for trigger, suffix in _ALARM_SUFFIX.items():
        if name.endswith(f"-{suffix}") and len(name) > len(suffix) + 1:
            return name[: -len(suffix) - 1], trigger
    allowed = ", ".join(f"<component>-{s}" for s in _ALARM_SUFFIX.values())
    raise ValueError(f"alarm {name!r} is not one of the scaler's; allowed: {allowed}")
