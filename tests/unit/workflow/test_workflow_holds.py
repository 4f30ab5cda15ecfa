"""Who held an invoice: a threshold rule or the approver, in the audit trail and in run.json.

A controller reading the audit trail must never find their name on a hold a rule made.
"""

from __future__ import annotations

from datetime import UTC, datetime

from invoice_dispatch.approval.models import ApprovalDecision
from invoice_dispatch.billing import AnomalyThresholds
from invoice_dispatch.billing.anomalies import NON_POSITIVE_TOTAL
from invoice_dispatch.invoice import Invoice
from invoice_dispatch.platform import Platform
from invoice_dispatch.run import RunContext
from invoice_dispatch.workflow.approval import apply_decision, auto_approve, request_approval
from invoice_dispatch.workflow.summary import summarize_run
from tests.conftest import draft_invoice

RUN = RunContext(run_id="run-1", period="2026-11", mode="live", approval_timeout_seconds=3600)
APPROVER = "controller@example.com"
ZERO_TOTAL_MESSAGE = "The invoice total is 0.00 EUR"


def _zero_total_draft(account_id: str) -> Invoice:
    """A draft the NON_POSITIVE_TOTAL rule holds by itself."""
    flag = AnomalyThresholds().flag(NON_POSITIVE_TOTAL, ZERO_TOTAL_MESSAGE)
    assert flag.holds_invoice
    return draft_invoice(account_id, run_id=RUN.run_id).model_copy(update={"anomalies": (flag,)})


def _awaiting_approval(platform: Platform, *drafts: Invoice) -> None:
    platform.store.create_run(RUN, datetime.now(UTC).isoformat())
    for draft in drafts:
        platform.store.create_draft(draft)
    request_approval(RUN, "task-token", platform)


def _approval_holding(*held_invoice_ids: str) -> ApprovalDecision:
    """The approver's POST: approve the batch, holding these drafts."""
    return ApprovalDecision(
        decision="approve",
        held_invoice_ids=list(held_invoice_ids),
        approver=APPROVER,
        decided_at=datetime.now(UTC),
        source_ip="203.0.113.7",
        user_agent="Mozilla/5.0",
    )


def _held_audit(platform: Platform, invoice_id: str) -> dict[str, str]:
    (held,) = [
        entry for entry in platform.store.audit_trail(invoice_id) if entry["event"] == "held"
    ]
    return held


def _held_in_run_report(platform: Platform) -> dict[str, dict[str, str]]:
    report = summarize_run(RUN, "completed", platform)
    return {entry["invoice_id"]: entry for entry in report["held"]}


def test_rule_hold_and_approver_hold_are_told_apart_in_audit_and_run_report(
    platform: Platform,
) -> None:
    rule_held = _zero_total_draft("ACC-RULE")
    approver_held = draft_invoice("ACC-CHECKED", run_id=RUN.run_id)
    approved = draft_invoice("ACC-OK", run_id=RUN.run_id)
    _awaiting_approval(platform, rule_held, approver_held, approved)
    decision = _approval_holding(approver_held.invoice_id)

    run = platform.store.get_run(RUN.run_id)
    assert run is not None
    assert apply_decision(run, decision, [rule_held.invoice_id], platform)

    rule_audit = _held_audit(platform, rule_held.invoice_id)
    assert rule_audit["actor"] == "system"
    assert rule_audit["detail"] == f"Held by rule NON_POSITIVE_TOTAL: {ZERO_TOTAL_MESSAGE}"
    approver_audit = _held_audit(platform, approver_held.invoice_id)
    assert approver_audit["actor"] == APPROVER
    assert approver_audit["detail"] == f"Held at approval by {APPROVER}"
    held = _held_in_run_report(platform)
    assert held.keys() == {rule_held.invoice_id, approver_held.invoice_id}
    assert held[rule_held.invoice_id]["held_by"] == "rule NON_POSITIVE_TOTAL"
    assert held[rule_held.invoice_id]["reason"].startswith("Held by rule NON_POSITIVE_TOTAL: ")
    assert held[approver_held.invoice_id]["held_by"] == APPROVER


def test_forged_form_holding_a_rule_held_draft_leaves_it_the_rule_s_hold(
    platform: Platform,
) -> None:
    rule_held = _zero_total_draft("ACC-RULE")
    _awaiting_approval(platform, rule_held)
    decision = _approval_holding(rule_held.invoice_id)

    run = platform.store.get_run(RUN.run_id)
    assert run is not None
    apply_decision(run, decision, [rule_held.invoice_id], platform)

    assert _held_audit(platform, rule_held.invoice_id)["actor"] == "system"
    assert _held_in_run_report(platform)[rule_held.invoice_id]["held_by"] == (
        "rule NON_POSITIVE_TOTAL"
    )


def test_auto_approval_holds_by_rule_not_by_auto_approver(platform: Platform) -> None:
    rule_held = _zero_total_draft("ACC-RULE")
    platform.store.create_run(RUN, datetime.now(UTC).isoformat())
    platform.store.create_draft(rule_held)
    platform.store.create_draft(draft_invoice("ACC-OK", run_id=RUN.run_id))

    assert auto_approve(RUN, platform) == 1

    audit = _held_audit(platform, rule_held.invoice_id)
    assert audit["actor"] == "system"
    assert audit["detail"] == f"Held by rule NON_POSITIVE_TOTAL: {ZERO_TOTAL_MESSAGE}"
    assert _held_in_run_report(platform)[rule_held.invoice_id]["held_by"] == (
        "rule NON_POSITIVE_TOTAL"
    )


def test_a_retried_approval_request_keeps_its_one_reminder_schedule(platform: Platform) -> None:
    _awaiting_approval(platform, draft_invoice("ACC-1"))

    request_approval(RUN, "task-token-of-the-retry", platform)

    schedules = platform.clients.client("scheduler").list_schedules()["Schedules"]
    assert [s["Name"] for s in schedules] == [f"approval-reminder-{RUN.run_id}"]
    assert platform.store.get_run(RUN.run_id)["task_token"] == "task-token-of-the-retry"  # type: ignore[index]
