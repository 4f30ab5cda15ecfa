"""Matching: every payment ends in one defined state, with a sentence a bookkeeper reads."""

from __future__ import annotations

from decimal import Decimal

import pytest

from invoice_dispatch.payments.matching import match_payment
from invoice_dispatch.payments.references import InvoiceNumberFinder
from invoice_dispatch.receivables import EntryKind, PostingOutcome, ReceivableStatus
from tests.unit.payments.payment_factories import bank_payment
from tests.unit.receivables.receivable_factories import DUE, entry, receivable

FINDER = InvoiceNumberFinder("INV-{year}-{sequence:06d}", "NORTHWIND-EU")
OPEN = {
    "INV-2026-000001": receivable("INV-2026-000001", "119.00"),
    "INV-2026-000002": receivable("INV-2026-000002", "59.50"),
    "INV-2026-000003": receivable("INV-2026-000003", "5000", "JPY"),
}


def matched(amount: str, reference: str, **fields: object):  # type: ignore[no-untyped-def]
    payment = bank_payment(amount, reference, **fields)  # type: ignore[arg-type]
    return match_payment(payment, FINDER.find(payment.reference), OPEN)


@pytest.mark.parametrize(
    "reference",
    [
        "INV-2026-000001",
        "inv 2026 000001",
        "Rechnung 2026-000001",
        "INV2026000001",
        "Invoice no. 2026/000 001, thank you",
        "Kd-Nr 12345 2026 000001",
    ],
)
def test_the_number_is_found_whatever_the_payer_typed(reference: str) -> None:
    assert FINDER.find(reference) == ["INV-2026-000001"]


def test_numbers_that_merely_look_alike_are_not_found() -> None:
    assert FINDER.find("INV-2026-0000011 and 20260000012 and order 2026-00001") == []


def test_a_partial_payment_is_applied_and_leaves_the_rest_open() -> None:
    posting = matched("100.00", "INV-2026-000001")
    assert posting.outcome is PostingOutcome.APPLIED
    (allocation,) = posting.allocations
    assert (allocation.number, allocation.entry.amount) == ("INV-2026-000001", Decimal("100.00"))
    after = OPEN["INV-2026-000001"].record(allocation.entry)
    assert after.status(DUE) is ReceivableStatus.PARTIALLY_PAID
    assert after.open_amount == Decimal("19.00")


def test_an_overpayment_is_applied_whole_and_shows_as_overpaid() -> None:
    (allocation,) = matched("150.00", "INV-2026-000001").allocations
    after = OPEN["INV-2026-000001"].record(allocation.entry)
    assert after.status(DUE) is ReceivableStatus.OVERPAID
    assert after.open_amount == Decimal("-31.00")


def test_one_payment_for_several_invoices_with_the_exact_total_pays_each() -> None:
    posting = matched("178.50", "INV-2026-000001 + INV-2026-000002")
    assert [(a.number, a.entry.amount) for a in posting.allocations] == [
        ("INV-2026-000001", Decimal("119.00")),
        ("INV-2026-000002", Decimal("59.50")),
    ]


def test_one_payment_for_several_invoices_that_does_not_add_up_is_ambiguous() -> None:
    posting = matched("150.00", "INV-2026-000001, INV-2026-000002")
    assert posting.outcome is PostingOutcome.AMBIGUOUS
    assert posting.allocations == ()
    assert posting.explanation == (
        "150.00 EUR from Acme Analytics GmbH received on 2026-12-10 (bank statement) names "
        "INV-2026-000001 (119.00 open), INV-2026-000002 (59.50 open), 178.50 EUR open "
        "together; it cannot be split without a person, so nothing was applied."
    )


def test_a_settled_invoice_among_several_takes_nothing() -> None:
    paid = OPEN["INV-2026-000002"].record(entry(EntryKind.PAYMENT, "59.50"))
    payment = bank_payment("119.00", "INV-2026-000001 INV-2026-000002")
    posting = match_payment(
        payment, FINDER.find(payment.reference), {**OPEN, "INV-2026-000002": paid}
    )
    assert [a.number for a in posting.allocations] == ["INV-2026-000001"]


def test_no_number_in_the_reference_is_unmatched_with_a_sentence() -> None:
    posting = matched("42.00", "Rechnung vom 3.12.")
    assert posting.outcome is PostingOutcome.UNMATCHED
    assert posting.explanation == (
        "42.00 EUR from Acme Analytics GmbH received on 2026-12-10 (bank statement) names no "
        "invoice number in 'Rechnung vom 3.12.'; find the invoice and apply it by hand."
    )


def test_a_number_that_is_not_awaiting_payment_is_unmatched() -> None:
    posting = matched("42.00", "INV-2026-000999")
    assert posting.outcome is PostingOutcome.UNMATCHED
    assert "INV-2026-000999, which is not an invoice awaiting payment" in posting.explanation


def test_a_payment_in_another_currency_is_not_converted() -> None:
    posting = matched("5000", "INV-2026-000003", currency="EUR")
    assert posting.outcome is PostingOutcome.UNMATCHED
    assert "was paid in EUR but INV-2026-000003 is billed in JPY" in posting.explanation


def test_a_refund_names_one_invoice() -> None:
    refund = matched("10.00", "INV-2026-000001", kind=EntryKind.REFUND)
    assert refund.allocations[0].entry.kind is EntryKind.REFUND
    several = matched("10.00", "INV-2026-000001 INV-2026-000002", kind=EntryKind.REFUND)
    assert several.outcome is PostingOutcome.AMBIGUOUS
