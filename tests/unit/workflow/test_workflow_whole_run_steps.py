"""What the whole-run steps write and count, now that each walks the run once.

The memory side is in tests/integration/workflow/test_whole_run_steps_stream.py; these
pin down the documents and counts a billing team and the state machine read.
"""

from __future__ import annotations

from datetime import UTC, datetime

from invoice_dispatch.billing import AnomalyThresholds
from invoice_dispatch.billing.anomalies import NON_POSITIVE_TOTAL
from invoice_dispatch.invoice import Invoice, InvoiceStatus
from invoice_dispatch.platform import Platform
from invoice_dispatch.run import ApprovalRecord, RunContext, RunStatus
from invoice_dispatch.workflow import keys
from invoice_dispatch.workflow.approval import auto_approve, hold_invoices
from invoice_dispatch.workflow.delivery import plan_delivery, write_delivery_plan
from invoice_dispatch.workflow.summary import summarize_run
from tests.conftest import draft_invoice

RUN = RunContext(run_id="run-1", period="2026-11", mode="live", approval_timeout_seconds=3600)
APPROVER = "controller@example.com"


def _drafts(platform: Platform, *account_ids: str, rule_held: str | None = None) -> list[str]:
    platform.store.create_run(RUN, datetime.now(UTC).isoformat())
    invoice_ids = []
    for account_id in account_ids:
        draft: Invoice = draft_invoice(account_id, run_id=RUN.run_id)
        if account_id == rule_held:
            flag = AnomalyThresholds().flag(NON_POSITIVE_TOTAL, "The total is 0.00 EUR")
            draft = draft.model_copy(update={"anomalies": (flag,)})
        platform.store.create_draft(draft)
        invoice_ids.append(draft.invoice_id)
    return invoice_ids


def test_delivery_manifest_chunks_the_approved_drafts_in_account_order(
    platform: Platform,
) -> None:
    platform.settings = platform.settings.model_copy(update={"chunk_size": 2})
    first, _rule_held, *rest = _drafts(
        platform, "ACC-1", "ACC-2", "ACC-3", "ACC-4", "ACC-5", "ACC-6", rule_held="ACC-2"
    )
    auto_approve(RUN, platform)

    plan = plan_delivery(RUN, platform)

    approved = [first, *rest]
    assert (plan.invoice_count, plan.chunk_count) == (5, 3)
    assert platform.documents.get_json(plan.invoice_chunks_key) == [
        {"chunk_index": 0, "invoice_ids": approved[0:2]},
        {"chunk_index": 1, "invoice_ids": approved[2:4]},
        {"chunk_index": 2, "invoice_ids": approved[4:]},
    ]


def test_nothing_approved_writes_an_empty_manifest(platform: Platform) -> None:
    plan = write_delivery_plan(RUN, iter(()), platform)

    assert (plan.invoice_count, plan.chunk_count) == (0, 0)
    assert platform.documents.get_json(plan.invoice_chunks_key) == []


def test_a_rejected_batch_voids_its_drafts_in_the_pass_that_reports_them(
    platform: Platform,
) -> None:
    *pending, held = _drafts(platform, "ACC-1", "ACC-2", "ACC-3")
    hold_invoices(RUN, [held], APPROVER, platform)
    rejection = ApprovalRecord(
        decision="reject", approver=APPROVER, decided_at=datetime.now(UTC), reason="Old prices"
    )
    platform.store.update_run(RUN.run_id, RunStatus.AWAITING_APPROVAL)
    assert platform.store.record_decision(RUN.run_id, rejection)

    report = summarize_run(RUN, "rejected", platform)

    assert report["counts"]["drafts_in_run"] == 3
    assert (report["counts"]["voided"], report["counts"]["held"]) == (2, 1)
    assert report["reconciliation"]["equations"][0] == (
        "Approval: 3 drafts of this run = 0 finalized + 1 held + 2 voided + 0 awaiting approval"
    )
    for invoice_id in pending:
        stored = platform.store.get_invoice(invoice_id)
        assert stored is not None and stored.invoice.status is InvoiceStatus.VOID
        audit = [e for e in platform.store.audit_trail(invoice_id) if e["event"] == "voided"]
        assert [e["detail"] for e in audit] == [f"Batch rejected by {APPROVER}: Old prices"]


def test_a_planned_invoice_no_longer_in_the_run_makes_it_incomplete(platform: Platform) -> None:
    drafted = _drafts(platform, "ACC-1")
    write_delivery_plan(RUN, [*drafted, "2026-11:ACC-GONE"], platform)
    platform.documents.put_json(keys.invoice_chunks_manifest(RUN.run_id, "resume"), [])

    report = summarize_run(RUN, "completed", platform)

    assert report["status"] == "incomplete"
    assert report["reconciliation"]["problems"] == [
        "1 planned invoice(s) are no longer in this run: 2026-11:ACC-GONE"
    ]
