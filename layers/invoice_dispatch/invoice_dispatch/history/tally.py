"""A billing run's history figures, added up one invoice at a time as SummarizeRun pages.

Only counters and a latency histogram are kept, so the summary's memory does not grow
with the run for the history's sake.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from invoice_dispatch.history.record import LatencyHistogram, RunKind
from invoice_dispatch.invoice import DeliveryStatus, ErpStatus, InvoiceStatus
from invoice_dispatch.lifecycle import ACCEPTED_BY_SES, FAILED_DELIVERY_STATUSES
from invoice_dispatch.run import RunContext
from invoice_dispatch.tracking import StoredInvoice

#: First-pass accuracy counts rework within this many days of the invoice's issue.
REWORK_WINDOW_DAYS = 30


def run_kind(context: RunContext) -> RunKind:
    """Which kind of run a monthly state machine execution was, from its input."""
    if context.mode == "shadow":
        return RunKind.SHADOW
    if context.milestone is not None:
        return RunKind.MILESTONE
    if context.resume_only:
        return RunKind.RESUME
    if context.release_held:
        return RunKind.RELEASE_HELD
    if context.resend_failed_deliveries:
        return RunKind.RESEND
    if context.replay_erp_errors:
        return RunKind.REPLAY_ERP
    return RunKind.MONTHLY if context.scheduled else RunKind.ON_DEMAND


def within_rework_window(issued: date | None, today: date) -> bool:
    return issued is not None and (today - issued).days <= REWORK_WINDOW_DAYS


@dataclass
class HistoryTally:
    """E-mails accepted, reported on and delivered, ERP latency, and (for a resend run)
    rework by period. A complaint counts as a failed delivery, as the lifecycle has it."""

    kind: RunKind
    today: date
    emails_sent: int = 0
    emails_reported: int = 0
    emails_delivered: int = 0
    erp_latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    reworked: dict[str, int] = field(default_factory=dict)

    def add(self, stored: StoredInvoice) -> None:
        invoice = stored.invoice
        if invoice.status is not InvoiceStatus.FINALIZED:
            return
        if stored.delivery_status in ACCEPTED_BY_SES:
            self.emails_sent += 1
            delivered = stored.delivery_status is DeliveryStatus.DELIVERED
            self.emails_delivered += delivered
            self.emails_reported += delivered or stored.delivery_status in FAILED_DELIVERY_STATUSES
            if self.kind is RunKind.RESEND and within_rework_window(invoice.issue_date, self.today):
                self.reworked[invoice.period] = self.reworked.get(invoice.period, 0) + 1
        if stored.erp_status is ErpStatus.POSTED and stored.numbered_at and stored.erp_at:
            self.erp_latency.add((stored.erp_at - stored.numbered_at).total_seconds())
