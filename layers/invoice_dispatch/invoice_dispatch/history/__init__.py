"""Run history and KPIs: the record of every run, the figures over them, and their page."""

from invoice_dispatch.history.kpis import KpiSummary, summarize_kpis
from invoice_dispatch.history.page import PAGE_RUNS, render_history_page
from invoice_dispatch.history.record import (
    EXAMPLES_KEPT,
    Exceptions,
    LatencyHistogram,
    RunHistoryRecord,
    RunKind,
)
from invoice_dispatch.history.tally import HistoryTally, run_kind

__all__ = [
    "EXAMPLES_KEPT",
    "PAGE_RUNS",
    "Exceptions",
    "HistoryTally",
    "KpiSummary",
    "LatencyHistogram",
    "RunHistoryRecord",
    "RunKind",
    "render_history_page",
    "run_kind",
    "summarize_kpis",
]
