"""Aging: how long what customers owe has been past due, per currency.

The buckets are the ones collections teams read: ``current`` (not yet due), then 0-30,
31-60, 61-90 and 90+ days past the due date. The due date itself is day 0 of the first
past-due bucket: it is the day a payment should have arrived, even though the invoice
only becomes ``overdue`` the day after (``receivable.py``). Amounts of different
currencies are never added up: each currency has its own row.

Only what is still owed is aged: a settled receivable adds nothing, and an overpaid one
is money owed to the customer (a liability), not a receivable. A disputed invoice is
still owed and is aged like any other.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from invoice_dispatch.money import zero
from invoice_dispatch.receivables.receivable import Receivable

CURRENT = "current"
#: (label, first day past due, last day past due or None for open-ended), in report order.
PAST_DUE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-30", 0, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("90+", 91, None),
)
BUCKET_LABELS: tuple[str, ...] = (CURRENT, *(label for label, _, _ in PAST_DUE_BUCKETS))


def bucket_of(days_past_due: int) -> str:
    """The bucket of a receivable this many days past its due date (negative: not due)."""
    if days_past_due < 0:
        return CURRENT
    for label, first, last in PAST_DUE_BUCKETS:
        if days_past_due >= first and (last is None or days_past_due <= last):
            return label
    raise AssertionError("the last bucket is open-ended")  # pragma: no cover


class BucketTotal(BaseModel):
    model_config = ConfigDict(frozen=True)

    amount: Decimal
    count: int = 0


class CurrencyAging(BaseModel):
    """One currency's row: every bucket present, in ``BUCKET_LABELS`` order."""

    model_config = ConfigDict(frozen=True)

    currency: str
    buckets: dict[str, BucketTotal]

    @property
    def total(self) -> Decimal:
        """The sum of the buckets: everything of this currency still owed."""
        return sum((bucket.amount for bucket in self.buckets.values()), zero(self.currency))

    @property
    def past_due(self) -> Decimal:
        return self.total - self.buckets[CURRENT].amount


class AgingReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    as_of: date
    currencies: dict[str, CurrencyAging] = Field(default_factory=dict)


def age_receivables(receivables: Iterable[Receivable], as_of: date) -> AgingReport:
    """Each receivable's open amount in its bucket, summed per currency (currencies sorted)."""
    sums: dict[str, dict[str, tuple[Decimal, int]]] = {}
    for receivable in receivables:
        owed = receivable.open_amount
        if owed <= 0:
            continue
        currency = receivable.currency
        row = sums.setdefault(currency, {label: (zero(currency), 0) for label in BUCKET_LABELS})
        label = bucket_of(receivable.days_past_due(as_of))
        amount, count = row[label]
        row[label] = (amount + owed, count + 1)
    return AgingReport(
        as_of=as_of,
        currencies={
            currency: CurrencyAging(
                currency=currency,
                buckets={
                    label: BucketTotal(amount=amount, count=count)
                    for label, (amount, count) in sums[currency].items()
                },
            )
            for currency in sorted(sums)
        },
    )
