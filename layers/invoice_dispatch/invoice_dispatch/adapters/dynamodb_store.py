"""DynamoDB single-table store for invoices, runs, number series and the audit trail.

Item shapes (PK / SK):
  ``INVOICE#<invoice_id>`` / ``DOC``            the invoice document and its tracking state
  ``INVOICE#<invoice_id>`` / ``AUDIT#<ts>#<n>`` one audit event
  ``RUN#<run_id>``         / ``RUN``            the run record (status, counts, token, decision)
  ``SERIES#<series>``      / ``COUNTER``        last number handed out in a number series
  ``SESMSG#<message_id>``  / ``MSG``            which invoice an SES message belongs to
  ``LOCK#<mode>#<period>`` / ``LOCK``           the one run active on a period (period lock)
  ``RATE#ses``             / ``LANES#<n>#<µs>`` SES send slots shared by every sender: each
                                                lane's next free slot (``send_rate.py``)
GSI1 (``GSI1PK`` = ``RUN#<run_id>``, ``GSI1SK`` = account id) lists a run's invoices;
GSI2 (``GSI2PK`` = ``PERIOD#<mode>#<period>``, ``GSI2SK`` = account id) a period's;
GSI3, sparse and keys-only (``GSI3PK`` = ``UNFINISHED#<mode>``, ``GSI3SK`` = period and
id), the finalized invoices that still need work (``lifecycle.py``): the entry is written
in the numbering transaction and removed by the write that finishes the invoice.

Every state change is a conditional write, never check-then-write: that is what makes
a retried Lambda or an overlapping run unable to create a second draft, number or email
(design.md, 'Where peers got hurt').
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
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
#: A transaction holds at most 100 items: the counter, then an update and an audit per invoice.
_INVOICES_PER_NUMBERING_TRANSACTION = 49


def _invoice_pk(invoice_id: str) -> str:
    return f"INVOICE#{invoice_id}"


def _run_pk(run_id: str) -> str:
    return f"RUN#{run_id}"


def _period_pk(mode: str, period: str) -> str:
    return f"PERIOD#{mode}#{period}"


def _unfinished_pk(mode: str) -> str:
    return f"UNFINISHED#{mode}"


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
        """
        item = {
            "PK": _invoice_pk(invoice.invoice_id),
            "SK": _DOC,
            "GSI1PK": _run_pk(invoice.run_id),
            "GSI1SK": invoice.account_id,
            "GSI2PK": _period_pk(invoice.mode, invoice.period),
            "GSI2SK": invoice.account_id,
            "status": invoice.status.value,
            "run_id": invoice.run_id,
            "document": invoice.model_dump_json(),
            "delivery_status": DeliveryStatus.NOT_QUEUED.value,
            "erp_status": ErpStatus.NOT_POSTED.value,
        }
        return _written(
            lambda: self._table.put_item(
                Item=item,
                ConditionExpression="attribute_not_exists(PK) OR #status = :void",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":void": InvoiceStatus.VOID.value},
            )
        )

    def get_invoice(self, invoice_id: str) -> StoredInvoice | None:
        response = self._table.get_item(
            Key={"PK": _invoice_pk(invoice_id), "SK": _DOC}, ConsistentRead=True
        )
        item = response.get("Item")
        return _stored_invoice(item) if item else None

    def get_invoices(self, invoice_ids: list[str]) -> dict[str, StoredInvoice]:
        """Batch read (100 keys per call), for chunk steps that touch many invoices."""
        found: dict[str, StoredInvoice] = {}
        for start in range(0, len(invoice_ids), 100):
            keys = [{"PK": _invoice_pk(i), "SK": _DOC} for i in invoice_ids[start : start + 100]]
            request: dict[str, Any] = {self._table.name: {"Keys": keys, "ConsistentRead": True}}
            while request:
                response = self._client.batch_get_item(RequestItems=request)
                for item in response["Responses"].get(self._table.name, []):
                    stored = _stored_invoice(item)
                    found[stored.invoice_id] = stored
                request = response.get("UnprocessedKeys") or {}
        return found

    def run_invoices(self, run_id: str) -> Iterator[StoredInvoice]:
        """Every invoice a run drafted (or re-claimed), in account order."""
        return self._query_index("GSI1", Key("GSI1PK").eq(_run_pk(run_id)))

    def period_invoices(self, mode: str, period: str) -> Iterator[StoredInvoice]:
        """Every invoice of a billing period, whichever run made it."""
        return self._query_index("GSI2", Key("GSI2PK").eq(_period_pk(mode, period)))

    def _query_index(self, index: str, condition: Any) -> Iterator[StoredInvoice]:
        query: dict[str, Any] = {"IndexName": index, "KeyConditionExpression": condition}
        while True:
            response = self._table.query(**query)
            for item in response["Items"]:
                yield _stored_invoice(item)
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
        numbers stay consecutive. A retried call finds the invoices already finalized and
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
                self._series_hint[series] = self._last_number(series)
            last_number = self._series_hint[series]
            finalized = [
                finalize_document(stored.invoice, last_number + offset)
                for offset, stored in enumerate(batch, start=1)
            ]
            items: list[dict[str, Any]] = [
                {"Update": self._counter_update(series, last_number, len(batch))}
            ]
            for invoice in finalized:
                items.append({"Update": self._finalize_update(invoice.invoice_id, run_id, invoice)})
                audit = self._audit_item(
                    invoice.invoice_id, "numbered", f"Finalized as {invoice.number}", "system"
                )
                items.append({"Put": {"TableName": self._table.name, "Item": audit}})
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

    def _counter_update(self, series: str, last_number: int, count: int) -> dict[str, Any]:
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
        return {
            "TableName": self._table.name,
            "Key": {"PK": _invoice_pk(invoice_id), "SK": _DOC},
            "UpdateExpression": "SET #status = :finalized, #number = :number, document = :doc, "
            + _ENTER_UNFINISHED_INDEX,
            "ConditionExpression": "#status = :draft AND run_id = :run",
            "ExpressionAttributeNames": {"#status": "status", "#number": "number"},
            "ExpressionAttributeValues": {
                ":finalized": InvoiceStatus.FINALIZED.value,
                ":draft": InvoiceStatus.DRAFT.value,
                ":number": finalized.number or "",
                ":doc": finalized.model_dump_json(),
                ":run": run_id,
                **_unfinished_entry(finalized),
            },
        }

    def _last_number(self, series: str) -> int:
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
        so a Send event recovered meanwhile, or another resume, wins over this release.
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
        """An approved draft its run could not number: the next run numbers it."""
        self._table.update_item(
            Key={"PK": _invoice_pk(invoice.invoice_id), "SK": _DOC},
            UpdateExpression=f"SET {_ENTER_UNFINISHED_INDEX}",
            ConditionExpression="#status = :draft",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                **_unfinished_entry(invoice),
                ":draft": InvoiceStatus.DRAFT.value,
            },
        )

    def leave_unfinished_index(self, invoice_id: str) -> None:
        self._table.update_item(
            Key={"PK": _invoice_pk(invoice_id), "SK": _DOC},
            UpdateExpression=_LEAVE_UNFINISHED_INDEX.strip(),
        )

    def unfinished_invoice_ids(self, mode: str) -> Iterator[str]:
        """Finalized invoices of a mode that still need work, oldest period first."""
        query: dict[str, Any] = {
            "IndexName": "GSI3",
            "KeyConditionExpression": Key("GSI3PK").eq(_unfinished_pk(mode)),
        }
        while True:
            response = self._table.query(**query)
            for item in response["Items"]:
                yield str(item["PK"]).removeprefix("INVOICE#")
            if "LastEvaluatedKey" not in response:
                return
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def record_pdf(self, invoice_id: str, pdf_key: str, pdf_sha256: str, audit_detail: str) -> None:
        """Audit first, then the key: a crash in between only repeats a truthful audit line
        on retry (the PDF is byte-identical), never leaves a PDF without its hash."""
        self.append_audit(invoice_id, "rendered", audit_detail)
        self._table.update_item(
            Key={"PK": _invoice_pk(invoice_id), "SK": _DOC},
            UpdateExpression="SET pdf_key = :key, pdf_sha256 = :sha",
            ConditionExpression="#status = :finalized",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":key": pdf_key,
                ":sha": pdf_sha256,
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
        self, invoice_id: str, message_id: str, *, finished: bool, from_event: bool = False
    ) -> bool:
        """SES accepted the message: the invoice is sent, and its message id maps back to it.

        ``from_event`` is the recovery path (the configuration set's Send event, tagged with
        the invoice, after the sender died before recording): it applies only while the
        invoice still waits for its message id. ``finished`` means the ERP track is done
        too, so the invoice leaves the unfinished index in the same write.
        """
        update: dict[str, Any] = {
            "TableName": self._table.name,
            "Key": {"PK": _invoice_pk(invoice_id), "SK": _DOC},
            "UpdateExpression": "SET delivery_status = :sent, ses_message_id = :mid, "
            "delivery_detail = :none" + (_LEAVE_UNFINISHED_INDEX if finished else ""),
            "ExpressionAttributeValues": {
                ":sent": DeliveryStatus.SENT.value,
                ":mid": message_id,
                ":none": None,
            },
        }
        if from_event:
            update["ConditionExpression"] = (
                "delivery_status = :queued AND attribute_not_exists(ses_message_id)"
            )
            update["ExpressionAttributeValues"][":queued"] = DeliveryStatus.QUEUED.value
        mapping = {"PK": f"SESMSG#{message_id}", "SK": "MSG", "invoice_id": invoice_id}
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {"Update": update},
                    {"Put": {"TableName": self._table.name, "Item": mapping}},
                ]
            )
        except ClientError as error:
            if from_event and error.response["Error"]["Code"] == "TransactionCanceledException":
                return False
            raise
        return True

    def invoice_for_message(self, message_id: str) -> str | None:
        response = self._table.get_item(Key={"PK": f"SESMSG#{message_id}", "SK": "MSG"})
        item = response.get("Item")
        return str(item["invoice_id"]) if item else None

    def record_delivery_status(self, invoice_id: str, status: DeliveryStatus, detail: str) -> bool:
        """Move the e-mail only along the lifecycle's arrows (events arrive out of order)."""
        values: dict[str, Any] = {":new": status.value, ":detail": detail}
        placeholders = []
        for index, previous in enumerate(delivery_entered_from(status)):
            values[f":p{index}"] = previous
            placeholders.append(f":p{index}")
        return _written(
            lambda: self._table.update_item(
                Key={"PK": _invoice_pk(invoice_id), "SK": _DOC},
                UpdateExpression="SET delivery_status = :new, delivery_detail = :detail",
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
        """``finished``: the e-mail is settled too, so the invoice leaves the unfinished index."""
        self._update(
            invoice_id,
            {"erp_status": status.value, "erp_id": erp_id, "erp_detail": detail},
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
        response = self._table.query(
            KeyConditionExpression=Key("PK").eq(_invoice_pk(invoice_id))
            & Key("SK").begins_with("AUDIT#")
        )
        return [
            {
                "event": item["event"],
                "detail": item["detail"],
                "actor": item["actor"],
                "at": item["SK"][6:35],
            }
            for item in response["Items"]
        ]

    # -------------------------------------------------------------------- runs
    def create_run(self, context: RunContext, started_at: str) -> None:
        """Idempotent: a retried StartRun finds its own record and keeps it."""
        _written(
            lambda: self._table.put_item(
                Item={
                    "PK": _run_pk(context.run_id),
                    "SK": "RUN",
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


def _stored_invoice(item: dict[str, Any]) -> StoredInvoice:
    return StoredInvoice(
        invoice=Invoice.model_validate_json(item["document"]).model_copy(
            update={"status": InvoiceStatus(item["status"]), "run_id": item["run_id"]}
        ),
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
    )
