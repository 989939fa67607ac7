"""SQS's event source for Lambda, in simulated time.

moto delays a message sent with ``DelaySeconds`` in wall time, and nothing polls the queue. Here,
after each invocation the caller runs ``collect()``: every new message of a watched queue is held
in moto's queue (delayed "forever" in wall time) and put on the agenda for its simulated due time
(sent + ``DelaySeconds``). Then it is released, received with ``ReceiveMessage`` and handed to the
queue's handler as the event source mapping would hand it (a batch of up to 10 records); what
succeeded is deleted, what failed (``batchItemFailures``, or the whole batch when the invocation
failed) stays held out of later receives. A message purged meanwhile is not found: cancelled, as
in SQS, and reported to ``on_cancelled``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .agenda import Agenda
from .events import ACCOUNT_ID

if TYPE_CHECKING:
    from types_boto3_sqs.client import SQSClient

_HOLD_MS = 10**15  # a held message is delayed "forever" in moto's wall time
RECEIVE_BATCH = 10  # the event source's default batch size for a standard queue

# The function the event source invokes: the event, and what it returned (None if it failed).
Handler = Callable[[dict[str, Any]], dict[str, Any] | None]


@dataclass(frozen=True)
class _Queue:
    name: str
    url: str
    handler: Handler


class SqsEventSource:
    """Queues under ``key`` (the agenda's key for their deliveries), each with its handler."""

    def __init__(
        self,
        sqs: SQSClient,
        agenda: Agenda,
        now: Callable[[], float],
        *,
        region: str,
        account: str = ACCOUNT_ID,
        on_cancelled: Callable[[str, str], None] = lambda key, message_id: None,
    ) -> None:
        self._sqs = sqs
        self._agenda = agenda
        self._now = now
        self.region = region
        self.account = account
        self._on_cancelled = on_cancelled
        self._queues: dict[str, _Queue] = {}
        self._seen: set[str] = set()

    def attach(self, key: str, queue_name: str, queue_url: str, handler: Handler) -> None:
        self._queues[key] = _Queue(queue_name, queue_url, handler)

    def _backend(self) -> Any:
        from moto.sqs.models import sqs_backends

        return sqs_backends[self.account][self.region]

    def collect(self) -> None:
        """New messages in the watched queues: hold them, deliver at their due time."""
        backend = self._backend()
        for key, queue in self._queues.items():
            found = backend.queues.get(queue.name)
            if found is None:
                continue
            for message in list(found._messages):
                if message.id in self._seen:
                    continue
                self._seen.add(message.id)
                sent_ms = float(message.sent_timestamp or 0)
                delay_s = (
                    max(0.0, (message.delayed_until - sent_ms) / 1000.0)
                    if message.delayed_until
                    else 0.0
                )
                message.delayed_until = _HOLD_MS
                self._agenda.add(
                    self._now() + round(delay_s),
                    key,
                    f"sqs {message.id}",
                    functools.partial(self._deliver, key, message.id),
                )

    def _deliver(self, key: str, message_id: str) -> None:
        queue = self._queues[key]
        found = self._backend().queues.get(queue.name)
        held = list(found._messages) if found is not None else []
        message = next((m for m in held if m.id == message_id), None)
        if message is None:
            self._on_cancelled(key, message_id)
            return
        message.delayed_until = 0.0
        received = self._sqs.receive_message(
            QueueUrl=queue.url,
            MaxNumberOfMessages=RECEIVE_BATCH,
            VisibilityTimeout=60,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            return
        arn = f"arn:aws:sqs:{self.region}:{self.account}:{queue.name}"
        records = [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": m.get("MessageAttributes", {}),
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": self.region,
            }
            for m in received
        ]
        result = queue.handler({"Records": records})
        if result is None:
            failed = {r["messageId"] for r in records}
        else:
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        for m in received:
            if m["MessageId"] in failed:
                # Keep it out of later receives; the handler's failure is the caller's to report.
                again = next((x for x in found._messages if x.id == m["MessageId"]), None)
                if again is not None:
                    again.delayed_until = _HOLD_MS
                continue
            self._sqs.delete_message(QueueUrl=queue.url, ReceiptHandle=m["ReceiptHandle"])
