"""The shared control-plane stack: the table that holds every endpoint's scaling state."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from config.fleet import Notifications
from lambdas.control_plane import contract

from .health import OperatorTopic, TableHealth


class ControlPlaneStack(Stack):
    """The state table, shared by all endpoints but partitioned by endpoint name, and the alarms
    on its throttling.

    Every row of endpoint E has ``pk = E``; each endpoint's functions may touch only that
    partition (``dynamodb:LeadingKeys`` in their roles, see ``stacks.functions``), so sharing
    one table costs no isolation. On-demand billing because the load is bursty (alarms and a
    one-minute poll); point-in-time recovery and a KMS key because the table is the memory of
    the scaler; retained when the stack goes, because a lost history means the next scale-out
    plans without knowing what is cached.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        notifications: Notifications,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.table = dynamodb.Table(
            self,
            "StateTable",
            partition_key=dynamodb.Attribute(
                name=contract.TABLE_PARTITION_KEY, type=dynamodb.AttributeType.STRING
            ),
            sort_key=dynamodb.Attribute(
                name=contract.TABLE_SORT_KEY, type=dynamodb.AttributeType.STRING
            ),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            time_to_live_attribute=contract.TABLE_TTL_ATTRIBUTE,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.operator = OperatorTopic(self, "Operator", notifications=notifications)
        self.health = TableHealth(self, "Health", table=self.table, topic=self.operator.topic)
        CfnOutput(self, "OperatorTopicArn", value=self.operator.topic.topic_arn)
        CfnOutput(
            self,
            "StateTableName",
            value=self.table.table_name,
            description="Scaling state of every endpoint (partition key = endpoint name)",
        )
