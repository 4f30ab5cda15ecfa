"""The run history page: the KPIs in its header, a chart per KPI, every run in a table.

Static HTML (S3 and ``out/history/index.html``), rewritten at the end of every run from the
newest records only (``PAGE_RUNS``), so writing it costs the same in the tenth year as in
the first. No script: the charts are inline SVG (``chart.py``) and the page carries the
approval page's Content-Security-Policy as a meta tag. Every text is escaped by Jinja's
autoescape: account names and reasons in the exception examples come from the source.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from invoice_dispatch.history.chart import Chart, line_chart
from invoice_dispatch.history.kpis import (
    KpiSummary,
    exception_backlog,
    first_pass_accuracy,
    summarize_kpis,
)
from invoice_dispatch.history.record import BILLING_KINDS, RunHistoryRecord, RunKind
from invoice_dispatch.rendering.templates import cached_environment

#: Runs the page shows: two years of monthly runs with their collections and corrections
#: runs is a few hundred; the page stays under a megabyte.
PAGE_RUNS = 400

#: No script, no remote anything; ``frame-ancestors`` cannot be set from a meta tag.
CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _label(record: RunHistoryRecord) -> str:
    return f"{record.started_at:%Y-%m-%d %H:%M} {record.kind.value}"


def _minutes(seconds: float | None) -> float | None:
    return round(seconds / 60, 1) if seconds is not None else None


def _as_float(value: object) -> float | None:
    return float(str(value)) if value is not None else None


def build_charts(oldest_first: Sequence[RunHistoryRecord]) -> list[Chart]:
    billing = [r for r in oldest_first if r.kind in BILLING_KINDS]
    approved = [r for r in oldest_first if r.approval_turnaround_seconds is not None]
    collections = [r for r in oldest_first if r.kind is RunKind.COLLECTIONS]
    accuracy = first_pass_accuracy(oldest_first)
    currencies = sorted({c for r in collections for c in r.dso_days})
    return [
        line_chart(
            "first-pass-accuracy",
            "First-pass invoice accuracy",
            "% of the period's invoices",
            list(accuracy),
            {"accuracy": [_as_float(v) for v in accuracy.values()]},
            top=100.0,
        ),
        line_chart(
            "delivery-rate",
            "Delivery rate",
            "% of e-mails sent",
            [_label(r) for r in billing],
            {"delivered": [_as_float(r.delivery_rate_percent) for r in billing]},
            top=100.0,
        ),
        line_chart(
            "erp-latency",
            "ERP posting latency",
            "seconds, finalized to booked",
            [_label(r) for r in billing],
            {
                "p50": [r.erp_latency.percentile(50) for r in billing],
                "p95": [r.erp_latency.percentile(95) for r in billing],
            },
        ),
        line_chart(
            "approval-turnaround",
            "Approval turnaround",
            "minutes, e-mail to decision",
            [_label(r) for r in approved],
            {"turnaround": [_minutes(r.approval_turnaround_seconds) for r in approved]},
        ),
        line_chart(
            "exception-backlog",
            "Exception backlog",
            "items waiting for a person after each run",
            [_label(r) for r in oldest_first],
            {
                "backlog": [
                    float(exception_backlog(oldest_first[index::-1]).total)
                    for index in range(len(oldest_first))
                ]
            },
        ),
        line_chart(
            "dso",
            "Days sales outstanding",
            "days",
            [_label(r) for r in collections],
            {c: [_as_float(r.dso_days.get(c)) for r in collections] for c in currencies},
        ),
    ]


def render_history_page(
    newest_first: Sequence[RunHistoryRecord], generated_at: datetime, templates: Path | None = None
) -> str:
    kpis: KpiSummary = summarize_kpis(newest_first)
    return (
        cached_environment(templates)
        .get_template("history/index.html")
        .render(
            runs=newest_first,
            kpis=kpis,
            charts=build_charts(list(reversed(newest_first))),
            generated_at=generated_at,
            csp=CONTENT_SECURITY_POLICY,
        )
    )
