"""One endpoint's control-plane functions (scaler, cache tracker, cleanup, forecaster), their roles
and queues.

Isolation is enforced here, in IAM: every statement names this endpoint's own inference
components, endpoint, alarms and queues, and the table statement carries
``dynamodb:LeadingKeys`` = [endpoint name], so a function acting for endpoint A can neither
scale B's components nor read or write B's rows, whatever its code does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from config.fleet import ControlPlane, Endpoint
from lambdas.control_plane import contract

from .assets import PowertoolsRelease, function_code, powertools_layer_code
from .components import forecast_interval_minutes
from .nag import acknowledge, acknowledge_wildcard_resources
from .sagemaker_endpoint import SageMakerEndpoint

RUNTIME = lambda_.Runtime.PYTHON_3_13
# Each function's POWERTOOLS_SERVICE_NAME (Powertools adds it to every metric as ``service``).
SERVICES = {
    "scaler": "scaler",
    "tracker": "cache-tracker",
    "cleanup": "cleanup",
    "forecaster": "forecaster",
}
# The forecaster reads two weeks of metric windows per run and then applies at most one update
# per component: well within a minute.
FORECASTER_TIMEOUT_S = 60

SCALER_TIMEOUT_S = contract.SCALER_TIMEOUT_S  # the scaler's event claims expire with it
# An SQS event source needs a visibility timeout of at least 6x the function timeout (Lambda
# developer guide, "Using Lambda with Amazon SQS"), or a message reappears while still handled.
REEVALUATION_VISIBILITY_S = 6 * SCALER_TIMEOUT_S

# CloudWatch Logs retention values (days) and the aws-cdk-lib names for them.
RETENTION_DAYS: dict[int, logs.RetentionDays] = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1096: logs.RetentionDays.THREE_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    2192: logs.RetentionDays.SIX_YEARS,
    2557: logs.RetentionDays.SEVEN_YEARS,
    2922: logs.RetentionDays.EIGHT_YEARS,
    3288: logs.RetentionDays.NINE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}

# Item-level actions only: each carries the partition key it touches, so LeadingKeys applies.
# No Scan, no DescribeTable: those have no leading key and would slip past the condition.
TABLE_READ_ACTIONS = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"]
TABLE_WRITE_ACTIONS = [
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
]


def leading_keys_statement(
    table_arn: str, endpoint_name: str, actions: Sequence[str]
) -> iam.PolicyStatement:
    """Table access confined to the partition named ``endpoint_name``.

    ``ForAllValues:StringEquals`` is what the DynamoDB developer guide shows for LeadingKeys
    (a BatchWriteItem carries several keys; all must match). ``ForAllValues`` is also true when
    the key is absent, so ``Null: false`` requires the request to name a partition.
    """
    return iam.PolicyStatement(
        sid="OwnPartitionOnly",
        actions=list(actions),
        resources=[table_arn],
        conditions={
            "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [endpoint_name]},
            "Null": {"dynamodb:LeadingKeys": "false"},
        },
    )


class ControlPlaneFunctions(Construct):
    """The scaler, cache tracker and cleanup functions of one endpoint.

    * The scaler is invoked by the endpoint's alarms (asynchronously) and consumes the
      re-evaluation queue, to which it sends itself delayed messages while an alarm stays in
      ALARM: an alarm invokes its action only on state transitions.
    * Asynchronous invocations that still fail after ``retry_attempts`` go to ``failures``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint: Endpoint,
        control_plane: ControlPlane,
        table: dynamodb.ITable,
        components_json: str,
        powertools: PowertoolsRelease,
        sagemaker: SageMakerEndpoint,
        alarm_names: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.endpoint_name = endpoint.name

        self.reevaluation_dlq = sqs.Queue(
            self,
            "ReevaluationDeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.seconds(contract.DEAD_LETTER_RETENTION_S),
        )
        self.reevaluation_queue = sqs.Queue(
            self,
            "Reevaluation",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=Duration.seconds(REEVALUATION_VISIBILITY_S),
            # A re-evaluation is only useful within minutes; an hour-old one is noise.
            retention_period=Duration.seconds(contract.REEVALUATION_RETENTION_S),
            dead_letter_queue=sqs.DeadLetterQueue(
                max_receive_count=contract.REEVALUATION_MAX_RECEIVES, queue=self.reevaluation_dlq
            ),
        )
        self.failures = sqs.Queue(
            self,
            "FailedInvocations",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.seconds(contract.DEAD_LETTER_RETENTION_S),
        )
        for queue in (self.reevaluation_dlq, self.failures):
            acknowledge(
                queue,
                "AwsSolutions-SQS3",
                "This queue is itself the dead-letter destination; a failure here is "
                "kept 14 days for inspection rather than forwarded again.",
            )

        # The pinned Powertools release as this stack's own layer (see stacks.assets): the
        # same release in every partition, and the one the tests run with.
        layer = lambda_.LayerVersion(
            self,
            "Powertools",
            code=powertools_layer_code(powertools),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[lambda_.Architecture.X86_64],
            description=f"Powertools for AWS Lambda (Python) {powertools.version}",
        )
        # The endpoint's components document travels in the code, not in the 4 KB environment.
        code = function_code(components_json)
        environment = {
            contract.ENV_TABLE_NAME: table.table_name,
            contract.ENV_ENDPOINT_NAME: endpoint.name,
            contract.ENV_COMPONENTS_FILE: contract.COMPONENTS_FILE_NAME,
            contract.ENV_REEVALUATION_QUEUE_URL: self.reevaluation_queue.queue_url,
            contract.ENV_HISTORY_TTL_DAYS: str(control_plane.history_ttl_days),
            "POWERTOOLS_METRICS_NAMESPACE": contract.METRICS_NAMESPACE,
        }
        retention = RETENTION_DAYS[control_plane.log_retention_days]

        def function(
            name: str,
            handler: str,
            service: str,
            timeout_s: int,
            retry_attempts: int,
            max_event_age: Duration,
        ) -> lambda_.Function:
            log_group = logs.LogGroup(
                self, f"{name}Logs", retention=retention, removal_policy=RemovalPolicy.DESTROY
            )
            role = iam.Role(
                self,
                f"{name}Role",
                assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                description=f"{service} of endpoint {endpoint.name}",
            )
            log_group.grant_write(role)
            acknowledge_wildcard_resources(
                role,
                [f"{log_group.log_group_arn}:*"],
                "Log streams get generated names inside this function's own log group.",
            )
            fn = lambda_.Function(
                self,
                name,
                runtime=RUNTIME,
                architecture=lambda_.Architecture.X86_64,
                handler=handler,
                code=code,
                layers=[layer],
                role=role,
                environment={**environment, "POWERTOOLS_SERVICE_NAME": service},
                timeout=Duration.seconds(timeout_s),
                memory_size=256,
                log_group=log_group,
                description=f"{service} of SageMaker endpoint {endpoint.name}",
                on_failure=destinations.SqsDestination(self.failures),
                retry_attempts=retry_attempts,
                max_event_age=max_event_age,
            )
            acknowledge(
                fn,
                "AwsSolutions-L1",
                f"{RUNTIME.name} is the runtime the handlers are tested for; the "
                "bundled Powertools layer is pure Python.",
            )
            return fn

        # The scaler: a failed alarm invocation is retried twice (its decisions are idempotent:
        # a duplicate event yields one scaling action); after 10 minutes a retry would act on
        # stale metrics, and the re-evaluation queue has taken over by then.
        self.scaler = function(
            "Scaler",
            "control_plane.scaler.handler",
            SERVICES["scaler"],
            SCALER_TIMEOUT_S,
            2,
            Duration.minutes(10),
        )
        self.tracker = function(
            "CacheTracker",
            "control_plane.cache_tracker.handler",
            SERVICES["tracker"],
            60,
            2,
            Duration.hours(1),
        )
        self.cleanup = function(
            "Cleanup",
            "control_plane.cleanup.handler",
            SERVICES["cleanup"],
            300,
            2,
            Duration.hours(6),
        )

        # --- scaler -------------------------------------------------------------------------
        sagemaker.grant_describe(self.scaler)
        sagemaker.grant_update_components(self.scaler)
        self.scaler.add_to_role_policy(
            iam.PolicyStatement(
                sid="DescribeOwnAlarms",
                actions=["cloudwatch:DescribeAlarms"],
                resources=[
                    stack.format_arn(
                        service="cloudwatch",
                        resource="alarm",
                        resource_name=n,
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                    for n in alarm_names
                ],
            )
        )
        self.scaler.add_to_role_policy(
            iam.PolicyStatement(
                sid="ReadMetrics", actions=["cloudwatch:GetMetricData"], resources=["*"]
            )
        )
        acknowledge(
            self.scaler.role or self.scaler,
            "AwsSolutions-IAM5[Resource::*]",
            "cloudwatch:GetMetricData has no resource-level permissions (Service "
            "Authorization Reference); it only reads metrics.",
        )
        self.scaler.add_to_role_policy(
            leading_keys_statement(
                table.table_arn, endpoint.name, TABLE_READ_ACTIONS + TABLE_WRITE_ACTIONS
            )
        )
        self.reevaluation_queue.grant_send_messages(self.scaler)
        self.scaler.add_event_source(
            sources.SqsEventSource(
                self.reevaluation_queue, batch_size=10, report_batch_item_failures=True
            )
        )

        # --- cache tracker ------------------------------------------------------------------
        sagemaker.grant_describe(self.tracker)
        self.tracker.add_to_role_policy(
            leading_keys_statement(
                table.table_arn, endpoint.name, TABLE_READ_ACTIONS + TABLE_WRITE_ACTIONS
            )
        )

        # --- cleanup ------------------------------------------------------------------------
        self.cleanup.add_to_role_policy(
            leading_keys_statement(
                table.table_arn,
                endpoint.name,
                # PutItem: the deletion marker that stops late writers (state.mark_deleted).
                [
                    "dynamodb:Query",
                    "dynamodb:PutItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:BatchWriteItem",
                ],
            )
        )
        self.reevaluation_queue.grant_purge(self.cleanup)

        # --- forecaster (when a model forecasts) -----------------------------------------------
        interval = forecast_interval_minutes(endpoint)
        self.forecaster = (
            None
            if interval is None
            else self._forecaster(function, endpoint, table, sagemaker, interval)
        )

    @staticmethod
    def _forecaster(
        function: Callable[[str, str, str, int, int, Duration], lambda_.Function],
        endpoint: Endpoint,
        table: dynamodb.ITable,
        sagemaker: SageMakerEndpoint,
        interval: int,
    ) -> lambda_.Function:
        """The forecaster: reads its components' metrics, writes their floors in its own
        partition and raises its own components' copy counts; no queue, no alarms."""
        # Run by its schedule only: a failed run is not retried (the next one comes within an
        # interval and reads fresher history), and an event older than an interval is stale.
        forecaster = function(
            "Forecaster",
            "control_plane.forecaster.handler",
            SERVICES["forecaster"],
            FORECASTER_TIMEOUT_S,
            0,
            Duration.minutes(interval),
        )
        sagemaker.grant_describe(forecaster)
        sagemaker.grant_update_components(forecaster)
        forecaster.add_to_role_policy(
            iam.PolicyStatement(
                sid="ReadMetrics", actions=["cloudwatch:GetMetricData"], resources=["*"]
            )
        )
        acknowledge(
            forecaster.role or forecaster,
            "AwsSolutions-IAM5[Resource::*]",
            "cloudwatch:GetMetricData has no resource-level permissions (Service "
            "Authorization Reference); it only reads metrics (the components' Invocations).",
        )
        # Its floor and scale-outs on the component rows, DECISION#/ERROR# rows: its partition.
        forecaster.add_to_role_policy(
            leading_keys_statement(
                table.table_arn,
                endpoint.name,
                [
                    "dynamodb:GetItem",
                    "dynamodb:Query",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:ConditionCheckItem",
                ],
            )
        )
        return forecaster

    @property
    def functions(self) -> Mapping[str, lambda_.Function]:
        return {
            "scaler": self.scaler,
            "tracker": self.tracker,
            "cleanup": self.cleanup,
            **({"forecaster": self.forecaster} if self.forecaster else {}),
        }

    @property
    def services(self) -> Mapping[str, str]:
        """Each function's POWERTOOLS_SERVICE_NAME: the ``service`` dimension of its metrics."""
        return dict(SERVICES)
