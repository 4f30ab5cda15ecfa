"""PlanDelivery and the Catch path of the per-chunk steps."""

from __future__ import annotations

from pydantic import BaseModel

from invoice_dispatch.events import StepError
from invoice_dispatch.invoice import DeliveryStatus, ErpStatus, InvoiceStatus
from invoice_dispatch.platform import Platform
from invoice_dispatch.run import RunContext
from invoice_dispatch.workflow import keys
from invoice_dispatch.workflow.erp_posting import send_to_error_queue


class DeliveryPlan(BaseModel):
    invoice_chunks_key: str
    invoice_count: int
    chunk_count: int


def plan_delivery(context: RunContext, platform: Platform) -> DeliveryPlan:
    """Write the approved (not held) drafts as chunks of ids for the Distributed Map.

    Only ids travel: each chunk step reads the invoices themselves, so the 256 KB
    payload limit holds at any batch size.
    """
    approved_ids = sorted(
        stored.invoice_id
        for stored in platform.store.run_invoices(context.run_id)
        if stored.invoice.status in (InvoiceStatus.DRAFT, InvoiceStatus.FINALIZED)
    )
    return write_delivery_plan(context, approved_ids, platform)


def write_delivery_plan(
    context: RunContext, approved_ids: list[str], platform: Platform
) -> DeliveryPlan:
    size = platform.settings.chunk_size
    chunks = [
        {"chunk_index": index, "invoice_ids": approved_ids[start : start + size]}
        for index, start in enumerate(range(0, len(approved_ids), size))
    ]
    key = platform.documents.put_json(keys.invoice_chunks_manifest(context.run_id), chunks)
    return DeliveryPlan(
        invoice_chunks_key=key, invoice_count=len(approved_ids), chunk_count=len(chunks)
    )


def record_chunk_failure(
    invoice_ids: list[str], step: str, error: StepError, platform: Platform
) -> int:
    """A chunk that failed after all its retries: nothing is lost, everything says why.

    Invoices whose e-mail never left are marked failed (an on-demand re-send picks them
    up; one claimed mid-send is left alone, SES may have it); invoices not booked go to
    the ERP error queue for replay. Returns how many invoices the failure touched.
    """
    reason = f"{step} failed after retries ({error.Error}): {error.message}"[:900]
    touched = 0
    for invoice_id, stored in platform.store.get_invoices(invoice_ids).items():
        finalized = stored.invoice.status is InvoiceStatus.FINALIZED
        if step == "DispatchInvoices" and finalized:
            unsent = (DeliveryStatus.NOT_QUEUED.value, DeliveryStatus.QUEUED.value)
            if stored.dispatch_claimed or not platform.store.record_delivery_status(
                invoice_id, DeliveryStatus.FAILED, reason, unsent
            ):
                continue
        elif step == "PostToErp" and finalized:
            if stored.erp_status in (ErpStatus.POSTED, ErpStatus.SKIPPED):
                continue
            platform.store.record_erp(invoice_id, ErpStatus.FAILED, None, reason)
            send_to_error_queue(platform, invoice_id, stored.invoice.number, reason)
        elif step == "FinalizeInvoices" and finalized and stored.pdf_key:
            continue
        platform.store.record_failure(invoice_id, reason)
        touched += 1
    return touched
