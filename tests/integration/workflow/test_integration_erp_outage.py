"""The ERP goes down mid-run: retries, then the error queue; once it is back, the
replay books every invoice exactly once. Real HTTP ERP on localhost, AWS in moto."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from invoice_dispatch.errors import TransientError
from invoice_dispatch.events import StepError
from invoice_dispatch.invoice import DeliveryStatus, ErpStatus
from invoice_dispatch.lifecycle import Stage, stage_of
from invoice_dispatch.platform import Platform
from invoice_dispatch.run import RunContext
from invoice_dispatch.workflow.delivery import record_chunk_failure
from invoice_dispatch.workflow.erp_posting import post_chunk
from invoice_dispatch.workflow.finalize import finalize_chunk
from invoice_dispatch.workflow.redo import plan_redo
from invoice_dispatch.workflow.resume import plan_resume, settle_ended_runs
from tests.conftest import draft_invoice
from tools.erp.http_erp_server import HttpErpState

pytestmark = pytest.mark.integration

RUN = RunContext(run_id="run-1", period="2026-11", mode="live", approval_timeout_seconds=60)
NEXT_RUN = RunContext(run_id="run-3", period="2026-12", mode="live", approval_timeout_seconds=60)
REDO = RunContext(
    run_id="run-2",
    period="2026-11",
    mode="live",
    approval_timeout_seconds=60,
    replay_erp_errors=True,
)


def _finalized(platform: Platform, count: int) -> list[str]:
    platform.store.create_run(RUN, "2026-12-01T00:00:00Z")
    ids = []
    for index in range(count):
        draft = draft_invoice(f"ACC-{index:03d}")
        platform.store.create_draft(draft)
        ids.append(draft.invoice_id)
    finalize_chunk(RUN, ids, platform, datetime(2026, 12, 1, tzinfo=UTC))
    return ids


def test_erp_outage_leaves_invoices_pending_and_the_next_run_books_each_once(
    platform: Platform, erp: HttpErpState
) -> None:
    ids = _finalized(platform, 3)
    post_chunk(RUN, 0, ids[:1], platform)  # booked before the outage
    erp.fail_next(10_000)

    for _attempt in range(3):  # what the state machine's Retry does
        with pytest.raises(TransientError, match="ERP unavailable"):
            post_chunk(RUN, 0, ids, platform)
    outage = StepError(
        Error="TransientError",
        Cause=json.dumps({"errorMessage": "ERP unavailable for 2 invoice(s)", "stackTrace": []}),
    )
    record_chunk_failure(ids, "PostToErp", outage, platform)

    pending = [platform.store.get_invoice(i) for i in ids[1:]]
    assert all(s is not None and s.erp_status is ErpStatus.NOT_POSTED for s in pending)
    assert all(
        "PostToErp stopped (TransientError): ERP unavailable" in (s.failure or "")
        for s in pending
        if s
    )
    settle_ended_runs(NEXT_RUN, platform)  # run-1 ended here, without its summary
    assert set(platform.store.unfinished_invoice_ids("live")) == set(ids)  # none e-mailed yet

    erp.fail_next(0)
    plan = plan_resume(NEXT_RUN, platform, datetime(2026, 12, 2, tzinfo=UTC))
    post_chunk(NEXT_RUN, 0, ids, platform)
    post_chunk(NEXT_RUN, 0, ids, platform)  # a retried chunk changes nothing

    assert plan.invoice_count == 3 and plan.phase == "resume"
    booked = [platform.store.get_invoice(i) for i in ids]
    assert {s.erp_status for s in booked if s} == {ErpStatus.POSTED}
    assert all(s is not None and s.failure is None for s in booked)
    numbers = {s.invoice.number for s in booked if s}
    assert set(erp.bookings) == numbers and len(erp.bookings) == 3


def test_an_erp_refusal_goes_to_the_error_queue_and_replay_books_it_once(
    platform: Platform, erp: HttpErpState
) -> None:
    ids = _finalized(platform, 2)
    refused = platform.store.get_invoice(ids[1])
    assert refused is not None
    erp.blocked_customers.add(refused.invoice.account_id)

    post_chunk(RUN, 0, ids, platform)

    queue = platform.clients.client("sqs").receive_message(
        QueueUrl=platform.settings.erp_error_queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0
    )
    assert [json.loads(m["Body"])["invoice_id"] for m in queue["Messages"]] == ids[1:]
    erp.blocked_customers.clear()
    plan = plan_redo(REDO, resend=False, replay=True, platform=platform)
    post_chunk(REDO, 0, ids, platform)

    assert plan.invoice_count == 1
    assert {platform.store.get_invoice(i).erp_status for i in ids} == {ErpStatus.POSTED}  # type: ignore[union-attr]
    assert len(erp.bookings) == 2


def test_unsent_emails_of_a_failed_chunk_stay_unfinished_for_the_next_run(
    platform: Platform,
) -> None:
    ids = _finalized(platform, 2)
    platform.store.claim_dispatch(ids[0])  # mid-send when the Lambda died: SES may have it

    throttled = StepError(Error="TransientError", Cause="SES throttled")
    record_chunk_failure(ids, "DispatchInvoices", throttled, platform)

    claimed, unsent = (platform.store.get_invoice(i) for i in ids)
    assert claimed is not None and stage_of(claimed) is Stage.CLAIMED
    assert unsent is not None and stage_of(unsent) is Stage.STORED
    assert unsent.delivery_status is DeliveryStatus.NOT_QUEUED
    assert "DispatchInvoices stopped (TransientError): SES throttled" in (unsent.failure or "")
    settle_ended_runs(NEXT_RUN, platform)  # run-1 ended here, without its summary
    assert set(platform.store.unfinished_invoice_ids("live")) == set(ids)
