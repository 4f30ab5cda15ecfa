"""PostToErp: book each finalized invoice exactly once; what cannot be booked is queued.

The ERP client looks the invoice up by its number before creating it (NetSuite doubles
after a timed-out retry were Lago PR #5482's bug). Mapping gaps and ERP validation
errors are permanent: they go to the SQS error queue with a readable diagnostic, to be
replayed once fixed. Timeouts and 5xx are transient: the chunk is retried.
"""

from __future__ import annotations

import json
import time

from invoice_dispatch.erp import (
    ErpPermanentError,
    ErpTransientError,
    MissingMapping,
    post_invoice_once,
)
from invoice_dispatch.errors import TransientError
from invoice_dispatch.invoice import ErpStatus, InvoiceStatus
from invoice_dispatch.lifecycle import delivery_settled
from invoice_dispatch.platform import Platform
from invoice_dispatch.run import RunContext
from invoice_dispatch.workflow import keys
from invoice_dispatch.workflow.finalize import ChunkOutcome


def send_to_error_queue(
    platform: Platform, invoice_id: str, number: str | None, diagnostic: str
) -> None:
    platform.clients.client("sqs").send_message(
        QueueUrl=platform.settings.erp_error_queue_url,
        MessageBody=json.dumps(
            {"invoice_id": invoice_id, "invoice_number": number, "diagnostic": diagnostic}
        ),
    )


def post_chunk(
    context: RunContext, chunk_index: int, invoice_ids: list[str], platform: Platform
) -> tuple[ChunkOutcome, list[float]]:
    """Returns the outcome and the latency of each ERP call, in seconds, for the run's metrics."""
    outcome = ChunkOutcome()
    latencies: list[float] = []
    transient: list[str] = []
    for invoice_id, stored in platform.store.get_invoices(invoice_ids).items():
        if (
            stored.invoice.status is not InvoiceStatus.FINALIZED
            or stored.erp_status is ErpStatus.POSTED
        ):
            outcome.skipped.append(invoice_id)
            continue
        finished = delivery_settled(stored)
        if context.mode == "shadow" or platform.settings.erp_adapter == "none":
            reason = "Shadow run: not booked" if context.mode == "shadow" else "No ERP configured"
            platform.store.record_erp(
                invoice_id, ErpStatus.SKIPPED, None, reason, finished=finished
            )
            outcome.skipped.append(invoice_id)
            continue
        started = time.perf_counter()
        try:
            receipt = post_invoice_once(stored.invoice, platform.erp_mapping, platform.erp_client)
        except ErpTransientError as error:
            transient.append(invoice_id)
            platform.store.record_erp(
                invoice_id, ErpStatus.NOT_POSTED, None, f"ERP unavailable: {error}"
            )
            continue
        except (MissingMapping, ErpPermanentError) as error:
            diagnostic = str(error)
            platform.store.record_erp(
                invoice_id, ErpStatus.FAILED, None, diagnostic, finished=finished
            )
            send_to_error_queue(platform, invoice_id, stored.invoice.number, diagnostic)
            outcome.failed[invoice_id] = diagnostic
            continue
        finally:
            latencies.append(time.perf_counter() - started)
        platform.store.record_erp(
            invoice_id,
            ErpStatus.POSTED,
            receipt.erp_id,
            f"{'Created' if receipt.created else 'Found'} in the ERP",
            finished=finished,
        )
        outcome.done.append(invoice_id)
    platform.documents.put_json(
        keys.erp_report(context.run_id, chunk_index),
        {"latencies_seconds": latencies, "outcome": outcome.model_dump()},
    )
    if transient:
        raise TransientError(
            f"ERP unavailable for {len(transient)} invoice(s); the chunk will be retried"
        )
    return outcome, latencies
