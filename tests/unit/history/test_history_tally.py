"""A billing run's history figures, tallied invoice by invoice as the summary pages."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from invoice_dispatch.history import HistoryTally, RunKind, run_kind
from invoice_dispatch.invoice import DeliveryStatus, ErpStatus, InvoiceStatus
from invoice_dispatch.run import RunContext
from invoice_dispatch.tracking import StoredInvoice
from tests.unit.billing.billing_factories import invoice_for, raw_account

NUMBERED = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def _finalized(delivery: DeliveryStatus, erp_seconds: float | None = None) -> StoredInvoice:
    invoice = invoice_for(raw_account()).model_copy(
        update={"status": InvoiceStatus.FINALIZED, "issue_date": date(2026, 12, 1)}
    )
    booked = erp_seconds is not None
    return StoredInvoice(
        invoice=invoice,
        delivery_status=delivery,
        erp_status=ErpStatus.POSTED if booked else ErpStatus.NOT_POSTED,
        numbered_at=NUMBERED,
        erp_at=NUMBERED + timedelta(seconds=erp_seconds) if booked else None,
    )


def test_the_tally_counts_what_ses_reported_and_the_erp_latency() -> None:
    tally = HistoryTally(RunKind.MONTHLY, date(2026, 12, 1))
    for stored in (
        _finalized(DeliveryStatus.DELIVERED, 2.0),
        _finalized(DeliveryStatus.BOUNCED, 4.0),
        _finalized(DeliveryStatus.SENT, 8.0),  # no SES event yet
        _finalized(DeliveryStatus.QUEUED),  # not accepted by SES
    ):
        tally.add(stored)
    assert (tally.emails_sent, tally.emails_reported, tally.emails_delivered) == (3, 2, 1)
    assert tally.erp_latency.count == 3
    assert tally.erp_latency.percentile(50) == 4.0
    assert tally.reworked == {}


def test_a_resend_run_counts_its_invoices_as_rework_of_their_period_within_30_days() -> None:
    within = HistoryTally(RunKind.RESEND, date(2026, 12, 31))
    within.add(_finalized(DeliveryStatus.SENT))
    assert within.reworked == {"2026-11": 1}
    late = HistoryTally(RunKind.RESEND, date(2027, 1, 1))
    late.add(_finalized(DeliveryStatus.SENT))
    assert late.reworked == {}


@pytest.mark.parametrize(
    ("fields", "kind"),
    [
        ({"scheduled": True}, RunKind.MONTHLY),
        ({}, RunKind.ON_DEMAND),
        ({"mode": "shadow"}, RunKind.SHADOW),
        ({"resume_only": True}, RunKind.RESUME),
        ({"release_held": "all"}, RunKind.RELEASE_HELD),
        ({"resend_failed_deliveries": True}, RunKind.RESEND),
        ({"replay_erp_errors": True}, RunKind.REPLAY_ERP),
    ],
)
def test_the_kind_of_a_monthly_state_machine_run_comes_from_its_input(
    fields: dict[str, Any], kind: RunKind
) -> None:
    context = RunContext.model_validate(
        {"run_id": "r", "period": "2026-11", "mode": "live", "approval_timeout_seconds": 60}
        | fields
    )
    assert run_kind(context) is kind
