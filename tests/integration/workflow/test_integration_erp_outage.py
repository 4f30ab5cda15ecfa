"""The ERP goes down mid-run: retries, then the error queue; once it is back, the
replay books every invoice exactly once. Real HTTP ERP on localhost, AWS in moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import pytest_socket

from invoice_dispatch.adapters.erp_http import HttpErpClient
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
from tests.conftest import draft_invoice
from tools.erp.http_erp_server import HttpErpState, running_http_erp

pytestmark = pytest.mark.integration

RUN = RunContext(run_id="run-1", period="2026-11", mode="live", approval_timeout_seconds=60)
REDO = RunContext(
    run_id="run-2",
    period="2026-11",
    mode="live",
    approval_timeout_seconds=60,
    replay_erp_errors=True,
)


@pytest.fixture
def erp(platform: Platform) -> Iterator[HttpErpState]:
    pytest_socket.socket_allow_hosts(["127.0.0.1", "localhost"])
    with running_http_erp() as (url, state):
        platform.erp_client = HttpErpClient(url, timeout_seconds=2)
        yield state


def _finalized(platform: Platform, count: int) -> list[str]:
    ids = []
    for index in range(count):
        draft = draft_invoice(f"ACC-{index:03d}")
        platform.store.create_draft(draft)
        ids.append(draft.invoice_id)
    finalize_chunk(RUN, ids, platform, datetime(2026, 12, 1, tzinfo=UTC))
    return ids


def test_erp_outage_goes_to_the_error_queue_and_replay_books_each_once(
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

    failed = [i for i in ids if platform.store.get_invoice(i).erp_status is ErpStatus.FAILED]  # type: ignore[union-attr]
    assert failed == ids[1:]
    queue = platform.clients.client("sqs").receive_message(
        QueueUrl=platform.settings.erp_error_queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0
    )
    diagnostics = [json.loads(m["Body"]) for m in queue["Messages"]]
    assert sorted(d["invoice_id"] for d in diagnostics) == ids[1:]
    assert all("ERP unavailable" in d["diagnostic"] for d in diagnostics)

    erp.fail_next(0)
    plan = plan_redo(REDO, resend=False, replay=True, platform=platform)
    post_chunk(REDO, 0, ids, platform)
    post_chunk(REDO, 0, ids, platform)  # a second replay changes nothing

    assert plan.invoice_count == 2
    assert {platform.store.get_invoice(i).erp_status for i in ids} == {ErpStatus.POSTED}  # type: ignore[union-attr]
    numbers = {platform.store.get_invoice(i).invoice.number for i in ids}  # type: ignore[union-attr]
    assert set(erp.bookings) == numbers and len(erp.bookings) == 3


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
    assert set(platform.store.unfinished_invoice_ids("live")) == set(ids)
