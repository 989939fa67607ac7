"""Delayed SQS messages delivered in simulated time, as Lambda's event source would."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto import mock_aws

from localaws.agenda import Agenda
from localaws.sqs_delivery import SqsEventSource


@dataclass
class Queue:
    sqs: Any
    url: str
    agenda: Agenda = field(default_factory=Agenda)
    now_s: float = 0.0
    delivered: list[tuple[float, list[str]]] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    fail: bool = False

    def handler(self, event: dict[str, Any]) -> dict[str, Any] | None:
        bodies = [r["body"] for r in event["Records"]]
        self.delivered.append((self.now_s, bodies))
        if self.fail:
            return {
                "batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]]
            }
        return {"batchItemFailures": []}

    def run_until(self, t_s: float) -> None:
        while (item := self.agenda.pop_due(t_s)) is not None:
            due, _, action = item
            self.now_s = due
            action()
        self.now_s = t_s

    def messages(self) -> int:
        attrs = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["All"])
        a = attrs["Attributes"]
        return sum(
            int(a[k])
            for k in (
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesDelayed",
                "ApproximateNumberOfMessagesNotVisible",
            )
        )


@pytest.fixture
def queue(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Queue, SqsEventSource]]:
    for key, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        monkeypatch.setenv(key, value)
    with mock_aws():
        sqs = boto3.client("sqs")
        q = Queue(sqs, sqs.create_queue(QueueName="reevaluation")["QueueUrl"])
        source = SqsEventSource(
            sqs,
            q.agenda,
            lambda: q.now_s,
            region="us-east-1",
            on_cancelled=lambda key, message_id: q.cancelled.append(key),
        )
        source.attach("ep", "reevaluation", q.url, q.handler)
        yield q, source


def test_a_delayed_message_is_delivered_when_its_delay_is_up_in_simulated_time(
    queue: tuple[Queue, SqsEventSource],
) -> None:
    q, source = queue
    q.now_s = 100.0
    q.sqs.send_message(QueueUrl=q.url, MessageBody="re-evaluate", DelaySeconds=15)
    source.collect()
    q.run_until(114.0)
    assert q.delivered == []
    q.run_until(200.0)
    # Delivered once, at 100 + 15 s, and deleted after the handler succeeded.
    assert q.delivered == [(115.0, ["re-evaluate"])]
    assert q.messages() == 0


def test_a_message_purged_before_it_is_due_is_cancelled_not_delivered(
    queue: tuple[Queue, SqsEventSource],
) -> None:
    q, source = queue
    q.sqs.send_message(QueueUrl=q.url, MessageBody="re-evaluate", DelaySeconds=60)
    source.collect()
    q.sqs.purge_queue(QueueUrl=q.url)
    q.run_until(120.0)
    assert q.delivered == []
    assert q.cancelled == ["ep"]


def test_a_failed_record_stays_in_the_queue_and_is_not_delivered_again(
    queue: tuple[Queue, SqsEventSource],
) -> None:
    q, source = queue
    q.fail = True
    q.sqs.send_message(QueueUrl=q.url, MessageBody="re-evaluate", DelaySeconds=5)
    source.collect()
    q.run_until(60.0)
    source.collect()  # what the caller does after every invocation
    q.run_until(120.0)
    assert q.delivered == [(5.0, ["re-evaluate"])]
    assert q.messages() > 0  # not deleted (moto counts it as in flight and as delayed)


def test_agenda_items_due_together_run_in_the_order_added_and_by_key() -> None:
    agenda = Agenda()
    ran: list[str] = []
    agenda.add(10.0, "b", "b1", lambda: ran.append("b1"))
    agenda.add(10.0, "a", "a1", lambda: ran.append("a1"))
    agenda.add(5.0, "a", "a0", lambda: ran.append("a0"))
    agenda.add(10.0, "a", "a2", lambda: ran.append("a2"))
    while (item := agenda.pop_due(10.0, "a")) is not None:
        item[2]()
    assert ran == ["a0", "a1", "a2"]
    assert (len(agenda), agenda.next_due()) == (1, 10.0)
    assert agenda.pop_due(9.0) is None
