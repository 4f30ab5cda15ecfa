"""Logger, Tracer and Metrics created once and shared by every handler (Powertools)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

if TYPE_CHECKING:
    from invoice_dispatch.collections.kpis import CollectionsReport
    from invoice_dispatch.history import KpiSummary, RunHistoryRecord

logger = Logger()
tracer = Tracer()
metrics = Metrics()


def emit_collections_metrics(report: CollectionsReport) -> None:
    """The collections KPIs as CloudWatch metrics (EMF), one dimension set per figure.

    Per-currency and per-stage figures each get their own metric document (an
    ``EphemeralMetrics`` each): the handler's shared ``metrics`` carries one set of
    dimensions for all it holds.
    """
    for currency, days in report.dso_days.items():
        if days is not None:
            _one("DaysSalesOutstanding", MetricUnit.NoUnit, float(days), currency=currency)
    for currency, row in report.aging.currencies.items():
        for bucket, total in row.buckets.items():
            _one(
                "ReceivablesAging",
                MetricUnit.NoUnit,
                float(total.amount),
                currency=currency,
                bucket=bucket,
            )
    for stage, count in report.reminders_sent.items():
        _one("RemindersSentPerStage", MetricUnit.Count, count, stage=stage)
    rate = report.payments.success_rate_percent
    if rate is not None:
        _one("AutomaticMatchingRate", MetricUnit.Percent, float(rate))
    for currency, auto_pay in report.auto_pay.items():
        success = auto_pay.success_rate_percent
        if success is not None:
            _one(
                "AutomatedCollectionSuccessRate",
                MetricUnit.Percent,
                float(success),
                currency=currency,
            )
    _one("PaymentsMatchedAutomatically", MetricUnit.Count, report.payments.automatic)
    _one("PaymentsMatchedByHand", MetricUnit.Count, report.payments.needs_person)
    _one("OpenEscalations", MetricUnit.Count, len(report.open_escalations))


#: The run history's figures as metrics: the CloudWatch dashboard and its alarms read these
#: names (``tests/integration/deploy`` checks the template against this list).
HISTORY_METRICS = (
    "FirstPassAccuracy",
    "DeliveryRate",
    "ErpPostingLatencyP50",
    "ErpPostingLatencyP95",
    "ApprovalTurnaround",
    "ExceptionBacklog",
)


def emit_history_metrics(record: RunHistoryRecord, kpis: KpiSummary) -> None:
    """The run's own figures, and the backlog and accuracy as the history stands now.

    A figure the run does not have (no e-mail sent, no approval asked) is not emitted:
    a zero would read as a failure on the dashboard and set off the alarms.
    """
    latest_accuracy = kpis.latest_first_pass_accuracy
    figures = (
        ("FirstPassAccuracy", MetricUnit.Percent, latest_accuracy and latest_accuracy[1]),
        ("DeliveryRate", MetricUnit.Percent, record.delivery_rate_percent),
        ("ErpPostingLatencyP50", MetricUnit.Seconds, record.erp_latency.percentile(50)),
        ("ErpPostingLatencyP95", MetricUnit.Seconds, record.erp_latency.percentile(95)),
        ("ApprovalTurnaround", MetricUnit.Seconds, record.approval_turnaround_seconds),
        ("ExceptionBacklog", MetricUnit.Count, kpis.backlog.total),
    )
    for name, unit, value in figures:
        if value is not None:
            _one(name, unit, float(value))


def _one(name: str, unit: MetricUnit, value: float, **dimensions: str) -> None:
    document = EphemeralMetrics()
    for dimension, dimension_value in dimensions.items():
        document.add_dimension(name=dimension, value=dimension_value)
    document.add_metric(name=name, unit=unit, value=value)
    document.flush_metrics()
