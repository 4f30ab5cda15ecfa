"""PlanDelivery and the Catch path of the per-chunk steps."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Literal, TypeVar

from pydantic import BaseModel

from invoice_dispatch.events import StepError
from invoice_dispatch.invoice import InvoiceStatus
from invoice_dispatch.lifecycle import delivery_settled, erp_settled
from invoice_dispatch.platform import Platform
from invoice_dispatch.run import RunContext
from invoice_dispatch.workflow import keys

T = TypeVar("T")


class DeliveryPlan(BaseModel):
    invoice_chunks_key: str
    invoice_count: int
    chunk_count: int
    #: "resume": leftovers of earlier runs, after which the run goes on with its own work.
    phase: Literal["resume", "deliver"] = "deliver"


def plan_delivery(context: RunContext, platform: Platform) -> DeliveryPlan:
    """Write the approved (not held) drafts as chunks of ids for the Distributed Map.

    Only ids travel: each chunk step reads the invoices themselves, so the 256 KB
    payload limit holds at any batch size. The ids are chunked and written as the run is
    paged in, in the run index's account order (for the run's own drafts, which share
    their period's prefix, that is also id order), so no list of the run is ever held.
    """
    approved_ids = (
        invoice_id
        for invoice_id, status in platform.store.run_invoice_statuses(context.run_id)
        if status in (InvoiceStatus.DRAFT, InvoiceStatus.FINALIZED)
    )
    return write_delivery_plan(context, approved_ids, platform)


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of ``size`` items (the last may be shorter), taken as they come."""
    remaining = iter(items)
    while chunk := list(islice(remaining, size)):
        yield chunk


def write_delivery_plan(
    context: RunContext,
    approved_ids: Iterable[str],
    platform: Platform,
    phase: Literal["resume", "deliver"] = "deliver",
) -> DeliveryPlan:
    key = keys.invoice_chunks_manifest(context.run_id, phase)
    invoice_count = 0

    def manifest_entries() -> Iterator[dict[str, object]]:
        nonlocal invoice_count
        for index, chunk in enumerate(chunked(approved_ids, platform.settings.chunk_size)):
            invoice_count += len(chunk)
            yield {"chunk_index": index, "invoice_ids": chunk}

    chunk_count = platform.documents.put_json_stream(key, manifest_entries())
    return DeliveryPlan(
        invoice_chunks_key=key,
        invoice_count=invoice_count,
        chunk_count=chunk_count,
        phase=phase,
    )


def record_chunk_failure(
    invoice_ids: list[str], step: str, error: StepError, platform: Platform
) -> int:
    """A chunk step that failed after its retries: nothing is lost, everything says why.

    The chunk goes on with the invoices that passed the step (the state machine moves to
    the next step). What the failed step left undone stays in its lifecycle stage, in the
    unfinished index, with the reason recorded: the next run (or ``{"resume": true}``)
    finishes it, and this run's summary lists it as unreconciled. (The ERP error queue
    is for bookings the ERP itself refused, which need a person to fix the mapping.)
    Returns how many invoices the failure touched.
    """
    reason = f"{step} stopped ({error.Error}): {error.message}"[:900]
    step_done = {
        "FinalizeInvoices": lambda stored: bool(stored.pdf_key),
        "DispatchInvoices": delivery_settled,
        "PostToErp": erp_settled,
    }[step]
    touched = 0
    for invoice_id, stored in platform.store.get_invoices(invoice_ids).items():
        finalized = stored.invoice.status is InvoiceStatus.FINALIZED
        if (finalized and step_done(stored)) or (step != "FinalizeInvoices" and not finalized):
            continue
        platform.store.record_failure(invoice_id, reason)
        touched += 1
    return touched
