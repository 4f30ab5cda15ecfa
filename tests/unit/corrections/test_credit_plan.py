"""Several credit notes never credit more than their invoice, and the last one closes it
to the minor unit, per tax rate, whatever the lines, rates and order of the credits."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invoice_dispatch.corrections import (
    CorrectionRefused,
    CreditedSoFar,
    CreditNoteRequest,
    plan_credit_note,
)
from invoice_dispatch.invoice import Invoice, TaxCategory, TaxSubtotal
from invoice_dispatch.money import round_money
from tests.unit.erp.invoice_factory import make_finalized_invoice

RATES = (Decimal("19"), Decimal("7"), Decimal("0"))


def _invoice(lines: list[tuple[str, str, Decimal]], currency: str) -> Invoice:
    """An invoice whose lines carry the given (quantity, unit price, tax rate)."""
    base = make_finalized_invoice(
        1,
        currency=currency,
        lines=tuple(
            (f"P{index}", "recurring", quantity, price)
            for index, (quantity, price, _) in enumerate(lines)
        ),
    )
    rated = tuple(
        line.model_copy(update={"tax_rate": rate})
        for line, (_, _, rate) in zip(base.lines, lines, strict=True)
    )
    taxable: dict[Decimal, Decimal] = defaultdict(Decimal)
    for line in rated:
        taxable[line.tax_rate] += line.net_amount
    breakdown = tuple(
        TaxSubtotal(
            tax_category=TaxCategory.STANDARD,
            tax_rate=rate,
            taxable_amount=amount,
            tax_amount=round_money(amount * rate / 100, currency),
        )
        for rate, amount in taxable.items()
    )
    tax_total = sum((subtotal.tax_amount for subtotal in breakdown), Decimal(0))
    return base.model_copy(
        update={
            "lines": rated,
            "tax_breakdown": breakdown,
            "tax_total": tax_total,
            "gross_total": base.net_total + tax_total,
        }
    )


def _credit(
    invoice: Invoice, so_far: CreditedSoFar, number: int, **request: object
) -> tuple[Invoice, CreditedSoFar]:
    plan = plan_credit_note(
        invoice,
        CreditNoteRequest(invoice=str(invoice.number), reason="Corrected", **request),
        so_far,
        run_id="credit-plan-test",
    )
    return plan.credit_note, so_far.with_credit_note(plan, f"CN-2026-{number:06d}")


_LINE = st.tuples(
    st.integers(min_value=1, max_value=999).map(str),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999.99"), places=2).map(str),
    st.sampled_from(RATES),
)


@settings(max_examples=60, deadline=None)
@given(
    lines=st.lists(_LINE, min_size=2, max_size=7),
    cuts=st.lists(st.integers(min_value=1, max_value=3), min_size=1, max_size=4),
)
def test_partial_credits_then_the_rest_sum_to_zero_per_rate(
    lines: list[tuple[str, str, Decimal]], cuts: list[int]
) -> None:
    # Given a multi-rate invoice credited a few lines at a time, then "all" the rest
    invoice = _invoice(lines, "EUR")
    so_far = CreditedSoFar.nothing_yet(invoice)
    notes: list[Invoice] = []
    line_ids = [line.line_id for line in invoice.lines]
    taken = 0
    for cut in cuts:
        batch = line_ids[taken : taken + cut]
        if not batch or taken + cut >= len(line_ids):
            break
        note, so_far = _credit(invoice, so_far, len(notes) + 1, lines=batch)
        notes.append(note)
        taken += cut
    note, so_far = _credit(invoice, so_far, len(notes) + 1, lines="all")
    notes.append(note)

    # Then invoice plus credit notes are zero in total and per rate, to the cent
    assert invoice.gross_total + sum(n.gross_total for n in notes) == 0
    for subtotal in invoice.tax_breakdown:
        credited = [s for n in notes for s in n.tax_breakdown if s.tax_rate == subtotal.tax_rate]
        assert subtotal.tax_amount + sum(s.tax_amount for s in credited) == 0
        assert subtotal.taxable_amount + sum(s.taxable_amount for s in credited) == 0
    # And each credit note's total is the sum of its own rounded parts
    for n in notes:
        assert n.gross_total == n.net_total + n.tax_total
        assert n.tax_total == sum(s.tax_amount for s in n.tax_breakdown)
    # And nothing more can be credited: a third request is refused with a sentence
    with pytest.raises(CorrectionRefused, match="is fully credited"):
        _credit(invoice, so_far, len(notes) + 1, amount="0.01")


@settings(max_examples=60, deadline=None)
@given(
    price=st.decimals(min_value=Decimal("1.00"), max_value=Decimal("5000.00"), places=2),
    asks=st.lists(
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal("3000.00"), places=2),
        min_size=1,
        max_size=6,
    ),
)
def test_amount_credits_never_exceed_the_invoice(price: Decimal, asks: list[Decimal]) -> None:
    # Given a one-rate invoice and a series of amount credits, some too large
    invoice = _invoice([("1", str(price), Decimal("19"))], "EUR")
    so_far = CreditedSoFar.nothing_yet(invoice)
    issued = Decimal(0)
    for number, ask in enumerate(asks, start=1):
        try:
            note, so_far = _credit(invoice, so_far, number, amount=str(ask))
        except CorrectionRefused as refused:
            # Then a refusal says what is left, and changes nothing
            assert "No credit note was issued" in str(refused) or "fully credited" in str(refused)
            continue
        issued -= note.gross_total
    # Then what was issued never passes the invoice, and the store's view agrees
    assert issued <= invoice.gross_total
    assert so_far.credited_gross == issued
    assert so_far.remaining_gross == invoice.gross_total - issued


def test_a_line_is_credited_once() -> None:
    invoice = _invoice([("1", "100.00", Decimal("19")), ("2", "50.00", Decimal("7"))], "EUR")
    first = invoice.lines[0].line_id
    _, so_far = _credit(invoice, CreditedSoFar.nothing_yet(invoice), 1, lines=[first])
    with pytest.raises(CorrectionRefused, match=f"Line {first} of .* was already credited"):
        _credit(invoice, so_far, 2, lines=[first])


def test_after_an_amount_credit_all_lines_is_refused_with_what_is_left() -> None:
    invoice = _invoice([("1", "100.00", Decimal("19"))], "EUR")
    _, so_far = _credit(invoice, CreditedSoFar.nothing_yet(invoice), 1, amount="10.00")
    with pytest.raises(CorrectionRefused, match=r"credit what is left \(107\.10 EUR"):
        _credit(invoice, so_far, 2, lines="all")


def test_an_amount_finer_than_the_currency_is_refused() -> None:
    invoice = _invoice([("1", "1000", Decimal("10"))], "JPY")
    with pytest.raises(CorrectionRefused, match="more decimals than JPY has minor units"):
        _credit(invoice, CreditedSoFar.nothing_yet(invoice), 1, amount="10.5")
