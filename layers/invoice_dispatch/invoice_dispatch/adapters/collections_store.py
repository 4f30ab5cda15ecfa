"""The collections run's records on the billing table, beside the receivables ledger.

Item shapes (PK / SK):
  ``RECEIVABLE#<number>`` / ``RECEIVABLE``  the receivable (``ledger_store.py``) also holds
      what collections needs to plan: ``last_stage`` (the offset of the latest reminder),
      ``last_reminded_on``, ``paused_until`` (a promise to pay) and ``escalation_id``. On the
      receivable, not beside it, because the daily plan reads the unsettled list's index
      pages and nothing else: a per-invoice read would cost a unit per invoice per day.
  ``RECEIVABLE#<number>`` / ``REMINDER#<offset+1000>``  one reminder: written once by the
      conditional put that claims the stage (a second run the same day finds it and sends
      nothing), then ``sent`` with SES's message id, then SES's delivery events.
  ``ESCALATION#<account>:<day>`` / ``ESCALATION``  one escalation and, once decided, its
      decision; on the sparse list ``ESCALATIONS#open`` / ``<opened on>#<id>`` (GSI4) while open.
  ``RECEIVABLES#SALES`` / ``RUN#<run id>``  the gross of the invoices each monthly run
      issued, per issue day and currency: DSO's credit sales, without reading settled
      receivables (they leave every index).
  ``COLLECTIONS#NOTIFY`` / ``DUE_CURSOR``  the last day whose due invoices were announced.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from invoice_dispatch.adapters.ledger_store import (
    MATCHING_PK,
    receivable_from_item,
    receivable_items,
    work_list,
)
from invoice_dispatch.collections.escalation import Escalation, RecordedDecision, ReminderRecord
from invoice_dispatch.collections.stages import CollectionState
from invoice_dispatch.events import CollectionsRun
from invoice_dispatch.invoice import DeliveryStatus
from invoice_dispatch.lifecycle import delivery_entered_from
from invoice_dispatch.receivables import Receivable

_RECEIVABLE = "RECEIVABLE"
_UNSETTLED = "RECEIVABLES#unsettled"
_SETTLED_NEWS = "RECEIVABLES#newly_settled"
_OPEN_ESCALATIONS = "ESCALATIONS#open"
_SALES_PK = "RECEIVABLES#SALES"
_DUE_CURSOR = {"PK": "COLLECTIONS#NOTIFY", "SK": "DUE_CURSOR"}
#: Reminder sort keys stay in day order for offsets from -999 to +8999.
_OFFSET_BASE = 1000


class Claim(StrEnum):
    CLAIMED = "claimed"
    TAKEN = "taken"
    #: This run sent it already: its chunk is being retried after throttling.
    SENT_BY_THIS_RUN = "sent_by_this_run"


def _receivable_key(number: str) -> dict[str, str]:
    return {"PK": f"RECEIVABLE#{number}", "SK": _RECEIVABLE}


def _reminder_key(number: str, offset: int) -> dict[str, str]:
    return {"PK": f"RECEIVABLE#{number}", "SK": f"REMINDER#{offset + _OFFSET_BASE:04d}"}


def _escalation_key(escalation_id: str) -> dict[str, str]:
    return {"PK": f"ESCALATION#{escalation_id}", "SK": "ESCALATION"}


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _failed_condition(error: ClientError) -> bool:
    return error.response["Error"]["Code"] == "ConditionalCheckFailedException"


def state_from_item(item: dict[str, Any]) -> CollectionState:
    def day(name: str) -> date | None:
        return date.fromisoformat(item[name]) if item.get(name) else None

    return CollectionState(
        last_stage=int(item["last_stage"]) if "last_stage" in item else None,
        last_reminded_on=day("last_reminded_on"),
        paused_until=day("paused_until"),
        escalation_id=item.get("escalation_id"),
        autopay_collecting=item.get("autopay_status") == "collecting",
    )


class CollectionsStore:
    def __init__(self, table: Any) -> None:
        self._table = table

    # ------------------------------------------------------------- the plan
    def unsettled(
        self, due_after: date | None = None, due_until: date | None = None
    ) -> Iterator[tuple[Receivable, CollectionState]]:
        """Receivables with an open amount and their collection state, oldest due first."""
        condition = Key("GSI4PK").eq(_UNSETTLED)
        low = f"{due_after.isoformat()}#\uffff" if due_after else "0"
        high = f"{due_until.isoformat()}#\uffff" if due_until else "\uffff"
        condition = condition & Key("GSI4SK").between(low, high)
        for item in work_list(self._table, condition):
            yield receivable_from_item(item), state_from_item(item)

    def states(self, numbers: Iterable[str]) -> dict[str, tuple[Receivable, CollectionState]]:
        """Fresh (strongly consistent) receivables and states: a sender checks again."""
        return {
            item["number"]: (receivable_from_item(item), state_from_item(item))
            for item in receivable_items(self._table, numbers)
        }

    # ------------------------------------------------------------ reminders
    def claim_reminder(
        self, number: str, offset: int, run: CollectionsRun, recipient: str
    ) -> Claim:
        """The stage's one reminder; any earlier claim keeps it (a stage is never re-sent)."""
        try:
            self._table.put_item(
                Item={
                    **_reminder_key(number, offset),
                    "number": number,
                    "offset": offset,
                    "sent_on": run.as_of.isoformat(),
                    "run_id": run.run_id,
                    "status": "claimed",
                    "recipient": recipient,
                    "claimed_at": _now_iso(),
                },
                ConditionExpression="attribute_not_exists(PK)",
            )
        except ClientError as error:
            if not _failed_condition(error):
                raise
            earlier = self._table.get_item(
                Key=_reminder_key(number, offset), ConsistentRead=True
            ).get("Item", {})
            if earlier.get("run_id") == run.run_id and earlier.get("status") == "sent":
                return Claim.SENT_BY_THIS_RUN
            return Claim.TAKEN
        return Claim.CLAIMED

    def release_reminder(self, number: str, offset: int) -> None:
        """SES was throttled: give the claim back, so the retried chunk sends it."""
        try:
            self._table.delete_item(
                Key=_reminder_key(number, offset),
                ConditionExpression="#status = :claimed",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":claimed": "claimed"},
            )
        except ClientError as error:
            if not _failed_condition(error):
                raise

    def record_reminder(
        self, number: str, offset: int, as_of: date, message_id: str | None, failure: str = ""
    ) -> None:
        """The reminder's outcome, and the receivable's latest stage (never moved back)."""
        status = "sent" if message_id else "failed"
        update = "SET #status = :status, detail = :detail"
        values: dict[str, Any] = {":status": status, ":detail": failure}
        if message_id:
            update += ", message_id = :message_id, delivery_status = :sent"
            values.update({":message_id": message_id, ":sent": DeliveryStatus.SENT.value})
        self._table.update_item(
            Key=_reminder_key(number, offset),
            UpdateExpression=update,
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=values,
        )
        try:
            self._table.update_item(
                Key=_receivable_key(number),
                UpdateExpression="SET last_stage = :offset, last_reminded_on = :day",
                ConditionExpression="attribute_exists(PK) AND "
                "(attribute_not_exists(last_stage) OR last_stage < :offset)",
                ExpressionAttributeValues={":offset": offset, ":day": as_of.isoformat()},
            )
        except ClientError as error:
            if not _failed_condition(error):
                raise

    def record_reminder_delivery(
        self, number: str, offset: int, status: DeliveryStatus, detail: str, message_id: str
    ) -> bool:
        """SES's event about a reminder, on the reminder (never on the invoice's own e-mail);
        a status is only entered from the ones before it, so a late event changes nothing."""
        allowed = delivery_entered_from(status)
        names = {f":from{index}": value for index, value in enumerate(allowed)}
        try:
            self._table.update_item(
                Key=_reminder_key(number, offset),
                UpdateExpression="SET delivery_status = :status, delivery_detail = :detail",
                ConditionExpression=f"message_id = :message_id AND delivery_status IN "
                f"({', '.join(names)})",
                ExpressionAttributeValues={
                    ":status": status.value,
                    ":detail": detail,
                    ":message_id": message_id,
                    **names,
                },
            )
        except ClientError as error:
            if _failed_condition(error):
                return False
            raise
        return True

    def reminders(self, number: str) -> list[ReminderRecord]:
        """The invoice's reminder history, in stage order."""
        response = self._table.query(
            KeyConditionExpression=Key("PK").eq(f"RECEIVABLE#{number}")
            & Key("SK").begins_with("REMINDER#"),
            ConsistentRead=True,
        )
        return [
            ReminderRecord(
                stage=f"{int(item['offset']):+d}",
                sent_on=date.fromisoformat(item["sent_on"]),
                status=str(item.get("delivery_status") or item["status"]),
                recipient=str(item.get("recipient", "")),
                detail=str(item.get("delivery_detail") or item.get("detail", "")),
            )
            for item in response["Items"]
        ]

    # ---------------------------------------------------------- escalations
    def open_escalation(self, escalation: Escalation) -> bool:
        """Write the escalation once and put its invoices with a person; False if it exists."""
        try:
            self._table.put_item(
                Item={
                    **_escalation_key(escalation.escalation_id),
                    "escalation": escalation.model_dump_json(),
                    "status": "open",
                    "notified": False,
                    "GSI4PK": _OPEN_ESCALATIONS,
                    "GSI4SK": f"{escalation.opened_on.isoformat()}#{escalation.escalation_id}",
                },
                ConditionExpression="attribute_not_exists(PK)",
            )
            created = True
        except ClientError as error:
            if not _failed_condition(error):
                raise
            created = False
        for number in escalation.numbers:
            self._set_on_receivable(
                number,
                "SET escalation_id = :id",
                "attribute_not_exists(escalation_id) OR escalation_id = :id",
                {":id": escalation.escalation_id},
            )
        return created

    def escalation(self, escalation_id: str) -> tuple[Escalation, bool] | None:
        """The escalation and whether its people were told already."""
        item = self._table.get_item(Key=_escalation_key(escalation_id), ConsistentRead=True).get(
            "Item"
        )
        if item is None:
            return None
        return Escalation.model_validate_json(item["escalation"]), bool(item.get("notified"))

    def mark_notified(self, escalation_id: str) -> None:
        self._table.update_item(
            Key=_escalation_key(escalation_id),
            UpdateExpression="SET notified = :yes",
            ExpressionAttributeValues={":yes": True},
        )

    def open_escalations(self) -> Iterator[Escalation]:
        for item in work_list(self._table, Key("GSI4PK").eq(_OPEN_ESCALATIONS)):
            yield Escalation.model_validate_json(item["escalation"])

    def close_escalation(self, escalation: Escalation, decision: RecordedDecision) -> bool:
        """Record the decision once; False if the escalation was closed meanwhile."""
        closed = escalation.model_copy(update={"status": "closed", "decision": decision})
        try:
            self._table.update_item(
                Key=_escalation_key(escalation.escalation_id),
                UpdateExpression="SET escalation = :escalation, #status = :closed "
                "REMOVE GSI4PK, GSI4SK",
                ConditionExpression="#status = :open",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":escalation": closed.model_dump_json(),
                    ":closed": "closed",
                    ":open": "open",
                },
            )
        except ClientError as error:
            if _failed_condition(error):
                return False
            raise
        return True

    def release(self, number: str, escalation_id: str, paused_until: date | None) -> None:
        """Back to automation (after a promise, with reminders paused until its date)."""
        update = "REMOVE escalation_id"
        values: dict[str, Any] = {":id": escalation_id}
        if paused_until:
            update = "SET paused_until = :until " + update
            values[":until"] = paused_until.isoformat()
        self._set_on_receivable(number, update, "escalation_id = :id", values)

    def _set_on_receivable(
        self, number: str, update: str, condition: str, values: dict[str, Any]
    ) -> None:
        try:
            self._table.update_item(
                Key=_receivable_key(number),
                UpdateExpression=update,
                ConditionExpression=f"attribute_exists(PK) AND ({condition})",
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if not _failed_condition(error):
                raise

    # ------------------------------------------------------------ news
    def newly_settled(self) -> Iterator[Receivable]:
        for item in work_list(self._table, Key("GSI4PK").eq(_SETTLED_NEWS)):
            yield receivable_from_item(item)

    def settled_news_told(self, number: str) -> None:
        """Off the newly-settled list, unless an entry moved it onto another list since."""
        self._set_on_receivable(
            number,
            "REMOVE GSI4PK, GSI4SK",
            "GSI4PK = :news",
            {":news": _SETTLED_NEWS},
        )

    def due_cursor(self) -> date | None:
        item = self._table.get_item(Key=_DUE_CURSOR, ConsistentRead=True).get("Item")
        return date.fromisoformat(item["due_through"]) if item else None

    def set_due_cursor(self, day: date) -> None:
        self._table.put_item(Item={**_DUE_CURSOR, "due_through": day.isoformat()})

    # ------------------------------------------------------------- KPIs
    def record_run_sales(self, run_id: str, sales: dict[tuple[date, str], Decimal]) -> None:
        """The run's issued gross per (issue day, currency); rewritten whole on each pass."""
        self._table.put_item(
            Item={
                "PK": _SALES_PK,
                "SK": f"RUN#{run_id}",
                "sales": [
                    {"issued_on": day.isoformat(), "currency": currency, "gross": gross}
                    for (day, currency), gross in sorted(sales.items())
                ],
            }
        )

    def sales_between(self, first: date, last: date) -> dict[str, Decimal]:
        """Gross issued per currency from ``first`` to ``last``, both included."""
        totals: dict[str, Decimal] = {}
        for item in self._partition(_SALES_PK):
            for sale in item.get("sales", []):
                if first <= date.fromisoformat(sale["issued_on"]) <= last:
                    currency = sale["currency"]
                    totals[currency] = totals.get(currency, Decimal(0)) + Decimal(sale["gross"])
        return totals

    def matching_between(self, first: date, last: date) -> tuple[int, int]:
        """(matched automatically, needed a person) of the payments received in the days."""
        automatic = needs_person = 0
        for item in self._partition(
            MATCHING_PK, Key("SK").between(f"DAY#{first.isoformat()}", f"DAY#{last.isoformat()}#~")
        ):
            automatic += int(item.get("automatic", 0))
            needs_person += int(item.get("needs_person", 0))
        return automatic, needs_person

    def _partition(self, pk: str, sort_condition: Any = None) -> Iterator[dict[str, Any]]:
        condition = Key("PK").eq(pk)
        if sort_condition is not None:
            condition = condition & sort_condition
        query: dict[str, Any] = {"KeyConditionExpression": condition}
        while True:
            response = self._table.query(**query)
            yield from response["Items"]
            if "LastEvaluatedKey" not in response:
                return
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]
