"""Which invoices a payment pays: by the numbers in its reference, its amount and currency.

Every payment ends in exactly one of these, and the rule that decided says so in the
posting's ``explanation``:

* **No invoice number** in the reference, or only numbers that are no invoice awaiting
  payment (not issued or not sent yet, a typo): *unmatched*, on the exception list.
* **Another currency** than an invoice it names: *unmatched* (nothing is converted).
* **One invoice**: the whole amount is applied to it. Less than open leaves it
  ``partially_paid``; more makes it ``overpaid`` (the excess stays visible on that
  invoice, to be refunded or kept as credit, rather than parked anywhere else).
* **Several invoices** and the amount equals what they have open together: each is paid
  its open amount. Any other amount is *ambiguous*: which invoice should stay open is the
  customer's decision, not a guess; a bookkeeper splits it by hand.
* **A refund** (webhook ``payment.refunded``) names one invoice, or it is *ambiguous*.

An invoice that is already settled still counts for "several invoices" with nothing
open: paying it again makes it ``overpaid`` only when it is the one invoice named.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from invoice_dispatch.billing.quoting import quote
from invoice_dispatch.money import zero
from invoice_dispatch.payments.incoming import IncomingPayment
from invoice_dispatch.receivables import (
    Allocation,
    EntryKind,
    LedgerEntry,
    Posting,
    PostingOutcome,
    Receivable,
)


def _posting(
    payment: IncomingPayment,
    outcome: PostingOutcome,
    explanation: str,
    allocations: tuple[Allocation, ...] = (),
) -> Posting:
    return Posting(
        key=payment.key,
        source=payment.source,
        received_on=payment.received_on,
        currency=payment.currency,
        amount=payment.amount,
        payer=payment.payer,
        reference=payment.reference,
        outcome=outcome,
        allocations=allocations,
        explanation=explanation,
    )


def _applied(payment: IncomingPayment, amounts: list[tuple[Receivable, Decimal]]) -> Posting:
    allocations = tuple(
        Allocation(
            number=receivable.number,
            entry=LedgerEntry(
                entry_key=payment.key,
                kind=payment.kind,
                currency=payment.currency,
                amount=amount,
                booked_on=payment.received_on,
                note=payment.describe(),
            ),
        )
        for receivable, amount in amounts
    )
    numbers = ", ".join(allocation.number for allocation in allocations)
    verb = "refunded on" if payment.kind is EntryKind.REFUND else "applied to"
    explanation = f"{payment.describe()}: {verb} {numbers}."
    return _posting(payment, PostingOutcome.APPLIED, explanation, allocations)


def match_payment(
    payment: IncomingPayment, named_numbers: list[str], receivables: Mapping[str, Receivable]
) -> Posting:
    """The posting for ``payment``; ``receivables`` holds those of ``named_numbers`` found."""
    what = payment.describe()
    if not named_numbers:
        reference = quote(payment.reference) if payment.reference else "an empty reference"
        return _posting(
            payment,
            PostingOutcome.UNMATCHED,
            f"{what} names no invoice number in {reference}; find the invoice and apply it "
            "by hand.",
        )
    named = [receivables[number] for number in named_numbers if number in receivables]
    if not named:
        listed = ", ".join(named_numbers)
        is_are = "is" if len(named_numbers) == 1 else "are"
        return _posting(
            payment,
            PostingOutcome.UNMATCHED,
            f"{what} names {listed}, which {is_are} not an invoice awaiting payment (not issued "
            "or not sent yet, or a typo); nothing was applied.",
        )
    foreign = [receivable for receivable in named if receivable.currency != payment.currency]
    if foreign:
        return _posting(
            payment,
            PostingOutcome.UNMATCHED,
            f"{what} was paid in {payment.currency} but {foreign[0].number} is billed in "
            f"{foreign[0].currency}; nothing was applied.",
        )
    if len(named) == 1:
        return _applied(payment, [(named[0], payment.amount)])
    if payment.kind is EntryKind.REFUND:
        return _posting(
            payment,
            PostingOutcome.AMBIGUOUS,
            f"{what} is a refund naming {len(named)} invoices; a refund must name one. "
            "Nothing was applied.",
        )
    owed = [
        (receivable, max(receivable.open_amount, zero(payment.currency))) for receivable in named
    ]
    open_together = sum((amount for _, amount in owed), zero(payment.currency))
    if payment.amount == open_together:
        return _applied(payment, [(receivable, amount) for receivable, amount in owed if amount])
    listed = ", ".join(f"{receivable.number} ({amount} open)" for receivable, amount in owed)
    return _posting(
        payment,
        PostingOutcome.AMBIGUOUS,
        f"{what} names {listed}, {open_together} {payment.currency} open together; it cannot "
        "be split without a person, so nothing was applied.",
    )
