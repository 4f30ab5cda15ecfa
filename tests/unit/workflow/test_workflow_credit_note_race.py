"""Two credit notes approved together for one invoice: judged one after the other.

Each was planned against the same remainder. Both fit alone, but not together, so the
second to be numbered must be refused with a sentence, and the credit-note series must
not lose a number to it (moto, table from the template, real renderer)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from invoice_dispatch.adapters.corrections_store import CorrectionStatus
from invoice_dispatch.corrections import (
    CorrectionRefused,
    CreditedSoFar,
    CreditNoteRequest,
    plan_credit_note,
)
from invoice_dispatch.invoice import Invoice
from invoice_dispatch.platform import Platform
from invoice_dispatch.workflow.corrections import credit_note_series, issue_credit_note
from tests.unit.erp.invoice_factory import make_finalized_invoice

ISSUED_AT = datetime(2026, 12, 3, 10, tzinfo=UTC)


def _approved(platform: Platform, request_id: str, invoice: Invoice, amount: str) -> None:
    """A credit-note request as the approval leaves it: planned against nothing credited."""
    plan = plan_credit_note(
        invoice,
        CreditNoteRequest(invoice=str(invoice.number), amount=amount, reason="Goodwill"),
        CreditedSoFar.nothing_yet(invoice),
        run_id=request_id,
    )
    assert (
        platform.corrections.open(
            request_id,
            {
                "invoice_number": str(invoice.number),
                "invoice_gross": str(invoice.gross_total),
                "plan": plan.model_dump_json(),
            },
        )
        is None
    )
    assert platform.corrections.update(request_id, {"status": CorrectionStatus.APPROVED.value})


def test_the_second_of_two_racing_credit_notes_is_refused_and_takes_no_number(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an invoice of 119.00 and two approved credits of 60.00 net (71.40 gross) each
    invoice = make_finalized_invoice(1, lines=(("PLAN", "recurring", "1", "100.00"),))
    assert invoice.gross_total == Decimal("119.00")
    _approved(platform, "first", invoice, "60.00")
    _approved(platform, "second", invoice, "60.00")
    series = credit_note_series(platform.legal_entity, 2026)
    corrections = platform.corrections

    # When the first is issued
    assert issue_credit_note("first", platform, ISSUED_AT) == "CN-2026-000001"

    # And the second, having read what was credited before the first was numbered
    real_read = corrections.credited_so_far
    reads: list[str] = []

    def stale_once(number: str) -> CreditedSoFar | None:
        reads.append(number)
        return None if len(reads) == 1 else real_read(number)

    monkeypatch.setattr(corrections, "credited_so_far", stale_once)
    with pytest.raises(CorrectionRefused) as refused:
        issue_credit_note("second", platform, ISSUED_AT)

    # Then its transaction lost to the first, it was judged again and refused with a sentence
    assert len(reads) == 2
    assert "would credit more than INV-2026-000001's 119.00 EUR" in str(refused.value)
    assert "71.40 EUR is already credited by CN-2026-000001" in str(refused.value)
    second = corrections.get("second")
    assert second is not None
    assert second["status"] == CorrectionStatus.REFUSED.value
    assert "number" not in second
    # And the series did not lose a number; the invoice's credits are the first's alone
    assert corrections.last_number(series) == 1
    credited = real_read(str(invoice.number))
    assert credited is not None
    assert credited.credit_notes == ("CN-2026-000001",)
    assert credited.credited_gross == Decimal("71.40")
