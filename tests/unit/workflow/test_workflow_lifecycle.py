"""The invoice lifecycle, the period lock and the recovery of a lost SES message id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from invoice_dispatch.errors import RunAlreadyActive
from invoice_dispatch.invoice import DeliveryStatus, ErpStatus
from invoice_dispatch.lifecycle import Need, Stage, remaining_work, stage_of
from invoice_dispatch.platform import Platform
from invoice_dispatch.run import RunContext
from invoice_dispatch.tracking import INVOICE_TAG, invoice_id_from_tag, invoice_tag_value
from invoice_dispatch.workflow.delivery_events import apply_ses_event
from invoice_dispatch.workflow.finalize import finalize_chunk
from invoice_dispatch.workflow.resume import plan_resume, settle_ended_runs
from invoice_dispatch.workflow.start import start_run
from tests.conftest import draft_invoice

RUN = RunContext(run_id="run-1", period="2026-11", mode="live", approval_timeout_seconds=60)
LATER = RunContext(run_id="run-2", period="2026-12", mode="live", approval_timeout_seconds=60)
NOW = datetime(2026, 12, 1, 6, tzinfo=UTC)
AT_SEVEN = "2026-12-01T07:00:00Z"


def _finalized(platform: Platform) -> str:
    """A finalized invoice of run-1, a run that then ended without its summary."""
    platform.store.create_run(RUN, "2026-12-01T06:00:00Z")
    draft = draft_invoice("ACC-L1")
    platform.store.create_draft(draft)
    finalize_chunk(RUN, [draft.invoice_id], platform, NOW)
    return draft.invoice_id


def _stored(platform: Platform, invoice_id: str):  # type: ignore[no-untyped-def]
    stored = platform.store.get_invoice(invoice_id)
    assert stored is not None
    return stored


def test_each_intermediate_stage_says_what_is_left(platform: Platform) -> None:
    invoice_id = _finalized(platform)
    assert stage_of(_stored(platform, invoice_id)) is Stage.STORED
    assert remaining_work(_stored(platform, invoice_id)) == [Need.SEND, Need.BOOK]

    platform.store.claim_dispatch(invoice_id)
    assert stage_of(_stored(platform, invoice_id)) is Stage.CLAIMED
    assert remaining_work(_stored(platform, invoice_id)) == [Need.CONFIRM_SEND, Need.BOOK]

    platform.store.record_sent(invoice_id, "msg-1", finished=False)
    assert stage_of(_stored(platform, invoice_id)) is Stage.SENT
    # Its run's own entry covers it until a later run opens the run that ended unsettled.
    assert list(platform.store.unfinished_invoice_ids("live")) == []
    assert list(platform.store.unsettled_runs("live")) == [("2026-11", RUN.run_id)]
    settle_ended_runs(LATER, platform)
    assert list(platform.store.unsettled_runs("live")) == []
    assert list(platform.store.unfinished_invoice_ids("live")) == [invoice_id]

    platform.store.record_erp(invoice_id, ErpStatus.POSTED, "erp-1", None, finished=True)
    assert stage_of(_stored(platform, invoice_id)) is Stage.BOOKED
    assert remaining_work(_stored(platform, invoice_id)) == []
    assert list(platform.store.unfinished_invoice_ids("live")) == []


def _ses_event(event_type: str, invoice_id: str, message_id: str = "msg-lost") -> dict[str, Any]:
    tags = {INVOICE_TAG: [invoice_tag_value(invoice_id)]}
    return {"eventType": event_type, "mail": {"messageId": message_id, "tags": tags}}


def test_the_delivery_event_records_a_message_id_the_sender_never_wrote(
    platform: Platform,
) -> None:
    invoice_id = _finalized(platform)
    platform.store.claim_dispatch(invoice_id)  # then the sender died after SES accepted
    delivered = {**_ses_event("Delivery", invoice_id), "delivery": {"recipients": ["a@b.example"]}}

    first = apply_ses_event(delivered, platform)
    again = apply_ses_event(delivered, platform)

    stored = _stored(platform, invoice_id)
    assert first.applied and not again.applied
    assert stored.delivery_status is DeliveryStatus.DELIVERED
    assert stored.ses_message_id == "msg-lost"
    assert plan_resume(LATER, platform, NOW + timedelta(days=1)).invoice_count == 1  # only ERP
    assert "SES message msg-lost, recorded from SES's report on it" in {
        event["detail"] for event in platform.store.audit_trail(invoice_id)
    }


def test_a_delay_event_records_the_message_id_without_moving_the_status(
    platform: Platform,
) -> None:
    invoice_id = _finalized(platform)
    platform.store.claim_dispatch(invoice_id)

    delayed = apply_ses_event(_ses_event("DeliveryDelay", invoice_id), platform)
    later = apply_ses_event(_ses_event("DeliveryDelay", invoice_id, "msg-other"), platform)

    stored = _stored(platform, invoice_id)
    assert delayed.applied and not later.applied
    assert stored.delivery_status is DeliveryStatus.SENT and stored.ses_message_id == "msg-lost"


def test_a_delivery_keeps_the_message_id_the_sender_recorded(platform: Platform) -> None:
    invoice_id = _finalized(platform)
    platform.store.claim_dispatch(invoice_id)
    platform.store.record_sent(invoice_id, "msg-1", finished=False, recipient="a@b.example")

    assert apply_ses_event(_ses_event("Delivery", invoice_id, "msg-1"), platform).applied

    stored = _stored(platform, invoice_id)
    assert stored.delivery_status is DeliveryStatus.DELIVERED and stored.ses_message_id == "msg-1"


def test_invoice_tags_survive_any_account_id() -> None:
    invoice_id = "shadow:2026-11:ACC/ü 1_2"
    assert invoice_id_from_tag(invoice_tag_value(invoice_id)) == invoice_id
    assert invoice_tag_value(invoice_id).replace("_", "").replace("-", "").isalnum()


def test_a_claim_inside_its_lease_is_left_to_its_sender(platform: Platform) -> None:
    invoice_id = _finalized(platform)
    platform.store.claim_dispatch(invoice_id)

    soon = plan_resume(LATER, platform, datetime.now(UTC))
    later = plan_resume(LATER, platform, datetime.now(UTC) + timedelta(hours=1))

    assert soon.invoice_count == 0
    assert later.invoice_count == 1
    stored = _stored(platform, invoice_id)
    assert stored.possibly_sent_twice and not stored.dispatch_claimed
    assert stored.invoice.run_id == LATER.run_id


def test_a_second_start_for_a_locked_period_writes_nothing(platform: Platform) -> None:
    start_run({"period": "2026-11"}, "run-a", "2026-12-01T06:00:00Z", platform)

    with pytest.raises(RunAlreadyActive, match=r"Run run-a for 2026-11 is drafting since .*"):
        start_run({"period": "2026-11"}, "run-b", "2026-12-01T06:00:01Z", platform)

    assert platform.store.get_run("run-b") is None
    shadow = {"period": "2026-11", "mode": "shadow", "account_ids": ["A"]}
    start_run(shadow, "run-c", "2026-12-01T06:00:02Z", platform)  # another mode, another lock


def test_a_stale_lock_is_broken_by_naming_the_run_that_held_it(platform: Platform) -> None:
    start_run({"period": "2026-11"}, "run-a", "2026-12-01T06:00:00Z", platform)

    with pytest.raises(RunAlreadyActive):
        start_run({"period": "2026-11", "break_lock": "run-other"}, "run-b", AT_SEVEN, platform)
    start_run(
        {"period": "2026-11", "break_lock": "run-a"}, "run-c", "2026-12-01T07:00:00Z", platform
    )

    assert platform.store.period_lock_holder("live", "2026-11") == "run-c"
