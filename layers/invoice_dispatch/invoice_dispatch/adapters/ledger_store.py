"""The receivables ledger on the billing table (the same single table as ``dynamodb_store``).

Item shapes (PK / SK):
  ``RECEIVABLE#<number>`` / ``RECEIVABLE``     one finalized invoice as collections sees it:
                                               gross, due date, per-kind totals, open amount,
                                               ``entry_count`` (its version)
  ``RECEIVABLE#<number>`` / ``ENTRY#<nnnnnn>`` its ledger entries, numbered 1, 2, ... in the
                                               order they were recorded; never updated but
                                               for the ERP's receipt (``erp_id``)
  ``POSTING#<key>``       / ``POSTING``        one business event applied once (a bank entry,
                                               a webhook event): its outcome and allocations
  ``RECEIVABLES#ADMISSION`` / ``CURSOR``       until when finished runs were admitted

Keyed by the invoice *number*, not the invoice id: every payment names the number (that is
what the customer sees and writes in the transfer), so matching a payment is one batch
read, with no number-to-invoice lookup item.

GSI4 (``GSI4PK``, ``GSI4SK``), sparse, projecting ALL: the receivables' work lists.
  ``RECEIVABLES#unsettled`` / ``<due date>#<number>``  receivables whose open amount is not
      zero (owed, or overpaid and owed back), oldest due date first: the daily collections
      run's list. The entry is set or removed by the same update that moves the amount.
  ``LEDGER#erp_pending`` / ``<recorded at>#<number>#<n>``  payments and write-offs the ERP
      has not booked yet; removed by the write that records the ERP's receipt.
  ``PAYMENTS#exceptions`` / ``<received on>#<key>``  postings no invoice could take
      (unmatched or ambiguous): the payments exception list.
  ``RECEIVABLES#newly_settled`` / ``<settled at>#<number>``  receivables an entry has just
      settled, until the collections run announces them ("paid"; ``collections_store``).
  ``PAYMENTS#MATCHING`` / ``DAY#<received on>#<shard>`` (no index): how many payments were
  matched automatically and how many went to a person, written in the posting's transaction.
Why a sparse index rather than a scan or a query per period: the collections run reads
only what is unsettled, and what is settled leaves the index (it costs nothing to keep
a paid invoice). Why ALL rather than keys only (the invoice indexes project keys only):
those are written on every lifecycle step and read once per run, so projecting the item
tripled the writes for nothing; a receivable is updated once or twice in its life but
read by every daily run, so reading the index page itself (about ten receivables per
read unit) instead of a batch read per page (one unit each) is the cheaper side. Items
here are a few hundred bytes, so the projected copy costs one write unit per change.

Every entry is written once, in one transaction with its posting and the receivable's
new totals: the posting's ``attribute_not_exists`` makes a replay cancel the whole
transaction (nothing changes), and the receivable's ``entry_count`` condition makes two
payments arriving together for the same invoice apply one after the other, never
overwriting each other's totals. A transaction holds at most 100 items, so one posting
pays at most ``MAX_INVOICES_PER_POSTING`` invoices.

Nothing here is written by the monthly run: receivables are opened by the admission
step (``workflow/receivables_admission.py``), outside the run's per-invoice write path.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from invoice_dispatch.money import quantum
from invoice_dispatch.receivables import (
    ERP_BOOKED_KINDS,
    EntryKind,
    LedgerEntry,
    Posting,
    Receivable,
)

#: One item for the posting and one for the day's matching tally, then an update and an
#: entry per invoice: 2 + 2 x 49 <= 100.
MAX_INVOICES_PER_POSTING = 49
#: Payments (not credit notes) are tallied per day, spread over this many items so that
#: payments arriving together seldom contend for one item in their transactions.
MATCHING_SHARDS = 8
PAYMENT_SOURCES = frozenset({"bank statement", "payments webhook"})

_RECEIVABLE = "RECEIVABLE"
_POSTING = "POSTING"
_UNSETTLED = "RECEIVABLES#unsettled"
_ERP_PENDING = "LEDGER#erp_pending"
_EXCEPTIONS = "PAYMENTS#exceptions"
_SETTLED_NEWS = "RECEIVABLES#newly_settled"
_CURSOR_KEY = {"PK": "RECEIVABLES#ADMISSION", "SK": "CURSOR"}
MATCHING_PK = "PAYMENTS#MATCHING"
#: Items per page of a work list: a page of ALL-projected receivables stays near 40 KB.
_PAGE = 100


class Recorded(StrEnum):
    """What ``record_posting`` did."""

    WRITTEN = "written"
    DUPLICATE = "duplicate"  # the posting was already recorded: nothing changed
    CONFLICT = "conflict"  # a receivable moved meanwhile: read again, match again


def _receivable_pk(number: str) -> str:
    return f"RECEIVABLE#{number}"


def _entry_sk(sequence: int) -> str:
    return f"ENTRY#{sequence:06d}"


def _posting_key(key: str) -> dict[str, str]:
    return {"PK": f"POSTING#{key}", "SK": _POSTING}


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class LedgerStore:
    """The one adapter that knows how receivables, entries and postings are stored."""

    def __init__(self, table: Any) -> None:
        self._table = table
        self._client = table.meta.client

    # -------------------------------------------------------------- receivables
    def open_receivables(self, receivables: Iterable[Receivable]) -> list[str]:
        """Write each receivable not stored yet; return the numbers this call wrote.

        Existing ones are found by a batch read first, so re-admitting a run costs reads
        only; the put's condition still keeps a concurrent admission from overwriting one.
        """
        wanted = {receivable.number: receivable for receivable in receivables}
        stored = self.receivables(wanted)
        written = []
        for number, receivable in wanted.items():
            if number in stored:
                continue
            try:
                self._table.put_item(
                    Item={**_receivable_item(receivable), "admitted_at": _now_iso()},
                    ConditionExpression="attribute_not_exists(PK)",
                )
            except ClientError as error:
                if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
                continue
            written.append(number)
        return written

    def receivable(self, number: str) -> Receivable | None:
        return self.receivables([number]).get(number)

    def receivables(self, numbers: Iterable[str]) -> dict[str, Receivable]:
        """Batch reads, 100 keys per call, strongly consistent (a payment reads its version)."""
        return {
            item["number"]: receivable_from_item(item)
            for item in receivable_items(self._table, numbers)
        }

    def unsettled_receivables(self, due_until: date | None = None) -> Iterator[Receivable]:
        """Receivables with an open amount (owed or overpaid), oldest due date first."""
        condition = Key("GSI4PK").eq(_UNSETTLED)
        if due_until is not None:
            condition = condition & Key("GSI4SK").lt(f"{due_until.isoformat()}#\uffff")
        for item in self._work_list(condition):
            yield receivable_from_item(item)

    def entries(self, number: str) -> list[LedgerEntry]:
        """The invoice's ledger, in the order its entries were recorded."""
        query: dict[str, Any] = {
            "KeyConditionExpression": Key("PK").eq(_receivable_pk(number))
            & Key("SK").begins_with("ENTRY#"),
            "ConsistentRead": True,
        }
        entries: list[LedgerEntry] = []
        while True:
            response = self._table.query(**query)
            entries += [_entry_from(item) for item in response["Items"]]
            if "LastEvaluatedKey" not in response:
                return entries
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    # ----------------------------------------------------------------- postings
    def posting(self, key: str) -> Posting | None:
        item = self._table.get_item(Key=_posting_key(key), ConsistentRead=True).get("Item")
        return Posting.model_validate_json(item["posting"]) if item else None

    def record_posting(self, posting: Posting, receivables: dict[str, Receivable]) -> Recorded:
        """Write the posting, its entries and the receivables' new totals, all or nothing.

        ``receivables`` are the ones the posting was matched against, as read: if any of
        them moved since (another payment), the transaction is cancelled and the caller
        matches again on fresh data (``CONFLICT``).
        """
        if len(posting.allocations) > MAX_INVOICES_PER_POSTING:
            raise ValueError(
                f"A posting pays at most {MAX_INVOICES_PER_POSTING} invoices in one transaction"
            )
        now = _now_iso()
        posting_item: dict[str, Any] = {
            **_posting_key(posting.key),
            "posting": posting.model_dump_json(),
            "outcome": posting.outcome.value,
            "recorded_at": now,
        }
        if posting.is_exception:
            posting_item["GSI4PK"] = _EXCEPTIONS
            posting_item["GSI4SK"] = f"{posting.received_on.isoformat()}#{posting.key}"
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._table.name,
                    "Item": posting_item,
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            }
        ]
        refund = any(a.entry.kind is EntryKind.REFUND for a in posting.allocations)
        if posting.source in PAYMENT_SOURCES and not refund:
            items.append({"Update": self._matching_tally(posting)})
        for allocation in posting.allocations:
            before = receivables[allocation.number]
            after = before.record(allocation.entry)
            items.append({"Update": self._versioned_update(before, after)})
            items.append(
                {
                    "Put": {
                        "TableName": self._table.name,
                        "Item": _entry_item(
                            allocation.number, after.entry_count, allocation.entry, posting.key, now
                        ),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                }
            )
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as error:
            if error.response["Error"]["Code"] not in (
                "TransactionCanceledException",
                "TransactionConflictException",
            ):
                raise
            reasons = error.response.get("CancellationReasons") or []
            if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                return Recorded.DUPLICATE
            return Recorded.CONFLICT
        return Recorded.WRITTEN

    def _matching_tally(self, posting: Posting) -> dict[str, Any]:
        """One more payment matched automatically, or one more a person must match, on the
        day it was received: the automated collection success rate's two counts
        (``collections/kpis.py``). In the posting's transaction, so a replay adds nothing."""
        shard = int(hashlib.sha256(posting.key.encode()).hexdigest(), 16) % MATCHING_SHARDS
        counter = "needs_person" if posting.is_exception else "automatic"
        return {
            "TableName": self._table.name,
            "Key": {"PK": MATCHING_PK, "SK": f"DAY#{posting.received_on.isoformat()}#{shard}"},
            "UpdateExpression": "ADD #counter :one",
            "ExpressionAttributeNames": {"#counter": counter},
            "ExpressionAttributeValues": {":one": 1},
        }

    def _versioned_update(self, before: Receivable, after: Receivable) -> dict[str, Any]:
        """The receivable's new totals, on the condition that it is still at ``before``."""
        values: dict[str, Any] = {
            ":version": before.entry_count,
            ":count": after.entry_count,
            ":totals": {kind.value: amount for kind, amount in after.totals.items()},
            ":dispute": after.dispute_open,
            ":open": after.open_amount,
        }
        update = "SET totals = :totals, dispute_open = :dispute, entry_count = :count, "
        update += "open_amount = :open"
        index_entry = _unsettled_entry(after)
        if not index_entry and before.open_amount != 0:
            # Settled by this entry: on the newly-settled list until the collections run
            # has announced it (its "paid" notification), then off every list.
            index_entry = {"GSI4PK": _SETTLED_NEWS, "GSI4SK": f"{_now_iso()}#{after.number}"}
        if index_entry:
            update += ", GSI4PK = :list, GSI4SK = :sort"
            values.update({":list": index_entry["GSI4PK"], ":sort": index_entry["GSI4SK"]})
        elif before.open_amount != 0:
            update += " REMOVE GSI4PK, GSI4SK"
        return {
            "TableName": self._table.name,
            "Key": {"PK": _receivable_pk(after.number), "SK": _RECEIVABLE},
            "UpdateExpression": update,
            "ConditionExpression": "entry_count = :version",
            "ExpressionAttributeValues": values,
        }

    def payment_exceptions(self) -> Iterator[Posting]:
        """Payments no invoice could take, oldest first, each with its sentence."""
        for item in self._work_list(Key("GSI4PK").eq(_EXCEPTIONS)):
            yield Posting.model_validate_json(item["posting"])

    # ---------------------------------------------------------------------- ERP
    def entries_awaiting_erp(self) -> Iterator[tuple[str, int, LedgerEntry]]:
        """(invoice number, entry number, entry) of payments and write-offs not yet booked."""
        for item in self._work_list(Key("GSI4PK").eq(_ERP_PENDING)):
            yield item["number"], int(item["sequence"]), _entry_from(item)

    def record_erp_booked(self, number: str, sequence: int, erp_id: str) -> None:
        """The ERP's receipt; the entry leaves the pending list in the same write."""
        self._table.update_item(
            Key={"PK": _receivable_pk(number), "SK": _entry_sk(sequence)},
            UpdateExpression="SET erp_id = :erp_id, erp_at = :now REMOVE GSI4PK, GSI4SK",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues={":erp_id": erp_id, ":now": _now_iso()},
        )

    # ---------------------------------------------------------------- admission
    def admission_cursor(self) -> datetime | None:
        item = self._table.get_item(Key=_CURSOR_KEY, ConsistentRead=True).get("Item")
        return datetime.fromisoformat(item["admitted_through"]) if item else None

    def set_admission_cursor(self, admitted_through: datetime) -> None:
        self._table.put_item(Item={**_CURSOR_KEY, "admitted_through": admitted_through.isoformat()})

    # ------------------------------------------------------------------ helpers
    def _work_list(self, condition: Any) -> Iterator[dict[str, Any]]:
        return work_list(self._table, condition)


def receivable_items(
    table: Any, numbers: Iterable[str], sort_key: str = _RECEIVABLE
) -> Iterator[dict[str, Any]]:
    """The receivables' items (or their ``sort_key`` siblings, such as ``AUTOPAY``),
    batch-read 100 keys per call, strongly consistent."""
    keys = [{"PK": _receivable_pk(number), "SK": sort_key} for number in dict.fromkeys(numbers)]
    for start in range(0, len(keys), 100):
        request: dict[str, Any] = {
            table.name: {"Keys": keys[start : start + 100], "ConsistentRead": True}
        }
        while request:
            response = table.meta.client.batch_get_item(RequestItems=request)
            yield from response["Responses"].get(table.name, [])
            request = response.get("UnprocessedKeys") or {}


def work_list(table: Any, condition: Any) -> Iterator[dict[str, Any]]:
    """The items of one GSI4 work list, a page at a time (the lists are sparse, ALL-projected)."""
    query: dict[str, Any] = {
        "IndexName": "GSI4",
        "KeyConditionExpression": condition,
        "Limit": _PAGE,
    }
    while True:
        response = table.query(**query)
        yield from response["Items"]
        if "LastEvaluatedKey" not in response:
            return
        query["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _receivable_item(receivable: Receivable) -> dict[str, Any]:
    item: dict[str, Any] = {
        "PK": _receivable_pk(receivable.number),
        "SK": _RECEIVABLE,
        "number": receivable.number,
        "invoice_id": receivable.invoice_id,
        "account_id": receivable.account_id,
        "customer_name": receivable.customer_name,
        "currency": receivable.currency,
        "gross": receivable.gross,
        "issue_date": receivable.issue_date.isoformat(),
        "due_date": receivable.due_date.isoformat(),
        "totals": {kind.value: amount for kind, amount in receivable.totals.items()},
        "dispute_open": receivable.dispute_open,
        "entry_count": receivable.entry_count,
        "open_amount": receivable.open_amount,
        **_unsettled_entry(receivable),
    }
    return item


def _unsettled_entry(receivable: Receivable) -> dict[str, str]:
    """The work-list entry of a receivable with an open amount; none once it is settled."""
    if receivable.open_amount == 0:
        return {}
    return {
        "GSI4PK": _UNSETTLED,
        "GSI4SK": f"{receivable.due_date.isoformat()}#{receivable.number}",
    }


def receivable_from_item(item: dict[str, Any]) -> Receivable:
    """DynamoDB hands numbers back normalized (119.00 as 119): back to the minor unit."""
    unit = quantum(item["currency"])
    return Receivable(
        number=item["number"],
        invoice_id=item["invoice_id"],
        account_id=item["account_id"],
        customer_name=item["customer_name"],
        currency=item["currency"],
        gross=Decimal(item["gross"]).quantize(unit),
        issue_date=date.fromisoformat(item["issue_date"]),
        due_date=date.fromisoformat(item["due_date"]),
        totals={
            EntryKind(kind): Decimal(amount).quantize(unit)
            for kind, amount in item.get("totals", {}).items()
        },
        dispute_open=bool(item.get("dispute_open", False)),
        entry_count=int(item["entry_count"]),
    )


def _entry_item(
    number: str, sequence: int, entry: LedgerEntry, posting_key: str, recorded_at: str
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "PK": _receivable_pk(number),
        "SK": _entry_sk(sequence),
        "number": number,
        "sequence": sequence,
        "posting_key": posting_key,
        "recorded_at": recorded_at,
        "entry": entry.model_dump_json(),
    }
    if entry.kind in ERP_BOOKED_KINDS:
        item["GSI4PK"] = _ERP_PENDING
        item["GSI4SK"] = f"{recorded_at}#{number}#{sequence:06d}"
    return item


def _entry_from(item: dict[str, Any]) -> LedgerEntry:
    return LedgerEntry.model_validate_json(item["entry"])
