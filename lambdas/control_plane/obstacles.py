"""What can stand between a decision and its copies, read from SageMaker's own answers.

* **Busy.** SageMaker refuses a copy-count update while the component is being created,
  updated or deleted, and may refuse one while its endpoint is changing (the stacks create
  components one at a time for that reason). The scaler defers instead of calling: the
  component's own status, the endpoint's status, and siblings being created or deleted. A
  sibling whose copy count is changing does not block: whether SageMaker refuses that is not
  documented, and waiting on it would hold one model's scale-out for another's minutes-long
  one (if SageMaker does refuse, the refusal is an "in progress" error, which defers too).
* **Instance shortage.** ``UpdateInferenceComponentRuntimeConfig`` accepts a scale-out it cannot
  place; the shortage shows later as a component that stays ``Updating`` well past the time its
  copies should have served, or as a failure reason naming capacity on the component or the
  endpoint (aws-facts: "Instance shortages do not come back from the call").
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from . import aws
from .decision import History, Path, ScalingSpec
from .observability import logger
from .settings import Settings
from .state import ComponentState

if TYPE_CHECKING:
    from types_boto3_sagemaker import SageMakerClient

# A component still Updating this many times the predicted ready time after the scale-out was
# asked for is short of instances (copies vary around the prediction, not by a factor of 2).
STUCK_FACTOR = 2.0
SIBLING_BUSY_STATUSES = ("Creating", "Deleting")
_CAPACITY_WORDS = re.compile(r"capacity|insufficient", re.IGNORECASE)


def busy_reason(
    sagemaker: SageMakerClient,
    cfg: Settings,
    observed: aws.ComponentObservation,
    endpoint: aws.EndpointObservation | None,
) -> tuple[str, str] | None:
    """``(reason, detail)`` when an update now would be refused; ``None`` when it may go."""
    if observed.busy:
        return "ComponentBusy", f"status {observed.status}"
    if endpoint is not None and endpoint.busy:
        return "EndpointBusy", f"endpoint status {endpoint.status}"
    for name in cfg.components:
        if name == observed.name:
            continue
        try:
            sibling = aws.describe_component(sagemaker, name)
        except aws.NotFound:
            continue  # not created yet, or deleted: nothing running
        except Exception as exc:  # a sibling that cannot be read does not block a decision
            logger.warning("sibling status unknown", extra={"sibling": name, "error": str(exc)})
            continue
        if sibling.status in SIBLING_BUSY_STATUSES:
            return "EndpointBusy", f"component {name} is {sibling.status}"
    return None


def shortage_reason(
    observed: aws.ComponentObservation,
    endpoint: aws.EndpointObservation | None,
    state: ComponentState,
    history: History,
    spec: ScalingSpec,
    now: float,
) -> str | None:
    """Why the copies asked for look unobtainable (instance shortage), or ``None``."""
    for what, reason in (
        ("component", observed.failure_reason),
        ("endpoint", endpoint.failure_reason if endpoint else None),
    ):
        if reason and _CAPACITY_WORDS.search(reason):
            return f"{what} failure reason: {reason[:300]}"
    if observed.status != "Updating" or state.pending_since is None:
        return None
    if state.pending_target is not None and observed.current_copies >= state.pending_target:
        return None
    try:
        path = Path(state.pending_path or Path.WARM_INSTANCE.value)
    except ValueError:
        path = Path.UNCACHED
    predicted = float(history.observed_ready_s.get(path.value, spec.ready_s.for_path(path)))
    waited = now - state.pending_since
    if waited <= STUCK_FACTOR * predicted:
        return None
    return (
        f"Updating {waited:.0f} s after asking for {state.pending_target} copies "
        f"({observed.current_copies} serve); predicted {predicted:.0f} s on path {path.value}"
    )


def took_effect(sagemaker: SageMakerClient, name: str, before: int, target: int) -> bool | None:
    """After an update call failed: did the copy count change to ``target`` anyway (a read
    timeout after SageMaker accepted it, or the SDK's retry meeting the update it started)?
    ``None`` when SageMaker cannot be read either."""
    try:
        observed = aws.describe_component(sagemaker, name)
    except Exception as exc:
        logger.warning("could not re-read the component", extra={"error": str(exc)})
        return None
    return observed.desired_copies == target and target != before
