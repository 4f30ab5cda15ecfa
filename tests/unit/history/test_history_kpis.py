"""The KPIs of the run history, each with the exact figure a billing team would read."""

from __future__ import annotations

from decimal import Decimal

import pytest

from invoice_dispatch.history import LatencyHistogram, RunKind, summarize_kpis
from invoice_dispatch.history.kpis import (
    approval_turnaround_median,
    delivery_rate,
    exception_backlog,
    first_pass_accuracy,
)
from invoice_dispatch.history.record import bucket_bound, bucket_of
from tests.unit.history.history_factories import history_record


def _histogram(*seconds: float) -> LatencyHistogram:
    histogram = LatencyHistogram()
    for value in seconds:
        histogram.add(value)
    return histogram


def test_latency_percentiles_are_the_nearest_rank_bucket_bound() -> None:
    histogram = _histogram(0.5, 1, 1, 3)
    assert histogram.percentile(50) == 1.0  # rank 2 of 4
    assert histogram.percentile(95) == 3.084  # rank 4: 3 s lies in the bucket up to 2**(13/8)
    assert _histogram(1, 2, 4, 8).percentile(50) == 2.0
    assert _histogram(1, 2, 4, 8).percentile(95) == 8.0


def test_a_bucket_bound_is_never_more_than_nine_percent_above_its_values() -> None:
    for value in (0.002, 0.37, 1.0, 2.9, 61.0, 3600.0, 86_000.0):
        bound = bucket_bound(bucket_of(value))
        assert value <= bound <= value * 1.0906


def test_histograms_of_several_runs_add_up_to_the_percentiles_over_all_of_them() -> None:
    merged = _histogram(1, 1, 1).merged(_histogram(8, 8, 8, 8, 8, 8, 8))
    assert merged.count == 10
    assert merged.percentile(30) == 1.0
    assert merged.percentile(31) == 8.0
    assert LatencyHistogram().percentile(50) is None


def test_first_pass_accuracy_counts_held_credited_and_resent_invoices_in_their_period() -> None:
    records = [
        history_record("oct", period="2026-10", finalized=28, held=4),
        history_record("resend", RunKind.RESEND, reworked_within_30_days={"2026-10": 2}),
        history_record("credit", RunKind.CREDIT_NOTE, reworked_within_30_days={"2026-10": 1}),
        history_record("nov", period="2026-11", finalized=40),
        history_record("shadow", RunKind.SHADOW, mode="shadow", finalized=3, held=3),
    ]
    # 2026-10: 32 drafted, 4 held + 2 resent + 1 credited = 7 reworked: 25 / 32 = 78.125 %
    assert first_pass_accuracy(records) == {"2026-10": Decimal("78.1"), "2026-11": Decimal("100.0")}


def test_first_pass_accuracy_never_goes_below_zero() -> None:
    records = [
        history_record("oct", period="2026-10", finalized=1, held=0),
        history_record("credit", RunKind.CREDIT_NOTE, reworked_within_30_days={"2026-10": 3}),
    ]
    assert first_pass_accuracy(records) == {"2026-10": Decimal("0.0")}


def test_delivery_rate_is_delivered_over_sent_of_the_billing_runs() -> None:
    records = [
        history_record("a", sent=28, delivered=27),
        history_record("b", RunKind.RESEND, sent=10, delivered=10),
        history_record("c", RunKind.COLLECTIONS),
    ]
    assert delivery_rate(records) == Decimal("97.4")  # 37 / 38
    assert records[0].delivery_rate_percent == Decimal("96.4")  # 27 / 28
    assert delivery_rate([history_record("none")]) is None


def test_delivery_rate_leaves_out_the_emails_ses_has_not_reported_on_yet() -> None:
    summarized_early = history_record("a", sent=100, reported=40, delivered=39)
    assert summarized_early.delivery_rate_percent == Decimal("97.5")  # 39 / 40, not 39 / 100


def test_backlog_takes_each_part_from_the_newest_run_that_knows_it() -> None:
    newest_first = [
        history_record(
            "collections",
            RunKind.COLLECTIONS,
            exceptions={"erp_error_queue": 1, "payment_exceptions": 2, "open_escalations": 1},
        ),
        history_record("nov", held=4, exceptions={"quarantined": 5, "erp_error_queue": 9}),
        history_record("oct", held=7, exceptions={"quarantined": 1}),
    ]
    backlog = exception_backlog(newest_first)
    assert (backlog.quarantined, backlog.held, backlog.erp_error_queue) == (5, 4, 1)
    assert backlog.total == 13


def test_approval_turnaround_is_the_median_of_the_runs_a_person_approved() -> None:
    records = [
        history_record("a", approval_turnaround_seconds=600.0),
        history_record("b", approval_turnaround_seconds=60.0),
        history_record("c", approval_turnaround_seconds=3600.0),
        history_record("auto"),
    ]
    assert approval_turnaround_median(records) == 600.0


def test_kpi_summary_takes_dso_from_the_latest_collections_run() -> None:
    newest_first = [
        history_record("c2", RunKind.COLLECTIONS, dso_days={"EUR": Decimal("31.5")}),
        history_record("c1", RunKind.COLLECTIONS, dso_days={"EUR": Decimal("40.0")}),
        history_record("nov", finalized=10, sent=10, delivered=9, latencies=(1, 2, 4, 8)),
    ]
    kpis = summarize_kpis(newest_first)
    assert kpis.dso_days == {"EUR": Decimal("31.5")}
    assert (kpis.erp_latency_p50_seconds, kpis.erp_latency_p95_seconds) == (2.0, 8.0)
    assert kpis.delivery_rate_percent == Decimal("90.0")
    assert kpis.latest_first_pass_accuracy == ("2026-11", Decimal("100.0"))


@pytest.mark.parametrize("hostile", ['<script>alert("x")</script>', "</svg><img src=x onerror=1>"])
def test_history_page_escapes_what_the_source_wrote(hostile: str) -> None:
    from datetime import UTC, datetime

    from invoice_dispatch.history import render_history_page

    record = history_record(
        hostile, finalized=3, held=1, exceptions={"examples": [f"held X ({hostile}): zero"]}
    )
    html = render_history_page([record], datetime(2026, 12, 1, tzinfo=UTC))
    assert hostile not in html
    assert "&lt;" in html
    assert "Content-Security-Policy" in html and "script-src" not in html
