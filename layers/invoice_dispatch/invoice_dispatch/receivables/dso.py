"""Days sales outstanding (DSO), by the standard (count-back-free) method.

    DSO = receivables at the end of the period / credit sales of the period x days in the period

* *Receivables at the end of the period*: what customers still owed on the period's last
  day, i.e. the sum of the positive open amounts of the invoices issued up to then, as
  the ledger stood that day. Overpayments are owed *to* customers and are left out, as
  they are in the balance sheet's trade receivables.
* *Credit sales of the period*: the gross totals of the invoices issued within the
  period, first and last day included (every invoice here is a sale on credit: it is
  paid after it is issued).
* *Days in the period*: calendar days, first and last included (a 90-day quarter of
  Oct-Dec 2026 has 92).

A currency is computed on its own (adding EUR to JPY means nothing); a currency without
sales in the period has no DSO (``None``), rather than a division by zero or an infinite
number on a report. The result is rounded half up to a tenth of a day, the precision a
KPI is read at.

The caller passes the receivables as they stood at the end of the period: for a period
ending today that is the ledger as it is; for a past period, receivables replayed with
the entries booked up to its end (``Receivable.replayed``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from invoice_dispatch.receivables.receivable import Receivable

_TENTH_OF_A_DAY = Decimal("0.1")


def days_in_period(period_start: date, period_end: date) -> int:
    if period_end < period_start:
        raise ValueError(f"The period ends ({period_end}) before it starts ({period_start})")
    return (period_end - period_start).days + 1


def days_sales_outstanding(
    receivables_at_end: Decimal, credit_sales: Decimal, days: int
) -> Decimal | None:
    """The formula itself, for amounts of one currency; ``None`` without sales."""
    if credit_sales <= 0:
        return None
    return (receivables_at_end / credit_sales * days).quantize(
        _TENTH_OF_A_DAY, rounding=ROUND_HALF_UP
    )


def dso_by_currency(
    receivables: Iterable[Receivable], period_start: date, period_end: date
) -> dict[str, Decimal | None]:
    """DSO per currency over the period, from the receivables as of its last day."""
    days = days_in_period(period_start, period_end)
    owed: dict[str, Decimal] = {}
    sales: dict[str, Decimal] = {}
    for receivable in receivables:
        if receivable.issue_date > period_end:
            continue
        currency = receivable.currency
        owed[currency] = owed.get(currency, Decimal(0)) + max(receivable.open_amount, Decimal(0))
        if receivable.issue_date >= period_start:
            sales[currency] = sales.get(currency, Decimal(0)) + receivable.gross
    return {
        currency: days_sales_outstanding(owed[currency], sales.get(currency, Decimal(0)), days)
        for currency in sorted(owed)
    }
