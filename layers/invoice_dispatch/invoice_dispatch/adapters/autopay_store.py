"""The payment run's records on the billing table, beside the receivables ledger.

Item shapes (PK / SK):
  ``RECEIVABLE#<number>`` / ``AUTOPAY``  one invoice's auto-pay state (``autopay/``): its
      means, attempts, next attempt day, the attempt asked and not answered yet
      (``pending_key``, the condition every write checks) and the history. While it is
      collecting it is on the sparse list ``AUTOPAY#due`` / ``<next attempt>#<number>``
      (GSI4), which the daily plan reads up to today and nothing else.
  ``RECEIVABLE#<number>`` / ``RECEIVABLE`` carries ``autopay_status`` beside the ledger, so
      the reminders' plan (which reads only the unsettled list's pages) holds reminders
      while auto-pay is collecting, with no read of its own.
  ``AUTOPAY#TALLY`` / ``DAY#<first attempt>#<currency>#<shard>``  invoices attempted,
      collected and handed over, and the amount collected, counted by the day of each
      invoice's first answered attempt: the automated collection success rate's counts.
      Written in the same transaction as the state change they count, so a retry adds
      nothing twice.

Every write is conditional on the state it was decided on (the pending key and the
number of answered attempts): two runs the same day, or a retried chunk, cannot both
claim an attempt or both count an answer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from invoice_dispatch.adapters.ledger_store import (
    receivable_from_item,
    receivable_items,
    work_list,
)
from invoice_dispatch.autopay import AutoPayState, AutoPayStatus
from invoice_dispatch.receivables import Receivable

_AUTOPAY = "AUTOPAY"
_DUE = "AUTOPAY#due"
TALLY_PK = "AUTOPAY#TALLY"
_SHARDS = 8
_COUNTERS = ("attempted", "collected", "handed_over", "collected_amount")


@dataclass(frozen=True)
class TallyRow:
    """One currency's auto-pay counts over a window."""

    attempted: int = 0
    collected: int = 0
    handed_over: int = 0
    collected_amount: Decimal = Decimal(0)


def _key(number: str) -> dict[str, str]:
    return {"PK": f"RECEIVABLE#{number}", "SK": _AUTOPAY}


def _cancelled(error: ClientError) -> bool:
    return error.response["Error"]["Code"] in (
        "ConditionalCheckFailedException",
        "TransactionCanceledException",
    )


class AutoPayStore:
    def __init__(self, table: Any) -> None:
        self._table = table
        self._client = table.meta.client

    def enroll(self, state: AutoPayState) -> bool:
        """Put the invoice on the payment run's list and hold its reminders; once."""
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table.name,
                            "Item": {**_key(state.number), **self._attributes(state)},
                            "ConditionExpression": "attribute_not_exists(PK)",
                        }
                    },
                    {"Update": self._receivable_status(state)},
                ]
            )
        except ClientError as error:
            if not _cancelled(error):
                raise
            return False
        return True

    def due(self, as_of: date) -> Iterator[str]:
        """Numbers of the invoices whose next attempt is due by ``as_of``, oldest first."""
        condition = Key("GSI4PK").eq(_DUE) & Key("GSI4SK").lte(f"{as_of.isoformat()}#\uffff")
        for item in work_list(self._table, condition):
            yield str(item["number"])

    def fresh(self, numbers: Iterable[str]) -> dict[str, tuple[Receivable, AutoPayState]]:
        """Each invoice's receivable and auto-pay state, strongly consistent."""
        wanted = list(numbers)
        receivables = {
            item["number"]: receivable_from_item(item)
            for item in receivable_items(self._table, wanted)
        }
        return {
            state.number: (receivables[state.number], state)
            for state in (
                AutoPayState.model_validate_json(item["state"])
                for item in receivable_items(self._table, wanted, _AUTOPAY)
            )
            if state.number in receivables
        }

    def save(
        self, before: AutoPayState, after: AutoPayState, tally: dict[str, Any] | None = None
    ) -> bool:
        """Write ``after`` if the stored state is still ``before``; False if it moved.

        The receivable's ``autopay_status`` and the tally change in the same transaction.
        """
        update = self._state_update(before, after)
        items: list[dict[str, Any]] = []
        if after.status is not before.status:
            items.append({"Update": self._receivable_status(after)})
        if tally:
            items.append({"Update": self._tally_update(after, tally)})
        try:
            if not items:
                self._table.update_item(**{k: v for k, v in update.items() if k != "TableName"})
            else:
                self._client.transact_write_items(TransactItems=[{"Update": update}, *items])
        except ClientError as error:
            if not _cancelled(error):
                raise
            return False
        return True

    def tallies_between(self, first: date, last: date) -> dict[str, TallyRow]:
        """Per currency, the invoices first attempted from ``first`` to ``last``."""
        rows: dict[str, dict[str, Any]] = {}
        query: dict[str, Any] = {
            "KeyConditionExpression": Key("PK").eq(TALLY_PK)
            & Key("SK").between(f"DAY#{first.isoformat()}", f"DAY#{last.isoformat()}#~"),
        }
        while True:
            response = self._table.query(**query)
            for item in response["Items"]:
                currency = str(item["SK"]).split("#")[2]
                row = rows.setdefault(currency, dict.fromkeys(_COUNTERS, 0))
                for counter in _COUNTERS:
                    row[counter] += Decimal(item.get(counter, 0))
            if "LastEvaluatedKey" not in response:
                break
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return {
            currency: TallyRow(
                attempted=int(row["attempted"]),
                collected=int(row["collected"]),
                handed_over=int(row["handed_over"]),
                collected_amount=Decimal(row["collected_amount"]),
            )
            for currency, row in sorted(rows.items())
        }

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _attributes(state: AutoPayState) -> dict[str, Any]:
        attributes: dict[str, Any] = {
            "number": state.number,
            "state": state.model_dump_json(),
            "status": state.status.value,
            "attempts": state.attempts,
        }
        if state.status is AutoPayStatus.COLLECTING:
            attributes["GSI4PK"] = _DUE
            attributes["GSI4SK"] = f"{state.next_attempt_on.isoformat()}#{state.number}"
        if state.pending is not None:
            attributes["pending_key"] = state.pending.idempotency_key
        return attributes

    def _state_update(self, before: AutoPayState, after: AutoPayState) -> dict[str, Any]:
        attributes = self._attributes(after)
        names = {f"#a{index}": name for index, name in enumerate(attributes)}
        values: dict[str, Any] = {f":a{index}": v for index, v in enumerate(attributes.values())}
        update = "SET " + ", ".join(f"#a{index} = :a{index}" for index in range(len(attributes)))
        removed = [name for name in ("GSI4PK", "GSI4SK", "pending_key") if name not in attributes]
        if removed:
            names.update({f"#r{index}": name for index, name in enumerate(removed)})
            update += " REMOVE " + ", ".join(f"#r{index}" for index in range(len(removed)))
        names["#attempts_now"] = "attempts"
        values[":attempts_before"] = before.attempts
        condition = "#attempts_now = :attempts_before AND "
        if before.pending is None:
            names["#pending_now"] = "pending_key"
            condition += "attribute_not_exists(#pending_now)"
        else:
            names["#pending_now"] = "pending_key"
            values[":pending_before"] = before.pending.idempotency_key
            condition += "#pending_now = :pending_before"
        return {
            "TableName": self._table.name,
            "Key": _key(after.number),
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }

    def _receivable_status(self, state: AutoPayState) -> dict[str, Any]:
        return {
            "TableName": self._table.name,
            "Key": {"PK": f"RECEIVABLE#{state.number}", "SK": "RECEIVABLE"},
            "UpdateExpression": "SET autopay_status = :status",
            "ConditionExpression": "attribute_exists(PK)",
            "ExpressionAttributeValues": {":status": state.status.value},
        }

    def _tally_update(self, state: AutoPayState, tally: dict[str, Any]) -> dict[str, Any]:
        shard = int(hashlib.sha256(state.number.encode()).hexdigest(), 16) % _SHARDS
        day = (state.first_attempt_on or state.next_attempt_on).isoformat()
        names = {f"#c{index}": name for index, name in enumerate(tally)}
        return {
            "TableName": self._table.name,
            "Key": {"PK": TALLY_PK, "SK": f"DAY#{day}#{state.currency}#{shard}"},
            "UpdateExpression": "ADD "
            + ", ".join(f"#c{index} :c{index}" for index in range(len(tally))),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {
                f":c{index}": value for index, value in enumerate(tally.values())
            },
        }
