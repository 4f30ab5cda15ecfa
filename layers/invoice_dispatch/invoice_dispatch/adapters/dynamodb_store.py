"""DynamoDB single-table store for invoices, runs, number series and the audit trail.

Item shapes (PK / SK):
  ``INVOICE#<invoice_id>`` / ``DOC``            the invoice's state: status, number, lifecycle
  ``INVOICE#<invoice_id>`` / ``BODY#<run_id>``  the invoice document a run drafted (written once)
  ``INVOICE#<invoice_id>`` / ``AUDIT#<ts>#<n>`` one audit event a person or a rare path caused
  ``RUN#<run_id>``         / ``RUN``            the run record (status, counts, token, decision)
  ``SERIES#<series>``      / ``COUNTER``        last number handed out in a number series
  ``LOCK#<mode>#<scope>``  / ``LOCK``           the one run active on a period or on one
                                                milestone part (period lock); the
                                                ``scheduled:<period>`` scope is the period's
                                                scheduled run, never released
  ``RATE#ses``             / ``LANES#<n>#<µs>`` SES send slots shared by every sender: each
                                                lane's next free slot (``send_rate.py``)
GSI1 (``GSI1PK`` = ``RUN#<run_id>``, ``GSI1SK`` = account id) lists a run's invoices;
GSI2 (``GSI2PK`` = ``PERIOD#<mode>#<period>``, ``GSI2SK`` = account id) a period's; both
project keys only, and a page of keys is read back with one batch read;
GSI5 (``GSI5PK`` = ``CUSTOMER#<account id>``, ``GSI5SK`` = issue date and number), sparse
and keys-only, lists one customer's live documents for the portal: an invoice enters it
in the transaction that numbers it, a credit note in the one that issues it
(``corrections_store``); a customer's page is one query of its own partition, whatever
the number of accounts.
GSI3, sparse and keys-only, is the unfinished index (``lifecycle.py``) in two partitions:
``UNSETTLED#<mode>`` holds every run from its record's creation until its summary has
settled it (``GSI3SK`` = lock scope and run id), and ``UNFINISHED#<mode>`` the invoices a
settled (or crashed) run left with work to do (``GSI3SK`` = period and invoice id). An
invoice numbered and finished inside its own run, the normal case, never enters the
index: its run's entry covers it while the run lives, and the summary (or, after a
crash, the next run) enters only those still unfinished. That saves the two index
writes per invoice that entering at numbering and leaving at the finishing write cost.

Every state change is a conditional write, never check-then-write: that is what makes
a retried Lambda or an overlapping run unable to create a second draft, number or email
(design.md, 'Where peers got hurt').

Why the document and the state are two items: DynamoDB bills an update by the size of
the whole item, so every lifecycle step (number, PDF, claim, sent, ERP, delivery) would
pay for the 1.5-2 KB document again. The state item stays under 1 KB (one write unit per
step) and the document, compressed, is written once. The lifecycle steps are also their
own audit record: each sets its time (``numbered_at``, ``rendered_at``, ``sent_at``,
``erp_at``, ``delivered_at``) in the same write that makes the change, so the audit line
and the change cannot disagree and cost no extra write; ``audit_trail`` reads them back
as events beside the explicit ones. Issue 15 measured 61,890 write units per 1,000
invoices with the document inline, both indexes projecting it, and one audit item per step.
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from invoice_dispatch.errors import InvoiceLocked, TransientError
from invoice_dispatch.invoice import DeliveryStatus, ErpStatus, Invoice, InvoiceStatus
from invoice_dispatch.lifecycle import delivery_entered_from
from invoice_dispatch.run import ApprovalRecord, RunContext, RunStatus
from invoice_dispatch.tracking import StoredInvoice

_DOC = "DOC"
_MAX_NUMBERING_ATTEMPTS = 50
#: Invoices read per page of an index: one batch read's worth.
_INVOICES_PER_PAGE = 100
#: A transaction holds at most 100 items: the counter, then one update per invoice.
_INVOICES_PER_NUMBERING_TRANSACTION = 99


def _invoice_pk(invoice_id: str) -> str:
    return f"INVOICE#{invoice_id}"


def _run_pk(run_id: str) -> str:
    return f"RUN#{run_id}"


def _period_pk(mode: str, period: str) -> str:
    return f"PERIOD#{mode}#{period}"


def _unfinished_pk(mode: str) -> str:
    return f"UNFINISHED#{mode}"


def _unsettled_pk(mode: str) -> str:
    return f"UNSETTLED#{mode}"


#: Set by an update that leaves an invoice with work to do: it enters the unfinished index.
_ENTER_UNFINISHED_INDEX = "GSI3PK = :unfinished, GSI3SK = :unfinished_sort"


def _unfinished_entry(invoice: Invoice) -> dict[str, str]:
    """The values ``_ENTER_UNFINISHED_INDEX`` names: by mode, oldest period first."""
    return {
        ":unfinished": _unfinished_pk(invoice.mode),
        ":unfinished_sort": f"{invoice.period}#{invoice.invoice_id}",
    }


def _lock_key(mode: str, period: str) -> dict[str, str]:
    return {"PK": f"LOCK#{mode}#{period}", "SK": "LOCK"}


def customer_document_entry(document: Invoice) -> dict[str, str]:
    """The values of a numbered live document's GSI5 entry (``:customer``, ``:customer_sort``);
    none for a shadow run's, which no customer ever receives."""
    if document.mode != "live" or document.number is None or document.issue_date is None:
        return {}
    return {
        ":customer": customer_documents_pk(document.account_id),
        ":customer_sort": f"{document.issue_date.isoformat()}#{document.number}",
    }


#: Set by the update that numbers a live document (``customer_document_entry``).
ENTER_CUSTOMER_DOCUMENTS = ", GSI5PK = :customer, GSI5SK = :customer_sort"


def customer_documents_pk(account_id: str) -> str:
    return f"CUSTOMER#{account_id}"


@dataclass(frozen=True)
class CustomerDocumentsPage:
    """One page of a customer's documents, newest first: the base-table keys, and the
    sort key to continue after (None on the last page)."""

    keys: list[tuple[str, str]]
    older_than: str | None


#: Appended to an update that finishes an invoice: it leaves the unfinished index.
_LEAVE_UNFINISHED_INDEX = " REMOVE GSI3PK, GSI3SK"


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _is_condition_failure(error: ClientError) -> bool:
    return error.response["Error"]["Code"] == "ConditionalCheckFailedException"


def _written(conditional_write: Callable[[], object]) -> bool:
    """Run a conditional write: True if it happened, False if its condition said no."""
    try:
        conditional_write()
    except ClientError as error:
        if _is_condition_failure(error):
            return False
        raise
    return True


class DynamoStore:
    """The one adapter that knows the table layout; the domain sees ``StoredInvoice``."""

    def __init__(self, table: Any) -> None:
        self._table = table
        # The resource's client (de)serializes attribute values itself, so transactions
        # and batch reads below take and return plain Python values.
        self._client = table.meta.client
        self._series_hint: dict[str, int] = {}

    # ---------------------------------------------------------------- invoices
    def create_draft(self, invoice: Invoice) -> bool:
        """Write a draft unless this (account, period, mode) already has one.

        A draft may only replace a *void* one (left by a rejected run), so a rejected
        batch can be billed again after the data is fixed, while a pending, held or
        finalized invoice is never touched. Returns whether this call wrote it.

        The document goes first, under this run's own key, so the state item never points
        at a missing document; when the state's condition refuses (another run's invoice),
        this run's copy is removed.
        """
        body_key = {"PK": _invoice_pk(invoice.invoice_id), "SK": _body_sk(invoice.run_id)}
        _written(  # first write wins: a retried chunk never rewrites a document
            lambda: self._table.put_item(
                Item={**body_key, "document": _packed(invoice)},
                ConditionExpression="attribute_not_exists(PK)",
            )
        )
        item = {
            "PK": _invoice_pk(invoice.invoice_id),
            "SK": _DOC,
            "GSI1PK": _run_pk(invoice.run_id),
            "GSI1SK": invoice.account_id,
            "GSI2PK": _period_pk(invoice.mode, invoice.period),
            "GSI2SK": invoice.account_id,
            "status": invoice.status.value,
            "run_id": invoice.run_id,
            "body_sk": body_key["SK"],
            "drafted_at": _now_iso(),
            "delivery_status": DeliveryStatus.NOT_QUEUED.value,
            "erp_status": ErpStatus.NOT_POSTED.value,
        }
        written = _written(
            lambda: self._table.put_item(
                Item=item,
                ConditionExpression="attribute_not_exists(PK) OR #status = :void",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":void": InvoiceStatus.VOID.value},
            )
        )
        if not written:
            current = self._table.get_item(Key=_doc_key(invoice.invoice_id), ConsistentRead=True)
            if current.get("Item", {}).get("body_sk") != body_key["SK"]:
                self._table.delete_item(Key=body_key)
        return written

    def get_invoice(self, invoice_id: str) -> StoredInvoice | None:
        return self.get_invoices([invoice_id]).get(invoice_id)

    def get_invoices(self, invoice_ids: list[str]) -> dict[str, StoredInvoice]:
        """Batch reads (100 keys per call): the state items, then the documents they name.

        States are read strongly consistent: they decide what a step does. Documents are
        written once, before the state that names them, so an eventually consistent read
        (half the price) finds them; the rare one written too recently to be seen yet is
        read again, strongly.
        """
        states = self._states(invoice_ids)
        body_keys = [{"PK": state["PK"], "SK": state["body_sk"]} for state in states.values()]
        bodies = self.batch_get(body_keys, consistent=False)
        unseen = [key for key in body_keys if (key["PK"], key["SK"]) not in bodies]
        if unseen:
            bodies.update(self.batch_get(unseen, consistent=True))
        found: dict[str, StoredInvoice] = {}
        for (pk, _sk), state in states.items():
            body = bodies.get((pk, state["body_sk"]))
            if body is not None:
                stored = _stored_invoice(state, body)
                found[stored.invoice_id] = stored
        return found

    def customer_documents(
        self, account_id: str, limit: int, older_than: str | None = None
    ) -> CustomerDocumentsPage:
        """A page of the account's numbered live documents (invoices and credit notes),
        newest first, from its own GSI5 partition: never a scan, whatever the table holds.

        ``older_than`` is the previous page's ``older_than``: a sort key inside this
        account's partition, so whatever it says, it can only page this account.
        """
        condition = Key("GSI5PK").eq(customer_documents_pk(account_id))
        if older_than:
            condition = condition & Key("GSI5SK").lt(older_than)
        response = self._table.query(
            IndexName="GSI5", KeyConditionExpression=condition, ScanIndexForward=False, Limit=limit
        )
        items = response["Items"]
        more = "LastEvaluatedKey" in response and len(items) == limit
        return CustomerDocumentsPage(
            keys=[(str(item["PK"]), str(item["SK"])) for item in items],
            older_than=str(items[-1]["GSI5SK"]) if more and items else None,
        )

    def _states(self, invoice_ids: Iterable[str]) -> dict[tuple[str, str], dict[str, Any]]:
        unique_ids = dict.fromkeys(invoice_ids)  # a batch read refuses a repeated key
        return self.batch_get([_doc_key(invoice_id) for invoice_id in unique_ids], consistent=True)

    def batch_get(
        self, keys: list[dict[str, str]], *, consistent: bool
    ) -> dict[tuple[str, str], dict[str, Any]]:
        """Items by (PK, SK), 100 keys a request, unprocessed keys asked again; a missing
        item is simply absent. Public so the other stores on this table read the same way."""
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for start in range(0, len(keys), 100):
            request: dict[str, Any] = {
                self._table.name: {"Keys": keys[start : start + 100], "ConsistentRead": consistent}
            }
            while request:
                response = self._client.batch_get_item(RequestItems=request)
                for item in response["Responses"].get(self._table.name, []):
                    found[(item["PK"], item["SK"])] = item
                request = response.get("UnprocessedKeys") or {}
        return found

    def run_invoices(self, run_id: str) -> Iterator[StoredInvoice]:
        """Every invoice a run drafted (or re-claimed), in account order."""
        for page_ids in self._index_pages("GSI1", Key("GSI1PK").eq(_run_pk(run_id))):
            yield from self._in_order(page_ids, self.get_invoices(page_ids))

    def run_invoice_statuses(self, run_id: str) -> Iterator[tuple[str, InvoiceStatus]]:
        """(id, status) of a run's invoices, in account order: the state items only, for a
        step that needs no document (PlanDelivery)."""
        for page_ids in self._index_pages("GSI1", Key("GSI1PK").eq(_run_pk(run_id))):
            states = self._states(page_ids)
            for invoice_id in page_ids:
                if (state := states.get((_invoice_pk(invoice_id), _DOC))) is not None:
                    yield invoice_id, InvoiceStatus(state["status"])

    def period_invoices(self, mode: str, period: str) -> Iterator[StoredInvoice]:
        """Every invoice of a billing period, whichever run made it."""
        for page_ids in self._index_pages("GSI2", Key("GSI2PK").eq(_period_pk(mode, period))):
            yield from self._in_order(page_ids, self.get_invoices(page_ids))

    def period_numbers(self, mode: str, period: str) -> Iterator[str]:
        """The numbers of a period's finalized invoices: state items only, a page at a time
        (the audit's continuity check reads neighbouring periods this way)."""
        for page_ids in self._index_pages("GSI2", Key("GSI2PK").eq(_period_pk(mode, period))):
            for state in self._states(page_ids).values():
                if state.get("number") and state["status"] == InvoiceStatus.FINALIZED.value:
                    yield str(state["number"])

    @staticmethod
    def _in_order(
        page_ids: list[str], stored_by_id: dict[str, StoredInvoice]
    ) -> Iterator[StoredInvoice]:
        for invoice_id in page_ids:
            if (stored := stored_by_id.get(invoice_id)) is not None:
                yield stored

    def _index_pages(self, index: str, condition: Any) -> Iterator[list[str]]:
        """Page through a keys-only index: the invoice ids of one page at a time.

        The indexes project keys only: an index write then happens only when an invoice
        enters or leaves it, not on every lifecycle update (issue 15 measured both indexes
        projecting ALL, which tripled every write). One page of 100 at a time keeps memory
        flat, whatever the run's size.
        """
        query: dict[str, Any] = {
            "IndexName": index,
            "KeyConditionExpression": condition,
            "Limit": _INVOICES_PER_PAGE,  # a 1 MB page of keys would be ~10,000 invoices
        }
        while True:
            response = self._table.query(**query)
            yield [str(item["PK"]).removeprefix("INVOICE#") for item in response["Items"]]
            if "LastEvaluatedKey" not in response:
                return
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def set_status(
        self,
        invoice_id: str,
        run_id: str,
        new_status: InvoiceStatus,
        expected: tuple[InvoiceStatus, ...],
        *,
        claim_for_run: bool = False,
        reason: str | None = None,
        held_by: str | None = None,
    ) -> bool:
        """Move a draft between draft / held / void, only from an expected status.

        ``claim_for_run`` re-assigns a held draft to a new run (release of holds), so
        it shows up in that run's approval; otherwise the draft must belong to ``run_id``.
        ``held_by`` says who held it (an approver, or the rule that did), for the run report.
        """
        names = {"#status": "status"}
        values: dict[str, Any] = {":new": new_status.value, ":run": run_id}
        expected_placeholders = []
        for index, status in enumerate(expected):
            values[f":e{index}"] = status.value
            expected_placeholders.append(f":e{index}")
        condition = f"#status IN ({', '.join(expected_placeholders)})"
        update = "SET #status = :new, hold_reason = :reason, held_by = :held_by"
        values[":reason"] = reason
        values[":held_by"] = held_by
        if claim_for_run:
            update += ", run_id = :run, GSI1PK = :gsi, hold_waived = :waived"
            values[":waived"] = True
            values[":gsi"] = _run_pk(run_id)
        else:
            condition += " AND run_id = :run"
        return _written(
            lambda: self._table.update_item(
                Key={"PK": _invoice_pk(invoice_id), "SK": _DOC},
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        )

    def finalize(
        self,
        invoice_ids: list[str],
        run_id: str,
        series: str,
        finalize_document: Callable[[Invoice, int], Invoice],
    ) -> dict[str, StoredInvoice | InvoiceLocked]:
        """Number and lock drafts, consecutively, in as few transactions as possible.

        Each transaction moves the series counter by k and turns k drafts into finalized
        invoices with the numbers in between, each with its 'numbered' audit event: all
        commit together or none do, so a failure never burns a number (Odoo #11859) and
        numbers stay consecutive. The 'numbered' audit line is the ``numbered_at`` the same
        update sets. A retried call finds the invoices already finalized and
        returns them unchanged. Concurrent finalizers race on the counter's condition and
        retry with fresh numbers. A chunk of 100 costs three transactions, not 100.

        Returns, per id, the stored (finalized) invoice, or why it cannot be finalized.
        """
        outcome: dict[str, StoredInvoice | InvoiceLocked] = {}
        pending = self._finalizable(invoice_ids, run_id, outcome)
        for attempt in range(_MAX_NUMBERING_ATTEMPTS):
            if not pending:
                return outcome
            batch = pending[:_INVOICES_PER_NUMBERING_TRANSACTION]
            if series not in self._series_hint:
                self._series_hint[series] = self.last_number(series)
            last_number = self._series_hint[series]
            finalized = [
                finalize_document(stored.invoice, last_number + offset)
                for offset, stored in enumerate(batch, start=1)
            ]
            items: list[dict[str, Any]] = [
                {"Update": self.counter_update(series, last_number, len(batch))}
            ]
            for invoice in finalized:
                items.append({"Update": self._finalize_update(invoice.invoice_id, run_id, invoice)})
            try:
                self._client.transact_write_items(TransactItems=items)
            except ClientError as error:
                if error.response["Error"]["Code"] not in (
                    "TransactionCanceledException",
                    "TransactionConflictException",
                ):
                    raise
                self._series_hint.pop(series, None)
                pending = self._finalizable([s.invoice_id for s in pending], run_id, outcome)
                time.sleep(min(0.2, 0.005 * (attempt + 1)))
                continue
            self._series_hint[series] = last_number + len(batch)
            for stored, invoice in zip(batch, finalized, strict=True):
                outcome[stored.invoice_id] = stored.model_copy(update={"invoice": invoice})
            pending = pending[len(batch) :]
        raise TransientError(f"Could not number invoices: series {series} stayed contended")

    def _finalizable(
        self,
        invoice_ids: list[str],
        run_id: str,
        outcome: dict[str, StoredInvoice | InvoiceLocked],
    ) -> list[StoredInvoice]:
        """The drafts of this run still to number; the rest go straight into ``outcome``."""
        stored_by_id = self.get_invoices(invoice_ids)
        drafts = []
        for invoice_id in invoice_ids:
            current = stored_by_id.get(invoice_id)
            if current is None:
                outcome[invoice_id] = InvoiceLocked(f"Invoice {invoice_id} does not exist")
            elif current.invoice.status is InvoiceStatus.FINALIZED:
                outcome[invoice_id] = current
            elif (
                current.invoice.status is not InvoiceStatus.DRAFT
                or current.invoice.run_id != run_id
            ):
                outcome[invoice_id] = InvoiceLocked(
                    f"Invoice {invoice_id} is {current.invoice.status.value} in run "
                    f"{current.invoice.run_id}; it cannot be finalized by run {run_id}"
                )
            else:
                drafts.append(current)
        return drafts

    def counter_update(self, series: str, last_number: int, count: int) -> dict[str, Any]:
        """The transaction part that moves a series from ``last_number`` by ``count``.

        It is conditional on the counter still reading ``last_number``, so two writers that
        read the same value cannot both take the next numbers (gapless and unique); every
        series on this table (invoices, credit notes) is advanced by this one rule."""
        update: dict[str, Any] = {
            "TableName": self._table.name,
            "Key": {"PK": f"SERIES#{series}", "SK": "COUNTER"},
            "UpdateExpression": "SET last_number = :next",
            "ExpressionAttributeValues": {":next": last_number + count},
        }
        if last_number == 0:
            update["ConditionExpression"] = "attribute_not_exists(PK)"
        else:
            update["ConditionExpression"] = "last_number = :last"
            update["ExpressionAttributeValues"][":last"] = last_number
        return update

    def _finalize_update(self, invoice_id: str, run_id: str, finalized: Invoice) -> dict[str, Any]:
        customer_entry = customer_document_entry(finalized)
        return {
            "TableName": self._table.name,
            "Key": {"PK": _invoice_pk(invoice_id), "SK": _DOC},
            "UpdateExpression": "SET #status = :finalized, #number = :number, "
            "issue_date = :issued, due_date = :due, numbered_at = :now"
            + (ENTER_CUSTOMER_DOCUMENTS if customer_entry else ""),
            "ConditionExpression": "#status = :draft AND run_id = :run",
            "ExpressionAttributeNames": {"#status": "status", "#number": "number"},
            "ExpressionAttributeValues": {
                ":finalized": InvoiceStatus.FINALIZED.value,
                ":draft": InvoiceStatus.DRAFT.value,
                ":number": finalized.number or "",
                ":issued": finalized.issue_date.isoformat() if finalized.issue_date else None,
                ":due": finalized.due_date.isoformat() if finalized.due_date else None,
                ":now": _now_iso(),
                ":run": run_id,
                **customer_entry,
            },
        }

    def last_number(self, series: str) -> int:
        """The series' last number taken (0 before the first), read strongly consistent."""
        response = self._table.get_item(
            Key={"PK": f"SERIES#{series}", "SK": "COUNTER"}, ConsistentRead=True
        )
        item = response.get("Item")
        return int(item["last_number"]) if item else 0

    def claim_for_redo(
        self, stored: StoredInvoice, run_id: str, *, resend_to: str | None, replay_erp: bool
    ) -> None:
        """Hand a finalized invoice to a redo run: reset the failed delivery and/or ERP post.

        The invoice itself stays as it is (it is locked); only its tracking state goes
        back to 'not yet done' (and into the unfinished index), so the normal dispatch
        and ERP steps pick it up, once. The old failure is what this run fixes, so it
        is cleared; a new one would be recorded again.
        """
        sets = ["run_id = :run", "GSI1PK = :gsi", _ENTER_UNFINISHED_INDEX]
        removes = ["failure"]
        values: dict[str, Any] = {
            ":run": run_id,
            ":gsi": _run_pk(run_id),
            ":finalized": InvoiceStatus.FINALIZED.value,
            **_unfinished_entry(stored.invoice),
        }
        if resend_to is not None:
            sets += ["delivery_status = :not_queued", "resend_to = :resend_to"]
            removes += ["dispatch_claimed_at", "ses_message_id", "possibly_sent_twice"]
            values.update({":not_queued": DeliveryStatus.NOT_QUEUED.value, ":resend_to": resend_to})
        if replay_erp:
            sets.append("erp_status = :not_posted")
            values[":not_posted"] = ErpStatus.NOT_POSTED.value
        self._table.update_item(
            Key={"PK": _invoice_pk(stored.invoice_id), "SK": _DOC},
            UpdateExpression=f"SET {', '.join(sets)} REMOVE {', '.join(removes)}",
            ConditionExpression="#status = :finalized",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=values,
        )

    def claim_for_resume(self, invoice_id: str, run_id: str) -> bool:
        """Hand an unfinished invoice to the run that finishes it, so that run reconciles it.

        Only the owner changes: the lifecycle state says what is left to do, and the same
        chunk steps do it. The old failure is cleared; a new one would be recorded again.
        """
        return _written(
            lambda: self._table.update_item(
                Key={"PK": _invoice_pk(invoice_id), "SK": _DOC},
                UpdateExpression="SET run_id = :run, GSI1PK = :gsi REMOVE failure",
                ConditionExpression="#status IN (:finalized, :draft) AND attribute_exists(GSI3PK)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":run": run_id,
                    ":gsi": _run_pk(run_id),
                    ":finalized": InvoiceStatus.FINALIZED.value,
                    ":draft": InvoiceStatus.DRAFT.value,
                },
            )
        )

    def release_expired_claim(self, invoice_id: str, claimed_at: datetime) -> bool:
        """Give up a claim whose sender died and whose SES answer never came: send again.

        The condition pins the very claim that expired and the absence of a message id,
        so a message id an SES event recovered meanwhile, or another resume, wins over this
        release.
        """
        return _written(
            lambda: self._table.update_item(
                Key={"PK": _invoice_pk(invoice_id), "SK": _DOC},
                UpdateExpression="SET possibly_sent_twice = :yes, delivery_detail = :why "
                "REMOVE dispatch_claimed_at",
                ConditionExpression="dispatch_claimed_at = :claimed "
                "AND attribute_not_exists(ses_message_id)",
                ExpressionAttributeValues={
                    ":yes": True,
                    ":claimed": claimed_at.isoformat(timespec="milliseconds"),
                    ":why": "Sent again: the first attempt's SES answer never arrived",
                },
            )
        )

    def mark_unfinished(self, invoice: Invoice) -> None:
        """Enter the unfinished index: a finalized invoice its run left with work to do,
        or an approved draft it could not number. The next run finishes it."""
        self._table.update_item(
            Key={"PK": _invoice_pk(invoice.invoice_id), "SK": _DOC},
            UpdateExpression=f"SET {_ENTER_UNFINISHED_INDEX}",
            ConditionExpression="#status IN (:draft, :finalized)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                **_unfinished_entry(invoice),
                ":draft": InvoiceStatus.DRAFT.value,
                ":finalized": InvoiceStatus.FINALIZED.value,
            },
        )

    def leave_unfinished_index(self, invoice_id: str) -> None:
        self._table.update_item(
            Key={"PK": _invoice_pk(invoice_id), "SK": _DOC},
            UpdateExpression=_LEAVE_UNFINISHED_INDEX.strip(),
        )

    def unfinished_invoice_ids(self, mode: str) -> Iterator[str]:
        """Invoices of a mode that settled runs left with work to do, oldest period first."""
        for item in self._query_unfinished_index(_unfinished_pk(mode)):
            yield str(item["PK"]).removeprefix("INVOICE#")

    def unsettled_runs(self, mode: str) -> Iterator[tuple[str, str]]:
        """(lock scope, run id) of every run of a mode not settled yet: alive, or crashed.

        The scope is the run's period, or its milestone part (``RunContext.lock_scope``);
        an execution name cannot hold '#', an account id can.
        """
        for item in self._query_unfinished_index(_unsettled_pk(mode)):
            scope, _, run_id = str(item["GSI3SK"]).rpartition("#")
            yield scope, run_id

    def settle_run(self, run_id: str) -> None:
        """The run's unfinished invoices are in the index on their own: its entry leaves."""
        self._table.update_item(
            Key={"PK": _run_pk(run_id), "SK": "RUN"},
            UpdateExpression=_LEAVE_UNFINISHED_INDEX.strip(),
            ConditionExpression="attribute_exists(PK)",
        )

    def _query_unfinished_index(self, partition: str) -> Iterator[dict[str, Any]]:
        query: dict[str, Any] = {
            "IndexName": "GSI3",
            "KeyConditionExpression": Key("GSI3PK").eq(partition),
        }
        while True:
            response = self._table.query(**query)
            yield from response["Items"]
            if "LastEvaluatedKey" not in response:
                return
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def record_pdf(self, invoice_id: str, pdf_key: str, pdf_sha256: str) -> None:
        """The PDF's key and hash, and when it was rendered: the 'rendered' audit line."""
        self._table.update_item(
            Key=_doc_key(invoice_id),
            UpdateExpression="SET pdf_key = :key, pdf_sha256 = :sha, rendered_at = :now",
            ConditionExpression="#status = :finalized",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":key": pdf_key,
                ":sha": pdf_sha256,
                ":now": _now_iso(),
                ":finalized": InvoiceStatus.FINALIZED.value,
            },
        )

    def claim_dispatch(self, invoice_id: str) -> bool:
        """Take the right to send this invoice's e-mail; only one caller ever gets it.

        A claim left behind by a crash mid-send stays ``queued`` with a claim marker
        and is reported, never blindly re-sent: SES may have accepted it.
        """
        return _written(
            lambda: self._table.update_item(
                Key={"PK": _invoice_pk(invoice_id), "SK": _DOC},
                UpdateExpression="SET delivery_status = :queued, dispatch_claimed_at = :now",
                ConditionExpression=(
                    "#status = :finalized AND delivery_status IN (:not_queued, :queued) "
                    "AND attribute_not_exists(dispatch_claimed_at)"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":queued": DeliveryStatus.QUEUED.value,
                    ":not_queued": DeliveryStatus.NOT_QUEUED.value,
                    ":finalized": InvoiceStatus.FINALIZED.value,
                    ":now": _now_iso(),
                },
            )
        )

    def release_dispatch_claim(self, invoice_id: str, reason: str) -> None:
        """SES refused the message (throttled or failed): it is still queued, with why."""
        self._table.update_item(
            Key={"PK": _invoice_pk(invoice_id), "SK": _DOC},
            UpdateExpression="SET delivery_detail = :reason REMOVE dispatch_claimed_at",
            ExpressionAttributeValues={":reason": reason},
        )

    def record_sent(
        self,
        invoice_id: str,
        message_id: str,
        *,
        finished: bool,
        recipient: str | None = None,
        from_event: bool = False,
    ) -> bool:
        """SES accepted the message: the invoice is sent, with SES's message id.

        ``from_event`` is the recovery path (an SES event that moves no status, tagged with
        the invoice, after the sender died before recording): it applies only while the
        invoice still waits for its message id. ``finished`` means the ERP track is done
        too, so the invoice leaves the unfinished index in the same write. SES's later
        events find the invoice by the same tag, so no message-to-invoice item is written.
        ``sent_at`` and ``sent_to`` are the 'emailed' audit line (no recipient: recovered).
        """
        values: dict[str, Any] = {
            ":sent": DeliveryStatus.SENT.value,
            ":mid": message_id,
            ":now": _now_iso(),
            ":to": recipient,
        }
        condition = "attribute_exists(PK)"
        if from_event:
            condition = "delivery_status = :queued AND attribute_not_exists(ses_message_id)"
            values[":queued"] = DeliveryStatus.QUEUED.value
        return _written(
            lambda: self._table.update_item(
                Key={"PK": _invoice_pk(invoice_id), "SK": _DOC},
                UpdateExpression="SET delivery_status = :sent, ses_message_id = :mid, "
                "sent_at = :now, sent_to = :to REMOVE delivery_detail, dispatch_claimed_at"
                + (_LEAVE_UNFINISHED_INDEX.replace(" REMOVE", ",") if finished else ""),
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
            )
        )

    def record_delivery_status(
        self, invoice_id: str, status: DeliveryStatus, detail: str, message_id: str | None = None
    ) -> bool:
        """Move the e-mail only along the lifecycle's arrows (events arrive out of order).

        A delivery keeps only its time (``delivered_at``, the audit line: it went to
        ``sent_to``), so later events (a complaint) do not erase that it arrived; a failure
        keeps its detail for the report, and its audit item says when. The event's message
        id is recorded if the sender died before recording it (``sent_at`` then says when
        SES reported it). What is not needed is not stored: past 1 KB every later write of
        the state item would cost two write units instead of one.
        """
        values: dict[str, Any] = {":new": status.value}
        placeholders = []
        for index, previous in enumerate(delivery_entered_from(status)):
            values[f":p{index}"] = previous
            placeholders.append(f":p{index}")
        if status is DeliveryStatus.DELIVERED:
            update = "SET delivery_status = :new, delivered_at = :now"
        else:
            update = "SET delivery_status = :new, delivery_detail = :detail"
            values[":detail"] = detail
        if message_id is not None:  # an SES event: it also recovers a message id never written
            update += (
                ", ses_message_id = if_not_exists(ses_message_id, :mid)"
                ", sent_at = if_not_exists(sent_at, :now)"
            )
            values[":mid"] = message_id
        if ":now" in update:  # DynamoDB refuses a value the expression does not use
            values[":now"] = _now_iso()
        return _written(
            lambda: self._table.update_item(
                Key=_doc_key(invoice_id),
                UpdateExpression=update,
                ConditionExpression=f"delivery_status IN ({', '.join(placeholders)})",
                ExpressionAttributeValues=values,
            )
        )

    def record_erp(
        self,
        invoice_id: str,
        status: ErpStatus,
        erp_id: str | None,
        detail: str | None,
        *,
        finished: bool = False,
    ) -> None:
        """``finished``: the e-mail is settled too, so the invoice leaves the unfinished index.

        ``erp_at`` with the status and detail is the ERP's audit line.
        """
        self._update(
            invoice_id,
            {
                "erp_status": status.value,
                "erp_id": erp_id,
                "erp_detail": detail,
                "erp_at": _now_iso(),
            },
            _LEAVE_UNFINISHED_INDEX if finished else "",
        )

    def record_failure(self, invoice_id: str, failure: str) -> None:
        self._update(invoice_id, {"failure": failure})

    def _update(self, invoice_id: str, fields: dict[str, Any], extra: str = "") -> None:
        names = {f"#f{index}": name for index, name in enumerate(fields)}
        values = {f":v{index}": value for index, value in enumerate(fields.values())}
        assignments = ", ".join(f"#f{index} = :v{index}" for index in range(len(fields)))
        self._table.update_item(
            Key={"PK": _invoice_pk(invoice_id), "SK": _DOC},
            UpdateExpression=f"SET {assignments}{extra}",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    # ------------------------------------------------------------------- audit
    def append_audit(self, invoice_id: str, event: str, detail: str, actor: str = "system") -> None:
        self._table.put_item(Item=self._audit_item(invoice_id, event, detail, actor))

    @staticmethod
    def _audit_item(invoice_id: str, event: str, detail: str, actor: str) -> dict[str, str]:
        """One audit event; the sort key's time + nonce keeps events ordered and distinct."""
        return {
            "PK": _invoice_pk(invoice_id),
            "SK": f"AUDIT#{_now_iso()}#{time.perf_counter_ns() % 1_000_000:06d}",
            "event": event,
            "detail": detail,
            "actor": actor,
        }

    def audit_trail(self, invoice_id: str) -> list[dict[str, str]]:
        """Every event of an invoice, oldest first: the lifecycle's own times and the rest."""
        response = self._table.query(KeyConditionExpression=Key("PK").eq(_invoice_pk(invoice_id)))
        items = response["Items"]
        state = next((item for item in items if item["SK"] == _DOC), None)
        body = next((item for item in items if state and item["SK"] == state["body_sk"]), None)
        events = [
            {
                "event": item["event"],
                "detail": item["detail"],
                "actor": item["actor"],
                "at": item["SK"][6:35],
            }
            for item in items
            if str(item["SK"]).startswith("AUDIT#")
        ]
        if state is not None and body is not None:
            events += _lifecycle_events(state, _unpacked(body))
        return sorted(events, key=lambda event: event["at"])

    # -------------------------------------------------------------------- runs
    def create_run(self, context: RunContext, started_at: str) -> None:
        """Idempotent: a retried StartRun finds its own record and keeps it.

        The record enters the unfinished index as an unsettled run: until its summary
        settles it, a crash at any later moment leaves it there for the next run to open.
        """
        _written(
            lambda: self._table.put_item(
                Item={
                    "PK": _run_pk(context.run_id),
                    "SK": "RUN",
                    "GSI3PK": _unsettled_pk(context.mode),
                    "GSI3SK": f"{context.lock_scope}#{context.run_id}",
                    "status": RunStatus.STARTED.value,
                    "context": context.model_dump_json(),
                    "started_at": started_at,
                },
                ConditionExpression="attribute_not_exists(PK)",
            )
        )

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        response = self._table.get_item(
            Key={"PK": _run_pk(run_id), "SK": "RUN"}, ConsistentRead=True
        )
        item = response.get("Item")
        if not item:
            return None
        run = dict(item)
        run["context"] = RunContext.model_validate_json(item["context"])
        if "approval" in item:
            run["approval"] = ApprovalRecord.model_validate_json(item["approval"])
        for json_field in ("screening_counts", "summary"):
            if json_field in item:
                run[json_field] = json.loads(item[json_field])
        return run

    def update_run(self, run_id: str, status: RunStatus | None = None, **fields: Any) -> None:
        values = dict(fields)
        if status is not None:
            values["status"] = status.value
        names = {f"#f{index}": name for index, name in enumerate(values)}
        expression_values = {f":v{index}": value for index, value in enumerate(values.values())}
        self._table.update_item(
            Key={"PK": _run_pk(run_id), "SK": "RUN"},
            UpdateExpression="SET "
            + ", ".join(f"#f{index} = :v{index}" for index in range(len(values))),
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=expression_values,
        )

    def record_decision(self, run_id: str, decision: ApprovalRecord) -> bool:
        """Single-use: only the first decision on a run awaiting approval is kept."""
        new_status = RunStatus.APPROVED if decision.decision == "approve" else RunStatus.REJECTED
        return _written(
            lambda: self._table.update_item(
                Key={"PK": _run_pk(run_id), "SK": "RUN"},
                UpdateExpression="SET approval = :decision, #status = :status",
                ConditionExpression="#status = :awaiting AND attribute_not_exists(approval)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":decision": decision.model_dump_json(),
                    ":status": new_status.value,
                    ":awaiting": RunStatus.AWAITING_APPROVAL.value,
                },
            )
        )

    # ------------------------------------------------------------ period lock
    def acquire_period_lock(
        self, mode: str, period: str, run_id: str, started_at: str
    ) -> dict[str, Any] | None:
        """Take the period's lock for this run; return the holder's lock item if another has it.

        A conditional put, not a read-then-write: two runs started at the same moment
        cannot both win. A retried StartRun of the holder finds its own lock and keeps it.
        """
        if _written(
            lambda: self._table.put_item(
                Item={**_lock_key(mode, period), "run_id": run_id, "since": started_at},
                ConditionExpression="attribute_not_exists(PK) OR run_id = :me",
                ExpressionAttributeValues={":me": run_id},
            )
        ):
            return None
        holder = self._table.get_item(Key=_lock_key(mode, period), ConsistentRead=True)
        return dict(holder.get("Item") or {"run_id": "?", "since": "?"})

    def period_lock_holder(self, mode: str, period: str) -> str | None:
        item = self._table.get_item(Key=_lock_key(mode, period), ConsistentRead=True).get("Item")
        return str(item["run_id"]) if item else None

    def release_period_lock(self, mode: str, period: str, run_id: str) -> bool:
        """Free the period if this run holds it (a stale-lock break may already have)."""
        return _written(
            lambda: self._table.delete_item(
                Key=_lock_key(mode, period),
                ConditionExpression="run_id = :me",
                ExpressionAttributeValues={":me": run_id},
            )
        )


def _doc_key(invoice_id: str) -> dict[str, str]:
    return {"PK": _invoice_pk(invoice_id), "SK": _DOC}


def _body_sk(run_id: str) -> str:
    return f"BODY#{run_id}"


def _packed(invoice: Invoice) -> bytes:
    """The document as compressed JSON: about 700 bytes for a typical invoice instead of
    1.5-2 KB, one write unit instead of two."""
    return zlib.compress(invoice.model_dump_json().encode("utf-8"), 6)


def _unpacked(body: dict[str, Any]) -> Invoice:
    return Invoice.model_validate_json(zlib.decompress(bytes(body["document"])))


def _lifecycle_events(state: dict[str, Any], drafted: Invoice) -> list[dict[str, str]]:
    """The audit lines the lifecycle writes carry themselves (see the module docstring)."""
    events = [("drafted", f"Draft created by run {drafted.run_id}", state.get("drafted_at"))]
    events += [("flagged", flag.message, state.get("drafted_at")) for flag in drafted.anomalies]
    events.append(("numbered", f"Finalized as {state.get('number')}", state.get("numbered_at")))
    events.append(
        (
            "rendered",
            f"PDF {state.get('pdf_key')} sha256={state.get('pdf_sha256')}",
            state.get("rendered_at"),
        )
    )
    recipient = state.get("sent_to")
    sent = f"SES message {state.get('ses_message_id')}"
    sent += f" to {recipient}" if recipient else ", recorded from SES's report on it"
    events.append(("emailed", sent, state.get("sent_at")))
    if state.get("erp_status") == ErpStatus.POSTED.value:
        posted = f"ERP entry {state.get('erp_id')} ({state.get('erp_detail')})"
        events.append(("posted_to_erp", posted, state.get("erp_at")))
    delivered = f"Delivered to {recipient}" if recipient else "Delivered"
    events.append(("delivery_delivered", delivered, state.get("delivered_at")))
    return [
        {
            "event": event,
            "detail": detail,
            "actor": "ses" if event.startswith("delivery") else "system",
            "at": str(at),
        }
        for event, detail, at in events
        if at
    ]


def _stored_invoice(item: dict[str, Any], body: dict[str, Any]) -> StoredInvoice:
    finalized = {
        "number": item.get("number"),
        "issue_date": item.get("issue_date"),
        "due_date": item.get("due_date"),
    }
    invoice = _unpacked(body).model_copy(
        update={
            "status": InvoiceStatus(item["status"]),
            "run_id": item["run_id"],
            **{
                name: date.fromisoformat(value) if name != "number" else value
                for name, value in finalized.items()
                if value
            },
        }
    )
    return StoredInvoice(
        invoice=invoice,
        delivery_status=DeliveryStatus(item.get("delivery_status", "not_queued")),
        delivery_detail=item.get("delivery_detail"),
        ses_message_id=item.get("ses_message_id"),
        erp_status=ErpStatus(item.get("erp_status", "not_posted")),
        erp_id=item.get("erp_id"),
        erp_detail=item.get("erp_detail"),
        pdf_key=item.get("pdf_key"),
        pdf_sha256=item.get("pdf_sha256"),
        hold_reason=item.get("hold_reason"),
        held_by=item.get("held_by"),
        resend_to=item.get("resend_to"),
        hold_waived=bool(item.get("hold_waived", False)),
        dispatch_claimed_at=item.get("dispatch_claimed_at"),
        possibly_sent_twice=bool(item.get("possibly_sent_twice", False)),
        failure=item.get("failure"),
        numbered_at=item.get("numbered_at"),
        erp_at=item.get("erp_at"),
    )
