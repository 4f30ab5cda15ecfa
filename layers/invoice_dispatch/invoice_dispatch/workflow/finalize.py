"""NumberInvoices and FinalizeInvoice: number, lock, render, store; exactly once per invoice.

The number is assigned in the same DynamoDB transaction that turns the draft into a
finalized invoice, so held or failed invoices never consume one and a retried step
finds the invoice already numbered. The PDF goes to a deterministic key with its
SHA-256 in the audit trail; a retry after a rendering failure renders again.

A run's approved invoices are numbered by one sequential step before the parallel
delivery Map (``number_planned_invoices``): the series counter then has a single
writer, so no numbering transaction is cancelled by a concurrent chunk (issue 15
measured 37.5 % cancelled with four chunks numbering at once), and numbers follow the
plan's account order. A chunk still numbers what it finds unnumbered (a resumed
run's leftovers), under the same transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from invoice_dispatch.adapters.aws_errors import transient_reason
from invoice_dispatch.errors import InvoiceLocked, TransientError
from invoice_dispatch.invoice import Invoice, InvoiceStatus
from invoice_dispatch.legal_entity import LegalEntity
from invoice_dispatch.platform import Platform
from invoice_dispatch.run import RunContext
from invoice_dispatch.tracking import StoredInvoice
from invoice_dispatch.workflow import keys


class ChunkOutcome(BaseModel):
    """What a chunk step did, invoice by invoice; failures carry readable reasons."""

    done: list[str] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)
    failed: dict[str, str] = Field(default_factory=dict)


def number_series(legal_entity: LegalEntity, mode: str, year: int) -> str:
    """One gapless series per legal entity and year; shadow runs count separately."""
    return f"{legal_entity.code}:{'SHADOW' if mode == 'shadow' else 'LIVE'}:{year}"


def finalized_copy(
    draft: Invoice, legal_entity: LegalEntity, sequence: int, issued_at: datetime
) -> Invoice:
    issue_date = issued_at.astimezone(ZoneInfo(legal_entity.timezone)).date()
    number_format = (
        legal_entity.shadow_number_format if draft.mode == "shadow" else legal_entity.number_format
    )
    number = number_format.format(year=issue_date.year, sequence=sequence, entity=legal_entity.code)
    return draft.model_copy(
        update={
            "status": InvoiceStatus.FINALIZED,
            "number": number,
            "issue_date": issue_date,
            "due_date": issue_date + timedelta(days=draft.payment_terms_days),
        }
    )


#: NumberInvoices stops this long before its Lambda's timeout and is called again.
NUMBERING_MARGIN_SECONDS = 30.0


class NumberingProgress(BaseModel):
    finalized: int
    complete: bool


def _number(
    context: RunContext, invoice_ids: list[str], platform: Platform, now: datetime
) -> dict[str, StoredInvoice | InvoiceLocked]:
    legal_entity = platform.legal_entity
    local_year = now.astimezone(ZoneInfo(legal_entity.timezone)).year
    return platform.store.finalize(
        invoice_ids,
        context.run_id,
        number_series(legal_entity, context.mode, local_year),
        lambda draft, sequence: finalized_copy(draft, legal_entity, sequence, now),
    )


def number_planned_invoices(
    context: RunContext,
    invoice_chunks_key: str,
    platform: Platform,
    now: datetime,
    seconds_left: Callable[[], float],
) -> NumberingProgress:
    """Number the delivery plan's invoices chunk by chunk, in plan order, before the Map.

    Chunks already numbered cost one batch read each, so a call that ran out of time
    (``complete`` false: the state machine calls again) or a retried one goes on where
    the last stopped. What cannot be numbered is left to its chunk's FinalizeInvoices,
    which records why.
    """
    finalized = 0
    for chunk in platform.documents.get_json(invoice_chunks_key):
        if seconds_left() < NUMBERING_MARGIN_SECONDS:
            return NumberingProgress(finalized=finalized, complete=False)
        outcome = _number(context, chunk["invoice_ids"], platform, now)
        finalized += sum(isinstance(stored, StoredInvoice) for stored in outcome.values())
    return NumberingProgress(finalized=finalized, complete=True)


def finalize_chunk(
    context: RunContext, invoice_ids: list[str], platform: Platform, now: datetime
) -> ChunkOutcome:
    outcome = ChunkOutcome()
    numbered = _number(context, invoice_ids, platform, now)
    for invoice_id in invoice_ids:
        stored = numbered[invoice_id]
        if isinstance(stored, InvoiceLocked):
            platform.store.record_failure(invoice_id, f"Not finalized: {stored}")
            outcome.failed[invoice_id] = str(stored)
            continue
        if stored.pdf_key:
            outcome.skipped.append(invoice_id)
            continue
        try:
            _render_and_store(context, stored.invoice, platform)
        except TransientError:
            raise
        except Exception as error:  # one bad invoice must not stop its chunk
            if transient_reason(error):  # S3 SlowDown, DynamoDB throttling: retry the chunk
                raise
            reason = f"Finalized as {stored.invoice.number} but the PDF failed: {error}"
            platform.store.record_failure(invoice_id, reason)
            outcome.failed[invoice_id] = reason
            continue
        outcome.done.append(invoice_id)
    return outcome


def _render_and_store(context: RunContext, invoice: Invoice, platform: Platform) -> None:
    """Render, hash and store the PDF under its deterministic key; a retry renders again."""
    pdf = platform.renderer.render_pdf(invoice)
    digest = hashlib.sha256(pdf).hexdigest()
    number = invoice.number or invoice.invoice_id
    pdf_key = platform.documents.put_bytes(
        keys.invoice_pdf(context.mode, context.period, number),
        pdf,
        "application/pdf",
        {"invoice-number": number, "sha256": digest},
    )
    platform.store.record_pdf(invoice.invoice_id, pdf_key, digest)
