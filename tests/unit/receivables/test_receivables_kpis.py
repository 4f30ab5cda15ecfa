"""Aging buckets and DSO: the numbers the collections report is built on."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from invoice_dispatch.receivables import (
    BUCKET_LABELS,
    EntryKind,
    age_receivables,
    bucket_of,
    days_in_period,
    days_sales_outstanding,
    dso_by_currency,
)
from tests.unit.receivables.receivable_factories import entry, receivable

AS_OF = date(2027, 3, 31)


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (-1, "current"),
        (0, "0-30"),
        (30, "0-30"),
        (31, "31-60"),
        (60, "31-60"),
        (61, "61-90"),
        (90, "61-90"),
        (91, "90+"),
        (4000, "90+"),
    ],
)
def test_bucket_edges(days: int, bucket: str) -> None:
    assert bucket_of(days) == bucket


def test_aging_sums_open_amounts_per_currency_and_bucket() -> None:
    owed = [
        receivable("INV-1", "100.00", due_date=AS_OF + timedelta(days=5)),
        receivable("INV-2", "200.00", due_date=AS_OF - timedelta(days=10)).record(
            entry(EntryKind.PAYMENT, "50.00")
        ),
        receivable("INV-3", "300.00", due_date=AS_OF - timedelta(days=45)),
        receivable("INV-4", "5000", "JPY", due_date=AS_OF - timedelta(days=120)),
        receivable("INV-5", "80.00", due_date=AS_OF - timedelta(days=200)).record(
            entry(EntryKind.PAYMENT, "80.00")
        ),
        receivable("INV-6", "10.00", due_date=AS_OF - timedelta(days=200)).record(
            entry(EntryKind.PAYMENT, "15.00")
        ),
    ]
    report = age_receivables(owed, AS_OF)

    assert list(report.currencies) == ["EUR", "JPY"]
    eur = report.currencies["EUR"]
    assert list(eur.buckets) == list(BUCKET_LABELS)
    assert {label: (b.amount, b.count) for label, b in eur.buckets.items()} == {
        "current": (Decimal("100.00"), 1),
        "0-30": (Decimal("150.00"), 1),
        "31-60": (Decimal("300.00"), 1),
        "61-90": (Decimal("0.00"), 0),
        "90+": (Decimal("0.00"), 0),
    }
    assert (eur.total, eur.past_due) == (Decimal("550.00"), Decimal("450.00"))
    assert report.currencies["JPY"].buckets["90+"].amount == Decimal("5000")


def test_dso_is_receivables_at_period_end_over_credit_sales_times_days() -> None:
    start, end = date(2026, 10, 1), date(2026, 12, 31)
    issued_in_period = [
        receivable("INV-1", "1000.00", issue_date=date(2026, 10, 1)).record(
            entry(EntryKind.PAYMENT, "1000.00")
        ),
        receivable("INV-2", "1000.00", issue_date=date(2026, 11, 1)).record(
            entry(EntryKind.PAYMENT, "400.00")
        ),
        receivable("INV-3", "1000.00", issue_date=date(2026, 12, 1)),
    ]
    older = receivable("INV-0", "500.00", issue_date=date(2026, 9, 1))
    overpaid = receivable("INV-9", "100.00", issue_date=date(2026, 12, 2)).record(
        entry(EntryKind.PAYMENT, "130.00")
    )
    later = receivable("INV-10", "700.00", issue_date=date(2027, 1, 2))

    result = dso_by_currency([*issued_in_period, older, overpaid, later], start, end)

    # (600 + 1000 + 500 owed; the overpayment is not a receivable) / 3100 sold x 92 days
    assert result == {"EUR": Decimal("62.3")}
    assert days_in_period(start, end) == 92


def test_dso_without_sales_is_none_not_a_division_by_zero() -> None:
    assert days_sales_outstanding(Decimal("10.00"), Decimal("0"), 30) is None
    only_old = receivable("INV-0", "10.00", issue_date=date(2026, 1, 1))
    assert dso_by_currency([only_old], date(2026, 12, 1), date(2026, 12, 31)) == {"EUR": None}
