"""The posted form becomes exactly one decision, or a refusal the approver can act on."""

from __future__ import annotations

import pytest

from invoice_dispatch.approval import InvalidDecision, parse_decision_form
from invoice_dispatch.approval.models import ApprovalDecision
from tests.unit.approval.approval_factories import APPROVER, NOW

DRAFT_IDS = frozenset({"2026-10:acct-00001", "2026-10:acct-00002", "2026-10:acct-00003"})


def _parse(form: dict[str, list[str]]) -> ApprovalDecision:
    return parse_decision_form(form, DRAFT_IDS, APPROVER, "203.0.113.9", "Mozilla/5.0", NOW)


def test_approve_all_records_who_when_where() -> None:
    decision = _parse({"decision": ["approve"], "form_token": ["t"]})

    assert decision.decision == "approve"
    assert decision.held_invoice_ids == []
    assert (decision.approver, decision.decided_at) == (APPROVER, NOW)
    assert (decision.source_ip, decision.user_agent) == ("203.0.113.9", "Mozilla/5.0")


def test_approve_with_holds_keeps_the_checked_invoices_once_each() -> None:
    decision = _parse(
        {
            "decision": ["approve_with_holds"],
            "hold": ["2026-10:acct-00002", "2026-10:acct-00003", "2026-10:acct-00002"],
        }
    )
    assert decision.decision == "approve"
    assert decision.held_invoice_ids == ["2026-10:acct-00002", "2026-10:acct-00003"]


def test_approve_with_holds_but_nothing_checked_is_refused() -> None:
    with pytest.raises(InvalidDecision, match="none were checked") as refused:
        _parse({"decision": ["approve_with_holds"]})
    assert refused.value.status_code == 400


def test_checked_boxes_are_never_ignored_by_approve_all() -> None:
    with pytest.raises(InvalidDecision, match="checked 1 invoice"):
        _parse({"decision": ["approve"], "hold": ["2026-10:acct-00001"]})


def test_reject_needs_a_reason() -> None:
    with pytest.raises(InvalidDecision, match="needs a reason"):
        _parse({"decision": ["reject"], "reason": ["   \n "]})
    with pytest.raises(InvalidDecision, match="needs a reason"):
        _parse({"decision": ["reject"]})


def test_reject_with_reason_holds_nothing_and_keeps_the_reason() -> None:
    decision = _parse(
        {"decision": ["reject"], "reason": ["  Usage for EU is doubled.\nRe-run after fix. "]}
    )
    assert decision.decision == "reject"
    assert decision.reason == "Usage for EU is doubled.\nRe-run after fix."
    assert decision.held_invoice_ids == []


def test_hold_of_an_invoice_outside_this_run_is_refused_by_name() -> None:
    with pytest.raises(InvalidDecision, match="2026-09:acct-00001 is not a draft of this run"):
        _parse({"decision": ["approve_with_holds"], "hold": ["2026-09:acct-00001"]})


@pytest.mark.parametrize(
    "form",
    [{}, {"decision": [""]}, {"decision": ["approve", "reject"]}, {"decision": ["finalize"]}],
)
def test_missing_ambiguous_or_unknown_decisions_are_refused(form: dict[str, list[str]]) -> None:
    with pytest.raises(InvalidDecision):
        _parse(form)
