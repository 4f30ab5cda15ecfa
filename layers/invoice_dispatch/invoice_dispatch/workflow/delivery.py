"""PlanDelivery and the Catch path of the per-chunk steps."""

from __future__ import annotations

from pydantic import BaseModel

from invoice_dispatch.invoice import InvoiceStatus
from invoice_dispatch.platform import Platform
from invoice_dispatch.run import RunContext
from invoice_dispatch.workflow import keys


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
    invoice_ids: list[str], step: str, error: str, cause: str, platform: Platform
) -> int:
    """A chunk that failed after its retries: each of its invoices says where and why."""
    reason = f"{step} failed after retries ({error}): {cause}"[:900]
    for invoice_id in invoice_ids:
        stored = platform.store.get_invoice(invoice_id)
        if stored is not None and stored.failure is None:
            platform.store.record_failure(invoice_id, reason)
    return len(invoice_ids)
