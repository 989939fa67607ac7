"""The forecaster's Lambda handler: on its schedule, hold capacity ahead of recurring load.

An EventBridge schedule rule per endpoint invokes it every ``forecast.interval_minutes`` with
``{"source": contract.FORECAST_SOURCE, "endpoint": <endpoint name>}``; an event for another
endpoint, or of any other shape, is refused (``EventError``) before anything is read or
written. The run itself (``forecasting.run``) never raises: a failure is logged, counted in
``ScalingErrors`` and leaves the copy counts as they are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import clock, contract
from .claims import open_store
from .events import NAME_MAX_CHARS, EventError, ForeignEndpoint, show
from .forecasting import run
from .observability import bind, logger
from .settings import settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

_KEYS = ("endpoint", "source")


def parse_forecast_event(event: Any) -> str:
    """The endpoint a schedule event is for; ``EventError`` naming what is wrong otherwise."""
    if not isinstance(event, dict) or tuple(sorted(event)) != _KEYS:
        keys = sorted(map(str, event))[:8] if isinstance(event, dict) else type(event).__name__
        raise EventError(
            f"the forecaster accepts its schedule's input {{'source': "
            f"{contract.FORECAST_SOURCE!r}, 'endpoint': <name>}} only; got {keys}"
        )
    if event["source"] != contract.FORECAST_SOURCE:
        raise EventError(
            f"source {show(event['source'])} is not allowed; allowed: {contract.FORECAST_SOURCE!r}"
        )
    endpoint = event["endpoint"]
    if not isinstance(endpoint, str) or not 0 < len(endpoint) <= NAME_MAX_CHARS:
        raise EventError(
            f"endpoint must be a name of 1 to {NAME_MAX_CHARS} characters, got {show(endpoint)}"
        )
    return endpoint


@logger.inject_lambda_context(clear_state=True)
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point: one forecast of every component of this function's endpoint."""
    cfg = settings()
    bind(endpoint=cfg.endpoint)
    endpoint = parse_forecast_event(event)
    if endpoint != cfg.endpoint:
        raise ForeignEndpoint(
            f"forecast for endpoint {endpoint!r} reached {cfg.endpoint!r}'s forecaster; "
            "nothing changed"
        )
    outcomes = run(cfg, open_store(cfg), clock.now())
    logger.info("forecast run", extra={"outcomes": [o.as_dict() for o in outcomes]})
    return {"action": "forecast", "outcomes": [o.as_dict() for o in outcomes]}
