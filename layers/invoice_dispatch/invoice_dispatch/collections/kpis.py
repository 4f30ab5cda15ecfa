"""The collections report's figures: DSO, aging, reminders, matching and escalations.

* **DSO** per currency over the trailing ``KPI_PERIOD_DAYS`` (90 by default) ending on the
  run's day, by the standard method of ``receivables/dso.py``: what is owed today / the
  gross invoiced in the window x its days. Credit sales come from the per-run sales
  tallies (settled receivables leave every index, so they cannot be summed from it).
* **Aging** per currency: ``receivables/aging.py``'s buckets of what is owed today.
* **Reminders** sent today per stage, from the day's chunk results (every run of the day).
* **Automatic matching rate**: of the payments received in the window, the share
  matched to invoices without a person (the rest went to the exception list).
  ``None`` without payments: no rate is better than a made-up 100 %.
* **Automated collection success rate** (auto-pay), per currency: of the invoices whose
  first auto-pay attempt was answered in the window, the share auto-pay collected
  (``autopay/``). Counted by the first attempt's day, so an invoice collected on a retry
  counts once, in the window it was first tried in, and the rate never passes 100 %.
  Invoices still being retried count as attempted and not (yet) collected.
* **Escalations** open now, with what each customer owes and how late.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel, ConfigDict, Field

from invoice_dispatch.collections.escalation import Escalation
from invoice_dispatch.receivables import AgingReport, days_in_period, days_sales_outstanding

_PERCENT = Decimal("0.1")


class MatchingRate(BaseModel):
    model_config = ConfigDict(frozen=True)

    automatic: int = 0
    needs_person: int = 0

    @property
    def success_rate_percent(self) -> Decimal | None:
        received = self.automatic + self.needs_person
        if not received:
            return None
        return (Decimal(100) * self.automatic / received).quantize(_PERCENT, ROUND_HALF_UP)


class AutoPayRate(BaseModel):
    """One currency's auto-pay figures over the window."""

    model_config = ConfigDict(frozen=True)

    attempted: int = 0
    collected: int = 0
    handed_over: int = 0
    collected_amount: Decimal = Decimal(0)

    @property
    def success_rate_percent(self) -> Decimal | None:
        if not self.attempted:
            return None
        return (Decimal(100) * self.collected / self.attempted).quantize(_PERCENT, ROUND_HALF_UP)


class CollectionsReport(BaseModel):
    """What one day's collections run found and did; the JSON the summaries are made from."""

    as_of: date
    period_start: date
    period_end: date
    dso_days: dict[str, Decimal | None]
    aging: AgingReport
    reminders_sent: dict[str, int] = Field(description="Stage label -> sent today")
    reminders_failed: int = 0
    planned_skips: dict[str, int] = Field(default_factory=dict)
    payments: MatchingRate
    auto_pay: dict[str, AutoPayRate] = Field(
        default_factory=dict, description="Currency -> auto-pay figures of the window"
    )
    auto_pay_today: dict[str, int] = Field(
        default_factory=dict,
        description="What today's payment runs did, per outcome (succeeded, declined, "
        "unavailable, unknown, deferred, ...): a gateway outage shows here the same day",
    )
    payment_exceptions: list[str] = Field(default_factory=list)
    escalations_opened: list[str] = Field(default_factory=list)
    open_escalations: list[Escalation] = Field(default_factory=list)
    awaiting_erp: int = 0


def kpi_window(as_of: date, days: int) -> tuple[date, date]:
    """The trailing window of ``days`` calendar days ending on ``as_of`` (both included)."""
    return as_of - timedelta(days=days - 1), as_of


def dso_per_currency(
    owed: dict[str, Decimal], sales: dict[str, Decimal], first: date, last: date
) -> dict[str, Decimal | None]:
    days = days_in_period(first, last)
    return {
        currency: days_sales_outstanding(
            max(owed.get(currency, Decimal(0)), Decimal(0)),
            sales.get(currency, Decimal(0)),
            days,
        )
        for currency in sorted(set(owed) | set(sales))
    }
