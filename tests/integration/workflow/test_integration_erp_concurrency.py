"""Many ERP chunks at once in one process, as the local stack runs a Map's children in
threads, while SES events land on the very invoices they are reading: every chunk ends,
and every invoice is booked exactly once.

A 100,000-account local run lost four ERP chunks to "dictionary changed size during
iteration": moto answered a read from its live item while a delivery event added an
attribute to it. The local stack's moto now answers each request whole before the next;
``test_local_moto_transactions`` catches that race itself within a second, which this
path, with its few writes, rarely meets. This test holds the path as a whole to it.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from invoice_dispatch.invoice import DeliveryStatus, ErpStatus
from invoice_dispatch.platform import Platform
from invoice_dispatch.workflow.delivery_events import apply_ses_event
from invoice_dispatch.workflow.dispatch import dispatch_chunk
from invoice_dispatch.workflow.erp_posting import post_chunk
from tests.conftest import ses_sample_event
from tests.unit.workflow.test_workflow_dispatch import RUN, finalized_invoices
from tools.erp.http_erp_server import HttpErpState

pytestmark = pytest.mark.integration

CHUNKS = 4
PER_CHUNK = 8


def _ses_events(platform: Platform, invoice_ids: list[str]) -> list[dict[str, object]]:
    """A delivery, then a complaint, for each invoice: each adds attributes to its item."""
    events = []
    for sample in ("delivery", "complaint"):
        for invoice_id in invoice_ids:
            stored = platform.store.get_invoice(invoice_id)
            assert stored is not None and stored.ses_message_id
            sns_event = ses_sample_event(sample, stored.ses_message_id, invoice_id)
            events.append(json.loads(sns_event["Records"][0]["Sns"]["Message"]))
    return events


@pytest.mark.usefixtures("dense_thread_switching")
def test_erp_chunks_at_once_beside_delivery_events_book_each_invoice_once(
    platform: Platform, erp: HttpErpState
) -> None:
    ids = finalized_invoices(platform, CHUNKS * PER_CHUNK)
    dispatch_chunk(RUN, ids, platform)
    events = _ses_events(platform, ids)
    chunks = [ids[index : index + PER_CHUNK] for index in range(0, len(ids), PER_CHUNK)]
    start = threading.Barrier(CHUNKS + 1)
    events_applied = threading.Event()

    def post(index: int) -> list[str]:
        """Books the chunk, then runs it again as a re-driven Map item does until the
        events are in: a second run books nothing."""
        start.wait()
        outcome, _latencies = post_chunk(RUN, index, chunks[index], platform)
        while not events_applied.is_set():
            again, _latencies = post_chunk(RUN, index, chunks[index], platform)
            assert again.done == [] and sorted(again.skipped) == sorted(chunks[index])
        return outcome.done

    def deliver() -> int:
        start.wait()
        try:
            return sum(apply_ses_event(event, platform).applied for event in events)
        finally:
            events_applied.set()

    with ThreadPoolExecutor(CHUNKS + 1) as pool:
        posted = [pool.submit(post, index) for index in range(CHUNKS)]
        delivered = pool.submit(deliver)
        booked = [invoice_id for future in posted for invoice_id in future.result()]

    assert delivered.result() == len(events)
    assert sorted(booked) == sorted(ids)
    assert len(erp.erp_ids) == len(ids), "one ERP entry per invoice"
    for invoice_id in ids:
        stored = platform.store.get_invoice(invoice_id)
        assert stored is not None
        assert stored.erp_status is ErpStatus.POSTED
        assert stored.delivery_status is DeliveryStatus.COMPLAINED
