"""SummarizeRun: the run report a billing team reads the morning after.

Counts, totals per currency of what was finalized, every quarantined or excluded
account with its reason, held invoices, failed deliveries and ERP problems: written to
``runs/<run>/run.json``, kept on the run record and announced on the SNS topic.

The run also proves it is complete (``reconciliation.py``): one that cannot ends
``incomplete``, lists each unreconciled invoice, and puts approved drafts it could not
number where the next run finds them. Whatever the outcome, the period's lock is freed.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from invoice_dispatch.events import StepError
from invoice_dispatch.invoice import DeliveryStatus, ErpStatus, InvoiceStatus
from invoice_dispatch.lifecycle import FAILED_DELIVERY_STATUSES
from invoice_dispatch.platform import Platform
from invoice_dispatch.run import RunContext, RunStatus
from invoice_dispatch.tracking import StoredInvoice
from invoice_dispatch.workflow import keys
from invoice_dispatch.workflow.approval import (
    collect_screening,
    drafting_reports,
    void_pending_drafts,
)
from invoice_dispatch.workflow.reconciliation import (
    AccountCounts,
    Reconciliation,
    reconcile_accounts,
    reconcile_invoices,
)


def _erp_latencies(platform: Platform, run_id: str) -> list[float]:
    return [
        latency
        for report in platform.documents.get_json_under(keys.erp_reports_prefix(run_id))
        for latency in report["latencies_seconds"]
    ]


def _manifest_ids(platform: Platform, key: str) -> set[str]:
    chunks = platform.documents.get_json_if_exists(key) or []
    return {invoice_id for chunk in chunks for invoice_id in chunk["invoice_ids"]}


def _account_counts(run: dict[str, Any], reports: list[dict[str, Any]]) -> AccountCounts:
    gathered = run.get("screening_counts") or {}
    return AccountCounts(
        selected=gathered.get("selected", 0),
        excluded_at_screening=gathered.get("excluded", 0),
        quarantined_at_screening=gathered.get("quarantined", 0)
        - gathered.get("usage_records_quarantined", 0),
        account_chunks=gathered.get("account_chunks", len(reports)),
        drafting_reports=len(reports),
        drafted=sum(r.get("drafted", 0) for r in reports),
        already_billed=sum(r.get("already_existed", 0) for r in reports),
        excluded_by_engine=sum(len(r.get("excluded", [])) for r in reports),
        quarantined_by_engine=sum(len(r.get("quarantined", [])) for r in reports),
    )


def _outcome_counts(run: dict[str, Any], reports: list[dict[str, Any]]) -> dict[str, int]:
    """Counts equal to run.json's own lists (issue 16): an account GatherAccounts found
    eligible that the engine then set aside is counted where it is listed, not as eligible."""
    gathered = run.get("screening_counts")
    if not gathered:  # a run that gathered nothing (release, resend, resume) counts none
        return {}
    by_engine = {
        kind: sum(len(report.get(kind, [])) for report in reports)
        for kind in ("excluded", "quarantined")
    }
    return {
        "eligible": gathered.get("eligible", 0) - by_engine["excluded"] - by_engine["quarantined"],
        "excluded": gathered.get("excluded", 0) + by_engine["excluded"],
        "quarantined": gathered.get("quarantined", 0) + by_engine["quarantined"],
    }


def reconcile_run(
    context: RunContext,
    outcome: str,
    run: dict[str, Any],
    invoices: list[StoredInvoice],
    reports: list[dict[str, Any]],
    platform: Platform,
) -> Reconciliation:
    resumed = _manifest_ids(platform, keys.invoice_chunks_manifest(context.run_id, "resume"))
    reconciliation = reconcile_invoices(invoices, resumed, after_approval=outcome == "completed")
    if "screening_counts" in run and outcome in ("completed", "nothing_to_bill"):
        equation, problems = reconcile_accounts(_account_counts(run, reports))
        reconciliation.equations.insert(0, equation)
        reconciliation.problems.extend(problems)
    listed = {s.invoice_id for s in invoices}
    planned = _manifest_ids(platform, keys.invoice_chunks_manifest(context.run_id)) | resumed
    if missing := sorted(planned - listed):
        reconciliation.problems.append(
            f"{len(missing)} planned invoice(s) are no longer in this run: "
            + ", ".join(missing[:10])
        )
    return reconciliation


def summarize_run(
    context: RunContext, outcome: str, platform: Platform, error: StepError | None = None
) -> dict[str, Any]:
    status = {
        "completed": RunStatus.COMPLETED,
        "rejected": RunStatus.REJECTED,
        "expired": RunStatus.EXPIRED,
        "nothing_to_bill": RunStatus.NOTHING_TO_BILL,
        "failed": RunStatus.FAILED,
    }[outcome]
    run = platform.store.get_run(context.run_id) or {}
    approval = run.get("approval")
    if outcome == "rejected":
        void_pending_drafts(
            context,
            f"Batch rejected by {approval.approver}: {approval.reason}"
            if approval
            else "Batch rejected",
            platform,
        )
    elif outcome == "expired":
        void_pending_drafts(context, "Nobody approved the batch before the link expired", platform)
    elif outcome == "failed":
        void_pending_drafts(
            context, f"The run failed: {error.message if error else 'unknown'}", platform
        )
    reports = drafting_reports(platform, context.run_id)
    screening = collect_screening(platform, context, reports)
    invoices = list(platform.store.run_invoices(context.run_id))
    statuses = Counter(s.invoice.status.value for s in invoices)
    deliveries = Counter(
        s.delivery_status.value for s in invoices if s.invoice.status is InvoiceStatus.FINALIZED
    )
    erp = Counter(
        s.erp_status.value for s in invoices if s.invoice.status is InvoiceStatus.FINALIZED
    )
    totals: dict[str, dict[str, Decimal | int]] = defaultdict(
        lambda: {"invoices": 0, "net": Decimal(0), "tax": Decimal(0), "gross": Decimal(0)}
    )
    for stored in invoices:
        if stored.invoice.status is InvoiceStatus.FINALIZED:
            bucket = totals[stored.invoice.currency]
            bucket["invoices"] += 1
            bucket["net"] += stored.invoice.net_total
            bucket["tax"] += stored.invoice.tax_total
            bucket["gross"] += stored.invoice.gross_total
    latencies = _erp_latencies(platform, context.run_id)
    reconciliation = reconcile_run(context, outcome, run, invoices, reports, platform)
    if outcome == "completed":  # approved drafts it could not number: the next run does
        for stored in invoices:
            if stored.invoice.status is InvoiceStatus.DRAFT:
                platform.store.mark_unfinished(stored.invoice)
    if outcome in ("completed", "nothing_to_bill") and not reconciliation.complete:
        status = RunStatus.INCOMPLETE
    elif outcome == "nothing_to_bill" and invoices:  # it finished earlier runs' invoices
        status = RunStatus.COMPLETED
    report: dict[str, Any] = {
        "run_id": context.run_id,
        "period": context.period,
        "mode": context.mode,
        "status": status.value,
        "started_at": run.get("started_at"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "counts": {
            **(run.get("screening_counts") or {}),
            **_outcome_counts(run, reports),
            "drafts_in_run": len(invoices),
            "held": statuses.get(InvoiceStatus.HELD.value, 0),
            "finalized": statuses.get(InvoiceStatus.FINALIZED.value, 0),
            "voided": statuses.get(InvoiceStatus.VOID.value, 0),
            "emails_sent": sum(
                deliveries.get(s.value, 0)
                for s in (
                    DeliveryStatus.SENT,
                    DeliveryStatus.DELIVERED,
                    DeliveryStatus.BOUNCED,
                    DeliveryStatus.COMPLAINED,
                    DeliveryStatus.REJECTED,
                )
            ),
            "failed_deliveries": sum(deliveries.get(s.value, 0) for s in FAILED_DELIVERY_STATUSES),
            "erp_posted": erp.get(ErpStatus.POSTED.value, 0),
            "erp_failed": erp.get(ErpStatus.FAILED.value, 0),
            "unreconciled": len(reconciliation.unreconciled),
            "possibly_sent_twice": reconciliation.possibly_sent_twice,
        },
        "reconciliation": reconciliation.report(),
        "totals_by_currency": {
            currency: {name: str(value) for name, value in values.items()}
            for currency, values in sorted(totals.items())
        },
        "excluded": [e.model_dump() for e in screening.excluded],
        "quarantined": [q.model_dump() for q in screening.quarantined],
        "held": [
            {
                "invoice_id": s.invoice_id,
                "customer": s.invoice.customer.name,
                "reason": s.hold_reason,
                "held_by": s.held_by,
            }
            for s in invoices
            if s.invoice.status is InvoiceStatus.HELD
        ],
        "failures": [
            {"invoice_id": s.invoice_id, "number": s.invoice.number, "reason": s.failure}
            for s in invoices
            if s.failure
        ],
        "failed_deliveries": [
            {
                "invoice_id": s.invoice_id,
                "number": s.invoice.number,
                "status": s.delivery_status.value,
                "detail": s.delivery_detail,
            }
            for s in invoices
            if s.delivery_status in FAILED_DELIVERY_STATUSES
        ],
        "erp_problems": [
            {"invoice_id": s.invoice_id, "number": s.invoice.number, "detail": s.erp_detail}
            for s in invoices
            if s.erp_status is ErpStatus.FAILED
        ],
        "erp_latency_seconds": {
            "calls": len(latencies),
            "median": round(statistics.median(latencies), 4) if latencies else None,
            "max": round(max(latencies), 4) if latencies else None,
        },
        "approval": approval.model_dump(mode="json") if approval else None,
        "error": error.message if error else None,
    }
    platform.documents.put_json(keys.run_report(context.run_id), report)
    platform.store.update_run(context.run_id, status, summary=json.dumps(report["counts"]))
    alert = {k: report[k] for k in ("run_id", "period", "status", "counts", "totals_by_currency")}
    if not reconciliation.complete:
        alert["unreconciled"] = [u.detail for u in reconciliation.unreconciled[:20]]
        alert["problems"] = reconciliation.problems
    platform.clients.client("sns").publish(
        TopicArn=platform.settings.alert_topic_arn,
        Subject=f"Invoice run {context.period} ({context.mode}): {status.value}"[:100],
        Message=json.dumps(alert, indent=2),
    )
    platform.store.release_period_lock(context.mode, context.period, context.run_id)
    return report
