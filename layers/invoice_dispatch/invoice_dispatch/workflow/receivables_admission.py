"""AdmitInvoices: open a receivable for every invoice the monthly runs finalized and sent.

The monthly run writes nothing for the ledger: at 100,000 invoices one more write each is
100,000 write units a month for data nobody reads until the invoice is due. The daily
collections run calls this first instead. It asks Step Functions which executions of the
monthly state machine stopped since its last pass (``ListExecutions``: one call per 100
runs, not per invoice), walks each live run's invoices through the run index (GSI1, 100
keys per page) and opens a receivable for each one finalized and accepted by SES (sent,
delivered, even bounced: a bounced invoice is still owed). Those not sent yet are moved
into a later run's index by the resume or resend run that sends them, and are admitted
from there.

Admission is idempotent (``LedgerStore.open_receivables`` writes only what is missing),
so runs that stopped shortly before the last pass (``OVERLAP``) are looked at again and
a pass that failed halfway is simply repeated: the cursor moves only when a pass ends.
A run that started more than ``LOOKBACK`` before the last pass is not listed again: the
approval wait (72 hours by default) and delivery end long before.

An invoice of an auto-pay account is enrolled in the payment run as it is admitted
(``workflow/autopay.py``), once: its reminders are held while auto-pay collects it.

A finalized credit note is applied to the invoice it credits as a ``credit`` entry, once
(``credit:<credit note number>``); if that invoice is no receivable, it goes on the
payments exception list with a sentence.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from invoice_dispatch.errors import PermanentError
from invoice_dispatch.invoice import DeliveryStatus, Invoice, InvoiceStatus
from invoice_dispatch.platform import Platform
from invoice_dispatch.receivables import (
    Allocation,
    EntryKind,
    LedgerEntry,
    Posting,
    PostingOutcome,
    Receivable,
)
from invoice_dispatch.tracking import StoredInvoice
from invoice_dispatch.workflow.autopay import enroll_invoices
from invoice_dispatch.workflow.payments_in import record_once

OVERLAP = timedelta(hours=1)
LOOKBACK = timedelta(days=35)
#: SES took the message: from here on the customer has (or could have) the invoice.
_SENT = frozenset(
    {
        DeliveryStatus.SENT,
        DeliveryStatus.DELIVERED,
        DeliveryStatus.BOUNCED,
        DeliveryStatus.COMPLAINED,
    }
)
_PAGE = 100


class AdmissionResult(BaseModel):
    runs: list[str] = Field(default_factory=list)
    admitted: int = 0
    credit_notes: int = 0
    autopay_enrolled: int = 0


def finished_runs(sfn: Any, state_machine_arn: str, since: datetime | None) -> list[str]:
    """Names (= run ids) of executions that stopped since ``since`` (all if None)."""
    stopped_after = since - OVERLAP if since else None
    started_after = since - LOOKBACK if since else None
    names: list[str] = []
    request: dict[str, Any] = {"stateMachineArn": state_machine_arn, "maxResults": 100}
    while True:
        page = sfn.list_executions(**request)
        for execution in page["executions"]:  # newest start first
            if started_after and execution["startDate"] < started_after:
                return names
            stopped = execution.get("stopDate")
            if stopped and (stopped_after is None or stopped >= stopped_after):
                names.append(execution["name"])
        if not page.get("nextToken"):
            return names
        request["nextToken"] = page["nextToken"]


def _admissible(stored: StoredInvoice) -> bool:
    invoice = stored.invoice
    return (
        invoice.mode == "live"
        and invoice.status is InvoiceStatus.FINALIZED
        and invoice.number is not None
        and stored.delivery_status in _SENT
    )


def _pages(stored_invoices: Iterator[StoredInvoice]) -> Iterator[list[Invoice]]:
    page: list[Invoice] = []
    for stored in stored_invoices:
        if _admissible(stored):
            page.append(stored.invoice)
        if len(page) == _PAGE:
            yield page
            page = []
    if page:
        yield page


def apply_credit_note(credit_note: Invoice, platform: Platform) -> None:
    credited = str(credit_note.credited_invoice_number)
    amount = -credit_note.gross_total
    key = f"credit:{credit_note.number}"

    def decide(receivables: Any) -> Posting:
        fields: dict[str, Any] = {
            "key": key,
            "source": "credit note",
            "received_on": credit_note.issue_date,
            "currency": credit_note.currency,
            "amount": amount,
            "reference": f"{credit_note.number} credits {credited}",
        }
        if credited not in receivables:
            return Posting(
                **fields,
                outcome=PostingOutcome.UNMATCHED,
                explanation=f"Credit note {credit_note.number} ({amount} {credit_note.currency})"
                f" credits {credited}, which is not an invoice awaiting payment; apply it by "
                "hand.",
            )
        entry = LedgerEntry(
            entry_key=key,
            kind=EntryKind.CREDIT,
            currency=credit_note.currency,
            amount=amount,
            booked_on=credit_note.issue_date,
            note=f"Credit note {credit_note.number}",
        )
        return Posting(
            **fields,
            outcome=PostingOutcome.APPLIED,
            allocations=(Allocation(number=credited, entry=entry),),
            explanation=f"Credit note {credit_note.number} applied to {credited}.",
        )

    record_once(key, [credited], decide, platform)


def admit_invoices(platform: Platform, now: datetime) -> AdmissionResult:
    arn = platform.settings.monthly_run_state_machine_arn
    if not arn:
        raise PermanentError("MONTHLY_RUN_STATE_MACHINE_ARN is not configured")
    ledger = platform.ledger
    sfn = platform.clients.client("stepfunctions")
    result = AdmissionResult()
    for run_id in finished_runs(sfn, arn, ledger.admission_cursor()):
        run = platform.store.get_run(run_id)
        if run is None or run["context"].mode != "live":
            continue
        result.runs.append(run_id)
        sales: dict[tuple[date, str], Decimal] = {}
        for page in _pages(platform.store.run_invoices(run_id)):
            invoices = [invoice for invoice in page if invoice.credited_invoice_number is None]
            opened = ledger.open_receivables(Receivable.opened_for(i) for i in invoices)
            result.admitted += len(opened)
            result.autopay_enrolled += enroll_invoices(invoices, platform)
            for invoice in invoices:
                sale = (invoice.issue_date or date.min, invoice.currency)
                sales[sale] = sales.get(sale, Decimal(0)) + invoice.gross_total
            for credit_note in (i for i in page if i.credited_invoice_number is not None):
                apply_credit_note(credit_note, platform)
                result.credit_notes += 1
        if sales:  # DSO's credit sales (collections/kpis.py): the run's whole, each pass
            platform.collections.record_run_sales(run_id, sales)
    ledger.set_admission_cursor(now)
    return result
