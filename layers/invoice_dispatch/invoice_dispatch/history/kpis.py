"""The KPIs a billing team watches, computed from the run history alone.

* **First-pass invoice accuracy**, per billing period: of the invoices the period's
  monthly and on-demand runs drafted (finalized or held), the share neither held, nor
  credited, nor e-mailed again within 30 days of issue. Credit notes and resend runs
  record what they reworked under the period the invoice was billed for, so a later
  correction lowers the period it belongs to. An invoice both held and later credited is
  counted twice (the history keeps counts, not ids); the figure is floored at zero.
* **Delivery rate**: e-mails SES reported delivered / e-mails SES reported on (delivered,
  bounced, complained, rejected) when each run's summary ran.
* **ERP posting latency** p50 / p95, finalized to booked: the runs' histograms added up.
* **Approval turnaround**: the approval e-mail to the decision, median over the runs asked.
* **Exception backlog**: what waits for a person now: the last drafting run's quarantined
  accounts and held invoices, plus the ERP error queue, unmatched payments and open
  escalations as the most recent run that looked at them found them.
* **DSO** per currency, from the last collections run (``receivables/dso.py``).

Every figure over "the runs" is over the records the page shows (a bounded window).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from decimal import Decimal

from pydantic import BaseModel, Field

from invoice_dispatch.history.record import (
    BILLING_KINDS,
    DRAFTING_KINDS,
    LatencyHistogram,
    RunHistoryRecord,
    RunKind,
    percent,
)


class Backlog(BaseModel):
    quarantined: int = 0
    held: int = 0
    erp_error_queue: int = 0
    payment_exceptions: int = 0
    open_escalations: int = 0

    @property
    def total(self) -> int:
        return (
            self.quarantined
            + self.held
            + self.erp_error_queue
            + self.payment_exceptions
            + self.open_escalations
        )


class KpiSummary(BaseModel):
    first_pass_accuracy_percent: dict[str, Decimal | None] = Field(default_factory=dict)
    delivery_rate_percent: Decimal | None = None
    erp_latency_p50_seconds: float | None = None
    erp_latency_p95_seconds: float | None = None
    approval_turnaround_median_seconds: float | None = None
    backlog: Backlog = Field(default_factory=Backlog)
    dso_days: dict[str, Decimal | None] = Field(default_factory=dict)

    @property
    def latest_first_pass_accuracy(self) -> tuple[str, Decimal | None] | None:
        if not self.first_pass_accuracy_percent:
            return None
        period = max(self.first_pass_accuracy_percent)
        return period, self.first_pass_accuracy_percent[period]


def _live(record: RunHistoryRecord) -> bool:
    return record.mode == "live"


def first_pass_accuracy(records: Sequence[RunHistoryRecord]) -> dict[str, Decimal | None]:
    """Per period, in percent to a tenth (see the module docstring for the definition)."""
    drafted: dict[str, int] = {}
    problems: dict[str, int] = {}
    for record in records:
        if not _live(record):
            continue
        for period, count in record.reworked_within_30_days.items():
            problems[period] = problems.get(period, 0) + count
        if record.kind in DRAFTING_KINDS and record.period:
            held = record.counts.get("held", 0)
            drafted[record.period] = (
                drafted.get(record.period, 0) + record.counts.get("finalized", 0) + held
            )
            problems[record.period] = problems.get(record.period, 0) + held
    return {
        period: percent(drafted[period] - min(problems.get(period, 0), drafted[period]), total)
        for period, total in sorted(drafted.items())
    }


def delivery_rate(records: Sequence[RunHistoryRecord]) -> Decimal | None:
    billing = [r for r in records if r.kind in BILLING_KINDS]
    return percent(
        sum(r.emails_delivered for r in billing), sum(r.emails_reported for r in billing)
    )


def erp_latency(records: Sequence[RunHistoryRecord]) -> LatencyHistogram:
    total = LatencyHistogram()
    for record in records:
        total = total.merged(record.erp_latency)
    return total


def approval_turnaround_median(records: Sequence[RunHistoryRecord]) -> float | None:
    values = [
        r.approval_turnaround_seconds for r in records if r.approval_turnaround_seconds is not None
    ]
    return round(statistics.median(values), 1) if values else None


def exception_backlog(newest_first: Sequence[RunHistoryRecord]) -> Backlog:
    """The backlog now, from the newest record that knows each part (newest first)."""
    drafting = next((r for r in newest_first if r.kind in DRAFTING_KINDS), None)

    def latest(name: str) -> int:
        values = (getattr(r.exceptions, name) for r in newest_first)
        return next((value for value in values if value is not None), 0)

    return Backlog(
        quarantined=drafting.exceptions.quarantined if drafting else 0,
        held=drafting.exceptions.held if drafting else 0,
        erp_error_queue=latest("erp_error_queue"),
        payment_exceptions=latest("payment_exceptions"),
        open_escalations=latest("open_escalations"),
    )


def summarize_kpis(newest_first: Sequence[RunHistoryRecord]) -> KpiSummary:
    latency = erp_latency(newest_first)
    collections = next((r for r in newest_first if r.kind is RunKind.COLLECTIONS), None)
    return KpiSummary(
        first_pass_accuracy_percent=first_pass_accuracy(newest_first),
        delivery_rate_percent=delivery_rate(newest_first),
        erp_latency_p50_seconds=latency.percentile(50),
        erp_latency_p95_seconds=latency.percentile(95),
        approval_turnaround_median_seconds=approval_turnaround_median(newest_first),
        backlog=exception_backlog(newest_first),
        dso_days=collections.dso_days if collections else {},
    )
