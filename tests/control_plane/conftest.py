"""Two endpoints on moto (with the inference-component extension), one state table, one
re-evaluation queue per endpoint, and the handlers' environment set for endpoint A."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from lambdas.control_plane import aws, clock, contract, settings
from localaws import sagemaker_ic
from tests.helpers import (
    ENDPOINTS,
    READY_S,
    REGION,
    TABLE,
    FakeClock,
    Sent,
    World,
    create_endpoint,
    use_endpoint,
)


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    for key, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_SESSION_TOKEN", "testing"),
        ("AWS_DEFAULT_REGION", REGION),
        ("POWERTOOLS_SERVICE_NAME", "scaler"),
        ("POWERTOOLS_METRICS_NAMESPACE", contract.METRICS_NAMESPACE),
    ):
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    sagemaker_ic.install()
    with mock_aws():
        aws.client.cache_clear()
        fake = FakeClock(float(int(time.time())))
        clock.set_source(fake)
        ctl = sagemaker_ic.control()
        ctl.set_clock(fake)
        ctl.set_ready_delay(lambda component, path, held: READY_S[path])
        w = World(
            fake,
            boto3.client("sagemaker"),
            boto3.client("dynamodb"),
            boto3.client("cloudwatch"),
            boto3.client("sqs"),
            {},
            control=ctl,
        )
        w.dynamodb.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
        )
        for endpoint, components in ENDPOINTS.items():
            w.queues[endpoint] = w.sqs.create_queue(QueueName=f"{endpoint}-reeval")["QueueUrl"]
            create_endpoint(w, endpoint, components)
        original_send = aws.send_delayed

        def recording_send(sqs: Any, queue_url: str, body: str, delay_s: int) -> int:
            used = original_send(sqs, queue_url, body, delay_s)
            w.sent.append(Sent(queue_url, body, used))
            return used

        monkeypatch.setattr(aws, "send_delayed", recording_send)
        use_endpoint(monkeypatch, w, "ep-a")
        try:
            yield w
        finally:
            clock.set_source(None)
            aws.client.cache_clear()
            settings.settings.cache_clear()
