"""EventBridge rules that keep one endpoint's cache tracker informed and trigger its cleanup.

SageMaker publishes ``SageMaker Endpoint State Change`` to EventBridge, but nothing for
inference components: their changes arrive as CloudTrail ``AWS API Call via CloudTrail``
events, which EventBridge receives only when the account has a CloudTrail trail recording
management events (docs/architecture.md). The one-minute schedule is the fallback that works
without a trail. A second schedule runs the forecaster every ``forecast.interval_minutes`` (the
shortest of the endpoint's models that forecast), with an input that names the endpoint.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from config.fleet import Endpoint
from lambdas.control_plane import contract

POLL_RATE = Duration.minutes(1)


class EndpointEvents(Construct):
    """State changes and API calls of this endpoint only, routed to its own functions."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint: Endpoint,
        tracker: lambda_.IFunction,
        cleanup: lambda_.IFunction,
        failures: sqs.IQueue,
        forecaster: lambda_.IFunction | None = None,
        forecast_minutes: int | None = None,
    ) -> None:
        super().__init__(scope, construct_id)

        def target(fn: lambda_.IFunction) -> targets.LambdaFunction:
            # EventBridge retries a failed delivery with backoff for up to the event age; what
            # still fails lands next to the functions' own failed invocations.
            return targets.LambdaFunction(
                fn, dead_letter_queue=failures, retry_attempts=8, max_event_age=Duration.hours(2)
            )

        self.state_change = events.Rule(
            self,
            "EndpointStateChange",
            description=f"State changes of endpoint {endpoint.name}",
            event_pattern=events.EventPattern(
                source=[contract.SAGEMAKER_SOURCE],
                detail_type=[contract.DETAIL_ENDPOINT_STATE_CHANGE],
                detail={"EndpointName": [endpoint.name]},
            ),
            targets=[target(tracker), target(cleanup)],
        )
        self.component_calls = events.Rule(
            self,
            "InferenceComponentCalls",
            description=f"CloudTrail: inference component calls on endpoint {endpoint.name}",
            event_pattern=events.EventPattern(
                source=[contract.SAGEMAKER_SOURCE],
                detail_type=[contract.DETAIL_API_CALL],
                detail={
                    "eventSource": [contract.SAGEMAKER_EVENT_SOURCE],
                    "eventName": list(contract.COMPONENT_API_CALLS),
                    "requestParameters": {
                        "inferenceComponentName": [m.component_name for m in endpoint.models],
                    },
                },
            ),
            targets=[target(tracker)],
        )
        self.endpoint_deleted = events.Rule(
            self,
            "EndpointDeleted",
            description=f"CloudTrail: DeleteEndpoint of {endpoint.name}",
            event_pattern=events.EventPattern(
                source=[contract.SAGEMAKER_SOURCE],
                detail_type=[contract.DETAIL_API_CALL],
                detail={
                    "eventSource": [contract.SAGEMAKER_EVENT_SOURCE],
                    "eventName": list(contract.ENDPOINT_DELETE_CALLS),
                    "requestParameters": {"endpointName": [endpoint.name]},
                },
            ),
            targets=[target(cleanup)],
        )
        # The default Scheduled Event shape (no custom input): the tracker polls every
        # component of its endpoint, which covers accounts without a trail.
        self.poll = events.Rule(
            self,
            "Poll",
            description=f"Poll the inference components of {endpoint.name}",
            schedule=events.Schedule.rate(POLL_RATE),
            targets=[target(tracker)],
        )
        self.forecast: events.Rule | None = None
        if forecaster is not None and forecast_minutes is not None:
            # A missed run is not worth a retry two hours later: the next run comes within an
            # interval, so deliveries are tried for at most one interval.
            self.forecast = events.Rule(
                self,
                "Forecast",
                description=f"Run the forecaster of {endpoint.name} every {forecast_minutes} min",
                schedule=events.Schedule.rate(Duration.minutes(forecast_minutes)),
                targets=[
                    targets.LambdaFunction(
                        forecaster,
                        event=events.RuleTargetInput.from_object(
                            {"source": contract.FORECAST_SOURCE, "endpoint": endpoint.name}
                        ),
                        dead_letter_queue=failures,
                        retry_attempts=2,
                        max_event_age=Duration.minutes(max(1, forecast_minutes)),
                    )
                ],
            )
