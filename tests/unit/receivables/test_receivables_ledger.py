"""The ledger: open amount = gross - applied entries, to the minor unit, and the status."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from invoice_dispatch.invoice import InvoiceStatus
from invoice_dispatch.money import MINOR_UNITS, quantum
from invoice_dispatch.receivables import (
    EntryKind,
    InvalidEntry,
    LedgerEntry,
    NotReceivable,
    Receivable,
    ReceivableStatus,
)
from tests.unit.erp.invoice_factory import make_finalized_invoice
from tests.unit.receivables.receivable_factories import DUE, entry, receivable

MONEY_KINDS = [kind for kind in EntryKind if not kind.value.startswith("dispute")]


@st.composite
def ledgers(draw: st.DrawFn) -> tuple[Receivable, list[LedgerEntry]]:
    currency = draw(st.sampled_from(sorted(MINOR_UNITS)))
    unit = quantum(currency)
    gross_units = draw(st.integers(min_value=0, max_value=10**9))
    opened = receivable(gross=str(gross_units * unit), currency=currency)
    entries = []
    for index in range(draw(st.integers(min_value=0, max_value=25))):
        kind = draw(st.sampled_from(list(EntryKind)))
        units = 0 if kind.value.startswith("dispute") else draw(st.integers(1, 10**9))
        entries.append(
            LedgerEntry(
                entry_key=f"k{index}",
                kind=kind,
                currency=currency,
                amount=units * unit,
                booked_on=date(2026, 12, 1),
            )
        )
    return opened, entries


@given(ledgers())
def test_any_sequence_of_entries_keeps_open_equal_to_gross_minus_applied(
    ledger: tuple[Receivable, list[LedgerEntry]],
) -> None:
    opened, entries = ledger
    after = opened.replayed(entries)
    money_in = sum(e.amount for e in entries if e.kind in (EntryKind.PAYMENT, EntryKind.CREDIT))
    money_in += sum(e.amount for e in entries if e.kind is EntryKind.WRITE_OFF)
    money_back = sum(e.amount for e in entries if e.kind in (EntryKind.REFUND, EntryKind.REVERSAL))
    assert after.open_amount == opened.gross - money_in + money_back
    assert after.open_amount.as_tuple().exponent == quantum(opened.currency).as_tuple().exponent
    assert after.entry_count == len(entries)


def test_partial_payment_and_credit_note_add_up_to_exactly_the_gross() -> None:
    invoice = make_finalized_invoice(7)
    opened = Receivable.opened_for(invoice)
    payment = entry(EntryKind.PAYMENT, "300.00", key="bank:1")
    credit = (opened.gross - Decimal("300.00")).quantize(Decimal("0.01"))
    settled = opened.record(payment).record(entry(EntryKind.CREDIT, str(credit), key="credit:1"))

    assert opened.record(payment).status(opened.due_date) is ReceivableStatus.PARTIALLY_PAID
    assert settled.open_amount == Decimal("0.00")
    assert settled.total(EntryKind.PAYMENT) + settled.total(EntryKind.CREDIT) == invoice.gross_total
    assert settled.status(opened.due_date + timedelta(days=400)) is ReceivableStatus.PAID


@pytest.mark.parametrize(
    ("entries", "as_of", "expected"),
    [
        ([], DUE, ReceivableStatus.OPEN),
        ([], DUE + timedelta(days=1), ReceivableStatus.OVERDUE),
        ([(EntryKind.PAYMENT, "19.00")], DUE, ReceivableStatus.PARTIALLY_PAID),
        ([(EntryKind.PAYMENT, "19.00")], DUE + timedelta(days=3), ReceivableStatus.OVERDUE),
        ([(EntryKind.PAYMENT, "119.00")], DUE + timedelta(days=90), ReceivableStatus.PAID),
        ([(EntryKind.PAYMENT, "120.00")], DUE, ReceivableStatus.OVERPAID),
        ([(EntryKind.CREDIT, "119.00")], DUE, ReceivableStatus.CREDITED),
        (
            [(EntryKind.PAYMENT, "100.00"), (EntryKind.WRITE_OFF, "19.00")],
            DUE,
            ReceivableStatus.WRITTEN_OFF,
        ),
        ([(EntryKind.DISPUTE_OPENED, "0")], DUE + timedelta(days=40), ReceivableStatus.DISPUTED),
        (
            [(EntryKind.DISPUTE_OPENED, "0"), (EntryKind.DISPUTE_CLOSED, "0")],
            DUE + timedelta(days=40),
            ReceivableStatus.OVERDUE,
        ),
        (
            [(EntryKind.PAYMENT, "119.00"), (EntryKind.REVERSAL, "119.00")],
            DUE,
            ReceivableStatus.OPEN,
        ),
        (
            [(EntryKind.PAYMENT, "150.00"), (EntryKind.REFUND, "31.00")],
            DUE,
            ReceivableStatus.PAID,
        ),
        (
            [(EntryKind.DISPUTE_OPENED, "0"), (EntryKind.PAYMENT, "200.00")],
            DUE,
            ReceivableStatus.OVERPAID,
        ),
    ],
)
def test_status_follows_the_documented_precedence(
    entries: list[tuple[EntryKind, str]], as_of: date, expected: ReceivableStatus
) -> None:
    ledger = [entry(kind, amount, key=f"k{index}") for index, (kind, amount) in enumerate(entries)]
    assert receivable().replayed(ledger).status(as_of) is expected


def test_an_amount_finer_than_the_minor_unit_is_refused_not_rounded() -> None:
    with pytest.raises(ValidationError, match="more decimals than EUR"):
        entry(EntryKind.PAYMENT, "10.005")
    with pytest.raises(ValidationError, match="more decimals than JPY"):
        entry(EntryKind.PAYMENT, "10.5", currency="JPY")


def test_amounts_are_stored_at_the_currency_minor_unit() -> None:
    assert str(entry(EntryKind.PAYMENT, "10").amount) == "10.00"
    assert str(entry(EntryKind.PAYMENT, "10", currency="BHD").amount) == "10.000"


def test_a_payment_in_another_currency_is_refused() -> None:
    with pytest.raises(InvalidEntry, match="billed in EUR"):
        receivable().record(entry(EntryKind.PAYMENT, "10.00", currency="USD"))


def test_recording_never_changes_the_receivable_it_was_called_on() -> None:
    opened = receivable()
    opened.record(entry(EntryKind.PAYMENT, "10.00"))
    assert opened.open_amount == Decimal("119.00")
    assert opened.entry_count == 0


def test_only_finalized_invoices_that_are_not_credit_notes_become_receivables() -> None:
    invoice = make_finalized_invoice(3)
    with pytest.raises(NotReceivable, match="draft"):
        Receivable.opened_for(invoice.model_copy(update={"status": InvoiceStatus.DRAFT}))
    with pytest.raises(NotReceivable, match="credit note"):
        Receivable.opened_for(invoice.model_copy(update={"credited_invoice_number": "INV-1"}))
    opened = Receivable.opened_for(invoice)
    assert (opened.number, opened.gross, opened.due_date) == (
        invoice.number,
        invoice.gross_total,
        invoice.due_date,
    )
