"""SummarizeRun: the run report a billing team reads the morning after.

Counts, totals per currency of what was finalized, every quarantined or excluded
account with its reason, held invoices, failed deliveries and ERP problems: written to
``runs/<run>/run.json``, kept on the run record and announced on the SNS topic.

The run also proves it is complete (``reconciliation.py``): one that cannot ends
``incomplete``, lists each unreconciled invoice, and puts approved drafts it could not
number where the next run finds them. Whatever the outcome, the period's lock is freed.

The run is walked once, as the store pages it in: each invoice is voided (a rejected,
expired or failed batch), counted, reconciled and, if approved but unnumbered, put in the
unfinished index in that one pass. Only counters, totals per currency and the invoices
run.json names one by one (held, failed, unreconciled) are kept, plus the set of planned
ids not seen yet (see ``_PlannedIds``).
"""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from invoice_dispatch.events import StepError
from invoice_dispatch.history import HistoryTally, run_kind
from invoice_dispatch.invoice import ErpStatus, InvoiceStatus
from invoice_dispatch.lifecycle import ACCEPTED_BY_SES, FAILED_DELIVERY_STATUSES, is_finished
from invoice_dispatch.platform import Platform
from invoice_dispatch.run import ApprovalRecord, RunContext, RunStatus
from invoice_dispatch.tracking import StoredInvoice
from invoice_dispatch.workflow import keys
from invoice_dispatch.workflow.approval import collect_screening, drafting_reports, void_draft
from invoice_dispatch.workflow.reconciliation import (
    AccountCounts,
    InvoiceReconciler,
    Reconciliation,
    reconcile_accounts,
)
from invoice_dispatch.workflow.register import REGISTER_MODE, write_period_register
from invoice_dispatch.workflow.run_history import billing_record, record_run

#: An SNS message stops at 256 KB: the alert names at most this many invoices or problems
#: (run.json has them all).
_ALERT_LIST_LIMIT = 20


def _erp_latencies(platform: Platform, run_id: str) -> list[float]:
    return [
        latency
        for report in platform.documents.get_json_under(keys.erp_reports_prefix(run_id))
        for latency in report["latencies_seconds"]
    ]


def _manifest_ids(platform: Platform, key: str) -> set[str]:
    return {
        invoice_id
        for chunk in platform.documents.iter_json_array_if_exists(key)
        for invoice_id in chunk["invoice_ids"]
    }


class _PlannedIds:
    """The planned invoices not yet seen in the run; what is left at the end went missing.

    The one structure here that grows with the run: a set of ids (about 100 bytes each,
    some 10 MB at 100,000 invoices, against about 10 KB per loaded invoice), emptied as the
    run is walked. Merging two sorted streams would need none, but the run is listed in
    account order, where two invoices of one account (one resumed from an earlier period)
    have no defined order, while the resume manifest (and delivery manifests written by
    earlier versions) are in id order. Read from the manifests element by element.
    """

    def __init__(self, platform: Platform, run_id: str, resumed: set[str]) -> None:
        self._unseen = _manifest_ids(platform, keys.invoice_chunks_manifest(run_id))
        self._unseen |= resumed

    def seen(self, invoice_id: str) -> None:
        self._unseen.discard(invoice_id)

    def problems(self) -> list[str]:
        if not self._unseen:
            return []
        missing = sorted(self._unseen)
        return [
            f"{len(missing)} planned invoice(s) are no longer in this run: "
            + ", ".join(missing[:10])
        ]


@dataclass
class _RunTally:
    """run.json's counts, totals and per-invoice lists, added up one invoice at a time."""

    invoice_count: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    deliveries: Counter[str] = field(default_factory=Counter)
    erp: Counter[str] = field(default_factory=Counter)
    totals: defaultdict[str, dict[str, Decimal | int]] = field(
        default_factory=lambda: defaultdict(
            lambda: {"invoices": 0, "net": Decimal(0), "tax": Decimal(0), "gross": Decimal(0)}
        )
    )
    held: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    failed_deliveries: list[dict[str, Any]] = field(default_factory=list)
    erp_problems: list[dict[str, Any]] = field(default_factory=list)

    def add(self, stored: StoredInvoice) -> None:
        invoice = stored.invoice
        self.invoice_count += 1
        self.statuses[invoice.status.value] += 1
        if invoice.status is InvoiceStatus.FINALIZED:
            self.deliveries[stored.delivery_status.value] += 1
            self.erp[stored.erp_status.value] += 1
            bucket = self.totals[invoice.currency]
            bucket["invoices"] += 1
            bucket["net"] += invoice.net_total
            bucket["tax"] += invoice.tax_total
            bucket["gross"] += invoice.gross_total
        if invoice.status is InvoiceStatus.HELD:
            self.held.append(
                {
                    "invoice_id": stored.invoice_id,
                    "customer": invoice.customer.name,
                    "reason": stored.hold_reason,
                    "held_by": stored.held_by,
                }
            )
        if stored.failure:
            self.failures.append(
                {
                    "invoice_id": stored.invoice_id,
                    "number": invoice.number,
                    "reason": stored.failure,
                }
            )
        if stored.delivery_status in FAILED_DELIVERY_STATUSES:
            self.failed_deliveries.append(
                {
                    "invoice_id": stored.invoice_id,
                    "number": invoice.number,
                    "status": stored.delivery_status.value,
                    "detail": stored.delivery_detail,
                }
            )
        if stored.erp_status is ErpStatus.FAILED:
            self.erp_problems.append(
                {
                    "invoice_id": stored.invoice_id,
                    "number": invoice.number,
                    "detail": stored.erp_detail,
                }
            )

    def counts(self) -> dict[str, int]:
        return {
            "drafts_in_run": self.invoice_count,
            "held": self.statuses.get(InvoiceStatus.HELD.value, 0),
            "finalized": self.statuses.get(InvoiceStatus.FINALIZED.value, 0),
            "voided": self.statuses.get(InvoiceStatus.VOID.value, 0),
            "emails_sent": sum(self.deliveries.get(s.value, 0) for s in ACCEPTED_BY_SES),
            "failed_deliveries": sum(
                self.deliveries.get(s.value, 0) for s in FAILED_DELIVERY_STATUSES
            ),
            "erp_posted": self.erp.get(ErpStatus.POSTED.value, 0),
            "erp_failed": self.erp.get(ErpStatus.FAILED.value, 0),
        }

    def totals_by_currency(self) -> dict[str, dict[str, str]]:
        return {
            currency: {name: str(value) for name, value in values.items()}
            for currency, values in sorted(self.totals.items())
        }


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


def _void_reason(
    outcome: str, approval: ApprovalRecord | None, error: StepError | None
) -> str | None:
    """Why a batch that will not be delivered gives its pending drafts up (None: it does not)."""
    if outcome == "rejected":
        if approval:
            return f"Batch rejected by {approval.approver}: {approval.reason}"
        return "Batch rejected"
    if outcome == "expired":
        return "Nobody approved the batch before the link expired"
    if outcome == "failed":
        return f"The run failed: {error.message if error else 'unknown'}"
    return None


def _voided(
    context: RunContext, stored: StoredInvoice, reason: str, platform: Platform
) -> StoredInvoice | None:
    """The draft as voided; if something moved it meanwhile, as it is now (None: it left
    the run), so the report counts what the store holds."""
    if void_draft(context, stored.invoice_id, reason, platform):
        return stored.model_copy(
            update={
                "invoice": stored.invoice.model_copy(update={"status": InvoiceStatus.VOID}),
                "hold_reason": reason,
                "held_by": None,
            }
        )
    current = platform.store.get_invoice(stored.invoice_id)
    return current if current is not None and current.invoice.run_id == context.run_id else None


def _reconciliation(
    outcome: str,
    run: dict[str, Any],
    reports: list[dict[str, Any]],
    invoices: InvoiceReconciler,
    planned: _PlannedIds,
) -> Reconciliation:
    reconciliation = invoices.result()
    if "screening_counts" in run and outcome in ("completed", "nothing_to_bill"):
        equation, problems = reconcile_accounts(_account_counts(run, reports))
        reconciliation.equations.insert(0, equation)
        reconciliation.problems.extend(problems)
    reconciliation.problems.extend(planned.problems())
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
    void_reason = _void_reason(outcome, approval, error)
    reports = drafting_reports(platform, context.run_id)
    screening = collect_screening(platform, context, reports)
    resumed = _manifest_ids(platform, keys.invoice_chunks_manifest(context.run_id, "resume"))
    planned = _PlannedIds(platform, context.run_id, resumed)
    reconciler = InvoiceReconciler(resumed, after_approval=outcome == "completed")
    tally = _RunTally()
    history = HistoryTally(run_kind(context), datetime.now(UTC).date())
    for stored in platform.store.run_invoices(context.run_id):
        if void_reason and stored.invoice.status is InvoiceStatus.DRAFT:
            voided = _voided(context, stored, void_reason, platform)
            if voided is None:
                continue
            stored = voided
        planned.seen(stored.invoice_id)
        tally.add(stored)
        history.add(stored)
        reconciler.add(stored)
        # Approved drafts it could not number, and invoices it numbered but could not
        # finish: they enter the unfinished index, and the next run does the rest.
        if _left_unfinished(stored, outcome):
            platform.store.mark_unfinished(stored.invoice)
    latencies = _erp_latencies(platform, context.run_id)
    reconciliation = _reconciliation(outcome, run, reports, reconciler, planned)
    if outcome in ("completed", "nothing_to_bill") and not reconciliation.complete:
        status = RunStatus.INCOMPLETE
    elif outcome == "nothing_to_bill" and tally.invoice_count:  # it finished earlier runs' work
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
            **tally.counts(),
            "unreconciled": len(reconciliation.unreconciled),
            "possibly_sent_twice": reconciliation.possibly_sent_twice,
        },
        "reconciliation": reconciliation.report(),
        "totals_by_currency": tally.totals_by_currency(),
        "excluded": [e.model_dump() for e in screening.excluded],
        "quarantined": [q.model_dump() for q in screening.quarantined],
        "held": tally.held,
        "failures": tally.failures,
        "failed_deliveries": tally.failed_deliveries,
        "erp_problems": tally.erp_problems,
        "erp_latency_seconds": {
            "calls": len(latencies),
            "median": round(statistics.median(latencies), 4) if latencies else None,
            "max": round(max(latencies), 4) if latencies else None,
        },
        "approval": approval.model_dump(mode="json") if approval else None,
        "error": error.message if error else None,
        "register": _register(context, outcome, platform),
    }
    if context.milestone is not None:
        report["milestone"] = context.milestone.model_dump()
    record = billing_record(context, report, run, history, platform)
    report["history"] = record.model_dump(mode="json")
    report["kpis"] = record_run(record, platform).model_dump(mode="json")
    platform.documents.put_json(keys.run_report(context.run_id), report)
    platform.store.update_run(context.run_id, status, summary=json.dumps(report["counts"]))
    alert = {k: report[k] for k in ("run_id", "period", "status", "counts", "totals_by_currency")}
    if not reconciliation.complete:
        alert["unreconciled"] = [u.detail for u in reconciliation.unreconciled[:_ALERT_LIST_LIMIT]]
        alert["problems"] = reconciliation.problems[:_ALERT_LIST_LIMIT]
    platform.clients.client("sns").publish(
        TopicArn=platform.settings.alert_topic_arn,
        Subject=f"Invoice run {context.period} ({context.mode}): {status.value}"[:100],
        Message=json.dumps(alert, indent=2),
    )
    platform.store.settle_run(context.run_id)
    platform.store.release_period_lock(context.mode, context.lock_scope, context.run_id)
    return report


def _register(context: RunContext, outcome: str, platform: Platform) -> dict[str, str] | None:
    """A live run that may have numbered invoices rewrites its period's register, so the
    register in S3 always lists what the period holds once a run of it is over."""
    if context.mode != REGISTER_MODE or outcome not in ("completed", "nothing_to_bill"):
        return None
    written = write_period_register(context.period, platform, datetime.now(UTC))
    return {"csv": written.csv_key, "pdf": written.pdf_key}


def _left_unfinished(stored: StoredInvoice, outcome: str) -> bool:
    if stored.invoice.status is InvoiceStatus.DRAFT:
        return outcome == "completed"
    return stored.invoice.status is InvoiceStatus.FINALIZED and not is_finished(stored)
