"""Run history records for tests: a run of each kind with only the figures a test names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from invoice_dispatch.history import Exceptions, LatencyHistogram, RunHistoryRecord, RunKind

START = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def history_record(
    run_id: str,
    kind: RunKind = RunKind.MONTHLY,
    *,
    day: int = 0,
    period: str | None = "2026-11",
    mode: str = "live",
    finalized: int = 0,
    held: int = 0,
    sent: int = 0,
    delivered: int = 0,
    reported: int | None = None,
    latencies: tuple[float, ...] = (),
    exceptions: dict[str, Any] | None = None,
    **fields: Any,
) -> RunHistoryRecord:
    histogram = LatencyHistogram()
    for seconds in latencies:
        histogram.add(seconds)
    started = START + timedelta(days=day)
    return RunHistoryRecord(
        run_id=run_id,
        kind=kind,
        status="completed",
        started_at=started,
        finished_at=started + timedelta(seconds=90),
        period=period,
        mode=mode,
        counts={"finalized": finalized, "held": held},
        totals_by_currency={"EUR": {"net": Decimal("100.00"), "gross": Decimal("119.00")}},
        emails_sent=sent,
        emails_reported=sent if reported is None else reported,
        emails_delivered=delivered,
        erp_latency=histogram,
        exceptions=Exceptions(held=held, **(exceptions or {})),
        **fields,
    )
