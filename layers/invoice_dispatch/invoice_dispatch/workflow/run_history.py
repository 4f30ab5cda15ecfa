"""Where runs end, the history learns about them: one record per run and the page again.

Each kind of run ends in its own step (SummarizeRun, CollectionsReport, the corrections
run's CloseCorrection); each builds its record here from what it already holds and calls
``record_run``, which writes the record (idempotent: keyed by the run's own start time and
id) and rewrites the history page from the newest ``PAGE_RUNS`` records. The backlog
parts that are not any run's own (the ERP error queue, unmatched payments, open
escalations) are read as they stand when the run ends.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from invoice_dispatch.approval.models import ApprovalDecision
from invoice_dispatch.collections.kpis import CollectionsReport
from invoice_dispatch.history import (
    EXAMPLES_KEPT,
    PAGE_RUNS,
    Exceptions,
    HistoryTally,
    KpiSummary,
    RunHistoryRecord,
    RunKind,
    render_history_page,
    summarize_kpis,
)
from invoice_dispatch.history.tally import within_rework_window
from invoice_dispatch.invoice import Invoice
from invoice_dispatch.platform import Platform
from invoice_dispatch.run import ApprovalRecord, RunContext
from invoice_dispatch.workflow import keys


def record_run(record: RunHistoryRecord, platform: Platform) -> KpiSummary:
    """Write the run's record and the page; returns the KPIs the page shows."""
    platform.history.put(record)
    newest_first = list(platform.history.recent(PAGE_RUNS))
    html = render_history_page(newest_first, datetime.now(UTC))
    platform.documents.put_bytes(keys.HISTORY_PAGE, html.encode(), "text/html; charset=utf-8", {})
    return summarize_kpis(newest_first)


def _queue_depth(platform: Platform) -> int:
    attributes = platform.clients.client("sqs").get_queue_attributes(
        QueueUrl=platform.settings.erp_error_queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def _count(items: Iterable[object]) -> int:
    return sum(1 for _ in items)


def backlog_now(platform: Platform) -> dict[str, int]:
    """The backlog parts no run owns, as they stand now (each a short work list)."""
    return {
        "erp_error_queue": _queue_depth(platform),
        "payment_exceptions": _count(platform.ledger.payment_exceptions()),
        "open_escalations": _count(platform.collections.open_escalations()),
    }


def _turnaround(requested_at: str | None, decided_at: datetime | None) -> float | None:
    if not requested_at or decided_at is None:
        return None
    return round((decided_at - datetime.fromisoformat(requested_at)).total_seconds(), 1)


def _examples(report: Mapping[str, Any]) -> list[str]:
    sentences = [f"held {h['invoice_id']} ({h['customer']}): {h['reason']}" for h in report["held"]]
    sentences += [f"quarantined {q['account_id']}: {q['reason']}" for q in report["quarantined"]]
    sentences += [f"ERP refused {p['number']}: {p['detail']}" for p in report["erp_problems"]]
    return sentences[:EXAMPLES_KEPT]


def billing_record(
    context: RunContext,
    report: Mapping[str, Any],
    run: Mapping[str, Any],
    tally: HistoryTally,
    platform: Platform,
) -> RunHistoryRecord:
    """The record of a monthly state machine run, from its run.json and the history tally."""
    counts = report["counts"]
    approval: ApprovalRecord | None = run.get("approval")
    decided_at = approval.decided_at if approval and approval.approver != "auto-approve" else None
    finished_at = datetime.fromisoformat(report["finished_at"])
    return RunHistoryRecord(
        run_id=context.run_id,
        kind=tally.kind,
        status=report["status"],
        started_at=datetime.fromisoformat(report["started_at"] or report["finished_at"]),
        finished_at=finished_at,
        period=context.period,
        mode=context.mode,
        counts={k: v for k, v in counts.items() if isinstance(v, int)},
        totals_by_currency={
            currency: {name: Decimal(str(value)) for name, value in totals.items()}
            for currency, totals in report["totals_by_currency"].items()
        },
        approval_turnaround_seconds=_turnaround(run.get("approval_requested_at"), decided_at),
        emails_sent=tally.emails_sent,
        emails_reported=tally.emails_reported,
        emails_delivered=tally.emails_delivered,
        erp_latency=tally.erp_latency,
        reworked_within_30_days=tally.reworked,
        exceptions=Exceptions(
            quarantined=len(report["quarantined"]),
            held=len(report["held"]),
            erp_errors=counts.get("erp_failed", 0),
            examples=_examples(report),
            **backlog_now(platform),
        ),
        report_key=keys.run_report(context.run_id),
    )


def collections_record(
    run_id: str, report: CollectionsReport, platform: Platform
) -> RunHistoryRecord:
    """The daily collections run: DSO and what waits for a person (the backlog's parts)."""
    plan = platform.documents.get_json_if_exists(keys.collections_plan(str(report.as_of), run_id))
    finished_at = datetime.now(UTC)
    started_at = datetime.fromisoformat(plan["planned_at"]) if plan else finished_at
    backlog = backlog_now(platform)
    return RunHistoryRecord(
        run_id=run_id,
        kind=RunKind.COLLECTIONS,
        status="completed",
        started_at=started_at,
        finished_at=finished_at,
        period=str(report.as_of),
        counts={
            "reminders_sent": sum(report.reminders_sent.values()),
            "reminders_failed": report.reminders_failed,
            "escalations_opened": len(report.escalations_opened),
            "payments_matched_automatically": report.payments.automatic,
            "payments_matched_by_hand": report.payments.needs_person,
        },
        dso_days=report.dso_days,
        exceptions=Exceptions(examples=report.payment_exceptions[:EXAMPLES_KEPT], **backlog),
        report_key=keys.collections_report(str(report.as_of), "json"),
    )


_CORRECTION_KINDS = {
    "credit_note": RunKind.CREDIT_NOTE,
    "write_off": RunKind.WRITE_OFF,
    "dispute": RunKind.DISPUTE,
}


def correction_record(kind: str, item: Mapping[str, Any], platform: Platform) -> RunHistoryRecord:
    """A corrections run, from its request item; a credit note counts as rework of the
    credited invoice's period when it came within 30 days of that invoice's issue."""
    finished_at = datetime.now(UTC)
    note = Invoice.model_validate_json(str(item["document"])) if item.get("document") else None
    reworked = {}
    if note and within_rework_window(note.credited_invoice_issue_date, finished_at.date()):
        reworked[note.period] = 1
    decision = (
        ApprovalDecision.model_validate_json(str(item["decision"]))
        if item.get("decision")
        else None
    )
    outcome = [f"{item['invoice_number']}: {item['outcome']}"] if item.get("outcome") else []
    totals = {}
    if note:
        totals[note.currency] = {
            "net": note.net_total,
            "tax": note.tax_total,
            "gross": note.gross_total,
        }
    return RunHistoryRecord(
        run_id=str(item["request_id"]),
        kind=_CORRECTION_KINDS[kind],
        status=str(item["status"]),
        started_at=datetime.fromisoformat(str(item["requested_at"])),
        finished_at=finished_at,
        period=note.period if note else None,
        counts={"credit_notes": 1} if note else {},
        totals_by_currency=totals,
        approval_turnaround_seconds=_turnaround(
            item.get("approval_requested_at"), decision.decided_at if decision else None
        ),
        reworked_within_30_days=reworked,
        exceptions=Exceptions(examples=outcome, **backlog_now(platform)),
    )
