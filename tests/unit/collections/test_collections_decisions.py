"""A person closes an escalation: promise to pay, dispute or write-off request, each once."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from invoice_dispatch.collections.escalation import Decision, DecisionRefused, parse_decision
from invoice_dispatch.collections.stages import Action, next_step
from invoice_dispatch.events import CollectionsRun
from invoice_dispatch.platform import Platform
from invoice_dispatch.receivables import EntryKind, ReceivableStatus
from invoice_dispatch.workflow.collections_escalation import escalate, record_decision
from tests.unit.collections.test_collections_reminders import _receivable
from tools.local_run.wiring import REPO_ROOT


def _escalated(platform: Platform, account_id: str) -> tuple[str, str, date]:
    """An invoice reminded at every stage and escalated 17 days after its due date."""
    stored = _receivable(platform, account_id, "en", f"{account_id} Ltd")
    number, due = str(stored.invoice.number), stored.invoice.due_date
    assert due is not None
    for offset in (-7, 0, 7, 14):
        run = CollectionsRun(run_id=f"r{offset}", as_of=due + timedelta(days=offset))
        platform.collections.claim_reminder(number, offset, run, "ap@example.com")
        platform.collections.record_reminder(number, offset, run.as_of, f"msg-{offset}")
    run = CollectionsRun(run_id="r-esc", as_of=due + timedelta(days=17))
    platform.documents.put_json("plan.json", [{"account_id": account_id, "numbers": [number]}])
    assert escalate(run, "plan.json", platform).opened == [f"{account_id}:{run.as_of}"]
    assert escalate(run, "plan.json", platform).opened == []  # a retry opens nothing new
    return number, f"{account_id}:{run.as_of}", due


def _step(platform: Platform, number: str, day: date) -> tuple[Action, str]:
    ((receivable, state),) = platform.collections.states([number]).values()
    step = next_step(receivable, state, day, platform.reminder_schedule)
    return step.action, step.reason


def _decide(platform: Platform, day: date, **fields: object) -> tuple[bool, str]:
    result = record_decision(
        Decision.model_validate({"decided_by": "claire@northwind.example", **fields}),
        platform,
        datetime.combine(day, datetime.min.time(), UTC),
    )
    return result.recorded, result.message


def test_a_promise_pauses_until_its_date_then_escalates_again_and_is_recorded_once(
    platform: Platform,
) -> None:
    number, escalation_id, due = _escalated(platform, "ACC-D1")
    promised = due + timedelta(days=25)
    decision = {
        "escalation_id": escalation_id,
        "decision": "promise_to_pay",
        "promised_date": str(promised),
        "note": "CFO promised on the phone",
    }

    first = _decide(platform, due + timedelta(days=18), **decision)
    again = _decide(platform, due + timedelta(days=19), **decision)

    assert first[0] is True and first[1].startswith(f"Recorded: promise to pay by {promised}")
    assert again[0] is False and again[1].startswith("Already recorded: promise to pay")
    assert _step(platform, number, promised) == (Action.SKIP, "promised to pay")
    assert _step(platform, number, promised + timedelta(days=1))[0] is Action.ESCALATE
    assert list(platform.collections.open_escalations()) == []
    found = platform.collections.escalation(escalation_id)
    assert found is not None and found[0].decision is not None
    assert found[0].decision.decided_by == "claire@northwind.example"
    trail = platform.store.audit_trail(found[0].invoices[0].invoice_id)
    assert [e["event"] for e in trail].count("collections_promise_to_pay") == 1


def test_a_dispute_makes_the_invoice_disputed_once_and_pauses_it(platform: Platform) -> None:
    number, escalation_id, due = _escalated(platform, "ACC-D2")
    for _ in range(2):
        _decide(
            platform,
            due + timedelta(days=18),
            escalation_id=escalation_id,
            decision="dispute",
            note="Says the service was down",
        )

    receivable = platform.ledger.receivable(number)
    assert receivable is not None
    assert receivable.status(due + timedelta(days=30)) is ReceivableStatus.DISPUTED
    kinds = [entry.kind for entry in platform.ledger.entries(number)]
    assert kinds == [EntryKind.DISPUTE_OPENED]
    assert _step(platform, number, due + timedelta(days=40)) == (Action.SKIP, "disputed")


def test_a_write_off_request_is_recorded_as_pending_and_keeps_the_invoice_with_a_person(
    platform: Platform,
) -> None:
    number, escalation_id, due = _escalated(platform, "ACC-D3")
    recorded, message = _decide(
        platform,
        due + timedelta(days=18),
        escalation_id=escalation_id,
        decision="write_off_request",
    )
    repeated, _ = _decide(
        platform,
        due + timedelta(days=18),
        escalation_id=escalation_id,
        decision="write_off_request",
    )

    assert (recorded, repeated) == (True, False)
    assert "write-off request: pending finance's approval" in message
    assert platform.ledger.entries(number) == []  # nothing is written off until approved
    assert _step(platform, number, due + timedelta(days=60)) == (Action.SKIP, "with a person")


def test_another_decision_for_a_closed_escalation_is_refused_with_who_decided(
    platform: Platform,
) -> None:
    _number, escalation_id, due = _escalated(platform, "ACC-D4")
    _decide(platform, due + timedelta(days=18), escalation_id=escalation_id, decision="dispute")
    with pytest.raises(
        DecisionRefused,
        match=r"closed on .* by claire@northwind\.example with dispute; it cannot be decided again",
    ):
        _decide(
            platform,
            due + timedelta(days=18),
            escalation_id=escalation_id,
            decision="write_off_request",
        )


def test_a_promise_without_a_date_is_refused_in_words() -> None:
    with pytest.raises(DecisionRefused, match="A promise to pay needs the promised date"):
        parse_decision(
            {
                "escalation_id": "ACC-1:2027-01-01",
                "decision": "promise_to_pay",
                "decided_by": "claire@northwind.example",
            }
        )


def test_the_sample_decision_inputs_are_valid() -> None:
    samples = sorted((REPO_ROOT / "events" / "collections").glob("decision-*.json"))
    decisions = [parse_decision(json.loads(p.read_text())["escalation_decision"]) for p in samples]
    assert sorted(d.decision.value for d in decisions) == [
        "dispute",
        "promise_to_pay",
        "write_off_request",
    ]
