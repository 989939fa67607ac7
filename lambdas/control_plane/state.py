"""The state table: one partition per endpoint, read and written only through this module.

Layout (partition key ``pk`` = the endpoint name exactly, so IAM ``dynamodb:LeadingKeys``
confines each endpoint's functions to their own rows):

=============================  ==========================================================
sort key ``sk``                what the row holds
=============================  ==========================================================
``COMPONENT#<name>``           ``version`` (conditional writes), ``scaler_copies`` (last
                               target the scaler set), ``last_scale_out_at``,
                               ``last_scale_in_at``, ``ready_s_<path>`` (observed), the
                               pending scale-out (``pending_*``), the tracker's last
                               observation (``observed_*``)
``ENDPOINT``                   status, instances, ``observed_at``
``IMAGE#<uri>``                the endpoint's container cache for new instances: ``state``
                               ``cold`` → ``warming`` → ``cached``, ``evidence`` (``cached``
                               is inferred: SageMaker reports no hit or miss), ``scope``
``MODEL#<name>``               the model's copies on this endpoint: ``state`` ``cold`` →
                               ``warming`` → ``served`` (observed); the weights are cached
                               for running instances only, never for new ones (``scope``)
``DECISION#<ts>#<component>``  every decision with its reason and inputs (TTL)
``SCALEOUT#<ts>#<component>``  observed decision-to-serving seconds and path (TTL)
``ERROR#<ts>#<component>``     capacity and limit errors (TTL)
``EVENT#<id>``                 idempotency claims (TTL)
``DELETED``                    the tombstone cleanup leaves: ``deleted_at`` (TTL)
=============================  ==========================================================

Every write that can create a row is a transaction of that write and a ``ConditionCheck``
that the ``DELETED`` tombstone does not exist. Cleanup writes the tombstone first and then
deletes the rows, so a writer that read before the purge (a tracker poll, an in-flight
re-evaluation) cannot re-create a row after it: its write either committed before the
tombstone (and the purge's consistent query finds and deletes it) or is refused
(``EndpointGone``). The tombstone goes when a new endpoint of the same name is seen
(``clear_tombstone``, called by the tracker and by the ``Cleanup`` custom resource's Create),
or by its TTL.

The ``COMPONENT#`` row's typed form is ``component_row.ComponentState`` and DynamoDB's attribute
values are converted in ``table_attributes``; both names stay importable from here.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from typing import Any

from . import contract
from .component_row import ComponentState, component_from, component_key
from .table_attributes import item_from, to_attr

__all__ = [
    "CACHE_STATES",
    "EVENT_CLAIM_TTL_S",
    "PK",
    "PURGE_BACKOFF_BASE_S",
    "SK",
    "TOMBSTONE_KEY",
    "TOMBSTONE_TTL_S",
    "TRANSACTION_ATTEMPTS",
    "TTL",
    "ComponentState",
    "Conflict",
    "EndpointGone",
    "StateStore",
    "StateUnavailable",
    "component_key",
]

PK, SK, TTL = contract.TABLE_PARTITION_KEY, contract.TABLE_SORT_KEY, contract.TABLE_TTL_ATTRIBUTE
EVENT_CLAIM_TTL_S = 24 * 3600  # an alarm retries for up to 6 hours; a day covers any redelivery
CACHE_STATES = ("cold", "warming", "cached")
# BatchWriteItem returns UnprocessedItems when throttled; AWS asks for exponential backoff
# before resending them: 0.1, 0.2, 0.4, 0.8 s between the 5 attempts (1.5 s at most in all).
PURGE_BACKOFF_BASE_S = 0.1


class StateUnavailable(Exception):
    """The table could not be read or written (missing, throttled, unreachable)."""


class Conflict(Exception):
    """Another invocation changed the row since it was read."""


class EndpointGone(StateUnavailable):
    """The endpoint was deleted (its tombstone exists): nothing more may be written for it.

    A ``StateUnavailable``, so every caller that carries on without the table when it cannot
    write also carries on, writing nothing, when the endpoint is gone."""


TOMBSTONE_KEY = "DELETED"
# How long the tombstone is kept before DynamoDB's TTL may remove it: a day, past any late
# writer (an alarm event is retried for up to 6 hours, a re-evaluation lives 1 hour in its
# queue). A new endpoint of the same name removes it sooner.
TOMBSTONE_TTL_S = 24 * 3600
# TransactWriteItems is cancelled with TransactionConflict while another transaction holds one
# of its items (every write checks the one tombstone key): retry after 0.1, 0.2 s.
TRANSACTION_ATTEMPTS = 3


class StateStore:
    """One endpoint's rows. Every key this class builds starts with that endpoint's partition."""

    def __init__(
        self,
        dynamodb: Any,
        table_name: str,
        endpoint: str,
        ttl_days: int,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._db = dynamodb
        self._sleep = sleep
        self._table = table_name
        self.endpoint = endpoint
        self._ttl_s = ttl_days * 86400

    def _key(self, sk: str) -> dict[str, Any]:
        return {PK: {"S": self.endpoint}, SK: {"S": sk}}

    def _do(self, method: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self._db, method)(TableName=self._table, **kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise Conflict(str(exc)) from exc
            raise StateUnavailable(f"{method} on {self._table}: {exc}") from exc
        except BotoCoreError as exc:
            raise StateUnavailable(f"{method} on {self._table}: {exc}") from exc

    def _write(self, action: str, conditional: bool = False, **params: Any) -> None:
        """``action`` (Put, Update) of one item, refused once the endpoint's tombstone exists.

        ``EndpointGone`` when the tombstone refused it; ``Conflict`` when the write's own
        condition failed (``conditional``: also when it kept losing to concurrent writers);
        ``StateUnavailable`` otherwise.
        """
        from botocore.exceptions import BotoCoreError, ClientError

        items = [
            {
                "ConditionCheck": {
                    "TableName": self._table,
                    "Key": self._key(TOMBSTONE_KEY),
                    "ConditionExpression": "attribute_not_exists(#sk)",
                    "ExpressionAttributeNames": {"#sk": SK},
                }
            },
            {action: {"TableName": self._table, **params}},
        ]
        last: Exception | None = None
        for attempt in range(TRANSACTION_ATTEMPTS):
            if attempt:
                self._sleep(PURGE_BACKOFF_BASE_S * 2 ** (attempt - 1))
            try:
                self._db.transact_write_items(TransactItems=items)
                return
            except ClientError as exc:
                error = exc.response.get("Error", {}).get("Code")
                reasons = [
                    str(r.get("Code")) for r in exc.response.get("CancellationReasons") or []
                ]
                if error != "TransactionCanceledException" or len(reasons) != 2:
                    raise StateUnavailable(f"{action} on {self._table}: {exc}") from exc
                if reasons[0] == "ConditionalCheckFailed":
                    raise EndpointGone(
                        f"endpoint {self.endpoint!r} was deleted: its rows are purged and "
                        "nothing more is written for it"
                    ) from exc
                if reasons[1] == "ConditionalCheckFailed":
                    raise Conflict(str(exc)) from exc
                if "TransactionConflict" not in reasons:
                    raise StateUnavailable(f"{action} on {self._table}: {exc}") from exc
                last = exc
            except BotoCoreError as exc:
                raise StateUnavailable(f"{action} on {self._table}: {exc}") from exc
        if conditional:
            raise Conflict(str(last)) from last
        raise StateUnavailable(f"{action} on {self._table}: {last}") from last

    # --- the tombstone --------------------------------------------------------------------
    def mark_deleted(self, at: float) -> None:
        """Leave the tombstone (before purging): from now on every guarded write is refused.

        ``at`` is when the endpoint's deletion happened; a later endpoint of the same name is
        one created after it. A tombstone already there keeps the later of the two times (a
        retried old deletion event does not move it back)."""
        item = self._key(TOMBSTONE_KEY)
        item["deleted_at"] = to_attr(at)
        item[TTL] = to_attr(int(at) + TOMBSTONE_TTL_S)
        with contextlib.suppress(Conflict):  # a later deletion time is already recorded
            self._do(
                "put_item",
                Item=item,
                ConditionExpression="attribute_not_exists(#sk) OR #at < :at",
                ExpressionAttributeNames={"#sk": SK, "#at": "deleted_at"},
                ExpressionAttributeValues={":at": to_attr(at)},
            )

    def deleted_at(self) -> float | None:
        """When the endpoint's deletion was recorded; ``None`` when there is no tombstone."""
        row = self.get(TOMBSTONE_KEY)
        value = row.get("deleted_at") if row else None
        return float(value) if isinstance(value, int | float) else None

    def clear_tombstone(self, deleted_at: float | None) -> bool:
        """Remove the tombstone for a new endpoint of the same name; ``deleted_at`` is the
        time the caller read (``None``: whatever it holds). False when a different tombstone
        is there now (a newer deletion), which then stays."""
        kwargs: dict[str, Any] = {}
        if deleted_at is not None:
            kwargs = {
                "ConditionExpression": "#at = :at",
                "ExpressionAttributeNames": {"#at": "deleted_at"},
                "ExpressionAttributeValues": {":at": to_attr(deleted_at)},
            }
        try:
            self._do("delete_item", Key=self._key(TOMBSTONE_KEY), **kwargs)
        except Conflict:
            return False
        return True

    # --- components ---------------------------------------------------------------------
    def load_component(self, name: str) -> ComponentState:
        raw = self._do("get_item", Key=self._key(component_key(name)), ConsistentRead=True)
        return component_from(name, item_from(raw.get("Item") or {}))

    def load_components(self) -> dict[str, ComponentState]:
        out = {}
        for item in self._query("COMPONENT#"):
            name = str(item[SK]).split("#", 1)[1]
            out[name] = component_from(name, item)
        return out

    def commit_component(
        self,
        name: str,
        expected_version: int,
        values: Mapping[str, Any],
        remove: tuple[str, ...] = (),
    ) -> int:
        """Write ``values`` if the row is still at ``expected_version``; the new version.

        Two invocations that read the same version cannot both commit: the second gets
        ``Conflict`` and must re-read and decide again, so no update is lost.
        """
        names = {f"#a{i}": k for i, k in enumerate(values)}
        sets = [f"#a{i} = :a{i}" for i in range(len(values))]
        attr_values = {f":a{i}": to_attr(v) for i, v in enumerate(values.values())}
        attr_values[":next"] = to_attr(expected_version + 1)
        names["#v"] = "version"
        sets.append("#v = :next")
        expression = "SET " + ", ".join(sets)
        if remove:
            for j, key in enumerate(remove):
                names[f"#r{j}"] = key
            expression += " REMOVE " + ", ".join(f"#r{j}" for j in range(len(remove)))
        if expected_version:
            condition = "#v = :expected"
            attr_values[":expected"] = to_attr(expected_version)
        else:
            condition = "attribute_not_exists(#v)"
        self._write(
            "Update",
            conditional=True,
            Key=self._key(component_key(name)),
            UpdateExpression=expression,
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=attr_values,
        )
        return expected_version + 1

    def observe(self, sk: str, values: Mapping[str, Any]) -> None:
        """Unconditional update of attributes only the tracker writes."""
        names = {f"#a{i}": k for i, k in enumerate(values)}
        sets = ", ".join(f"#a{i} = :a{i}" for i in range(len(values)))
        self._write(
            "Update",
            Key=self._key(sk),
            UpdateExpression=f"SET {sets}",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={f":a{i}": to_attr(v) for i, v in enumerate(values.values())},
        )

    def start_chain(self, component: str, trigger: str, chain_id: str) -> None:
        """Record ``chain_id`` as the one live re-evaluation chain of (component, trigger).

        An unconditional write of its own attribute: it does not bump the row's version, so it
        never makes a concurrent decision's conditional commit fail.
        """
        self.observe(component_key(component), {f"chain_{trigger}": chain_id})

    def live_chain(self, component: str, trigger: str) -> str | None:
        """The chain id last started for (component, trigger); ``None`` if none was."""
        row = self.get(component_key(component))
        value = row.get(f"chain_{trigger}") if row else None
        return value if isinstance(value, str) else None

    def get(self, sk: str) -> dict[str, Any] | None:
        raw = self._do("get_item", Key=self._key(sk), ConsistentRead=True)
        return item_from(raw["Item"]) if raw.get("Item") else None

    # --- history ------------------------------------------------------------------------
    def put_history(self, kind: str, at: float, component: str, values: Mapping[str, Any]) -> str:
        sk = f"{kind}#{at:016.3f}#{component}"
        item = {k: to_attr(v) for k, v in values.items()}
        item.update(self._key(sk))
        item[TTL] = to_attr(int(at) + self._ttl_s)
        self._write("Put", Item=item)
        return sk

    # --- idempotency --------------------------------------------------------------------
    def claim_event(self, event_id: str, now: float, in_progress_s: float) -> bool:
        """True when this delivery may do the work of ``event_id``; False for a duplicate, and
        for any event once the endpoint is deleted (its tombstone refuses the claim).

        The claim is written ``in_progress`` until ``now + in_progress_s`` (the function's
        timeout). A delivery finding a ``done`` claim, or one still in progress, is a
        duplicate; one finding an ``in_progress`` claim past its deadline takes it over, since
        the invocation that made it was killed or timed out before it could finish or release.
        """
        item = self._key(f"EVENT#{event_id}")
        item[TTL] = to_attr(int(now) + EVENT_CLAIM_TTL_S)
        item["claimed_at"] = to_attr(now)
        item["status"] = to_attr("in_progress")
        item["in_progress_until"] = to_attr(now + in_progress_s)
        try:
            self._write(
                "Put",
                conditional=True,
                Item=item,
                ConditionExpression="attribute_not_exists(#sk) OR (#st = :ip AND #until < :now)",
                ExpressionAttributeNames={
                    "#sk": SK,
                    "#st": "status",
                    "#until": "in_progress_until",
                },
                ExpressionAttributeValues={":ip": to_attr("in_progress"), ":now": to_attr(now)},
            )
        except Conflict:
            return False
        except EndpointGone:
            from .observability import logger

            logger.warning("endpoint deleted: event refused", extra={"event_id": event_id})
            return False
        return True

    def finish_event(self, event_id: str) -> None:
        """Mark a claim ``done``: its work happened, every later delivery is a duplicate."""
        self._write(
            "Update",
            Key=self._key(f"EVENT#{event_id}"),
            UpdateExpression="SET #st = :done REMOVE #until",
            ExpressionAttributeNames={"#st": "status", "#until": "in_progress_until"},
            ExpressionAttributeValues={":done": to_attr("done")},
        )

    def release_event(self, event_id: str) -> None:
        """Forget a claim whose work failed, so that the retry can do it."""
        self._do("delete_item", Key=self._key(f"EVENT#{event_id}"))

    # --- cleanup ------------------------------------------------------------------------
    def _query(self, prefix: str | None) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "#pk = :pk" + (" AND begins_with(#sk, :p)" if prefix else ""),
            "ExpressionAttributeNames": {"#pk": PK, **({"#sk": SK} if prefix else {})},
            "ExpressionAttributeValues": {
                ":pk": {"S": self.endpoint},
                **({":p": {"S": prefix}} if prefix else {}),
            },
            "ConsistentRead": True,
        }
        items: list[dict[str, Any]] = []
        while True:
            page = self._do("query", **kwargs)
            items.extend(item_from(raw) for raw in page.get("Items", []))
            if not page.get("LastEvaluatedKey"):
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def purge(self) -> int:
        """Delete every row of this endpoint's partition (and no other) but the tombstone; the
        count deleted. ``mark_deleted`` first, or a late writer may re-create rows."""
        keys = [str(item[SK]) for item in self._query(None) if item[SK] != TOMBSTONE_KEY]
        for start in range(0, len(keys), 25):  # BatchWriteItem takes 25 requests at most
            requests = [
                {"DeleteRequest": {"Key": self._key(sk)}} for sk in keys[start : start + 25]
            ]
            pending: dict[str, Any] = {self._table: requests}
            for attempt in range(5):
                from botocore.exceptions import BotoCoreError, ClientError

                if attempt:
                    self._sleep(PURGE_BACKOFF_BASE_S * 2 ** (attempt - 1))

                try:
                    result = self._db.batch_write_item(RequestItems=pending)
                except (ClientError, BotoCoreError) as exc:
                    raise StateUnavailable(f"batch_write_item on {self._table}: {exc}") from exc
                pending = result.get("UnprocessedItems") or {}
                if not pending:
                    break
            if pending:
                raise StateUnavailable(f"{len(pending[self._table])} rows left unprocessed")
        return len(keys)
