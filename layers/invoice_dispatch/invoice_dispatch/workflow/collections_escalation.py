"""Escalate, and the decision that closes an escalation.

Escalate takes the plan's accounts whose invoices ran out of reminders, checks each
invoice again on fresh data, opens one escalation per account and day (a conditional
put: the step's retry, or a second run the same day, opens nothing new) and tells its
owner: an e-mail to the account's collections owner (or the collections address) and
a message on the topic ``COLLECTIONS_NOTIFY`` names for escalations. The escalation is
marked told only after both went out, so a crash in between tells again rather than
never (a duplicate e-mail to a colleague beats a forgotten customer).

A decision comes in on demand (``events/collections/decision-*.json``, as the collections
state machine's input) and is recorded once (``collections/escalation.py``): the
escalation closes with it, each invoice's audit trail gets a line, and its invoices are
released, disputed or kept with a person. Every effect is idempotent, so repeating the
decision after a failure finishes what the first attempt left.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from invoice_dispatch.collections.escalation import (
    Decision,
    DecisionKind,
    DecisionRefused,
    EscalatedInvoice,
    Escalation,
    RecordedDecision,
    check_decision,
    escalation_id,
)
from invoice_dispatch.collections.notifications import NewsEvent
from invoice_dispatch.collections.stages import Action, next_step
from invoice_dispatch.events import CollectionsRun
from invoice_dispatch.platform import Platform
from invoice_dispatch.receivables import Allocation, EntryKind, LedgerEntry, Posting, PostingOutcome
from invoice_dispatch.rendering.collections import render_escalation
from invoice_dispatch.workflow import keys
from invoice_dispatch.workflow.collections_notify import publish
from invoice_dispatch.workflow.mime import build_message
from invoice_dispatch.workflow.payments_in import record_once


class EscalateResult(BaseModel):
    opened: list[str] = Field(default_factory=list)
    told: list[str] = Field(default_factory=list)


def owner_of(account_id: str, platform: Platform) -> str:
    settings = platform.settings
    return (
        settings.collections_owners.get(account_id)
        or settings.collections_email
        or platform.legal_entity.email
    )


def _escalation(
    account_id: str, numbers: list[str], run: CollectionsRun, platform: Platform
) -> Escalation | None:
    """The escalation of what is still due for one today, or None if nothing is."""
    invoices: list[EscalatedInvoice] = []
    customer = ""
    for receivable, state in platform.collections.states(numbers).values():
        step = next_step(receivable, state, run.as_of, platform.reminder_schedule)
        if step.action is not Action.ESCALATE:
            continue
        customer = receivable.customer_name
        invoices.append(
            EscalatedInvoice(
                number=receivable.number,
                invoice_id=receivable.invoice_id,
                currency=receivable.currency,
                open_amount=receivable.open_amount,
                due_date=receivable.due_date,
                days_overdue=receivable.days_past_due(run.as_of),
                reminders=platform.collections.reminders(receivable.number),
            )
        )
    if not invoices:
        return None
    return Escalation(
        escalation_id=escalation_id(account_id, run.as_of),
        account_id=account_id,
        customer_name=customer,
        opened_on=run.as_of,
        owner=owner_of(account_id, platform),
        invoices=sorted(invoices, key=lambda invoice: invoice.number),
    )


def _tell(escalation: Escalation, platform: Platform) -> None:
    email = render_escalation(escalation)
    message = build_message(
        sender=platform.settings.sender_email,
        recipient=escalation.owner,
        subject=email.subject,
        text_body=email.text_body,
        html_body=email.html_body,
    )
    platform.mailer.send_raw(
        platform.settings.sender_email, escalation.owner, message, {"kind": "escalation"}
    )
    publish(NewsEvent.ESCALATION, email.subject, email.text_body, platform)


def escalate(run: CollectionsRun, escalation_plan_key: str, platform: Platform) -> EscalateResult:
    result = EscalateResult()
    store = platform.collections
    for entry in platform.documents.get_json(escalation_plan_key):
        escalation = _escalation(entry["account_id"], entry["numbers"], run, platform)
        if escalation is None:
            continue
        if store.open_escalation(escalation):
            result.opened.append(escalation.escalation_id)
        stored = store.escalation(escalation.escalation_id)
        if stored is not None and not stored[1]:
            _tell(stored[0], platform)
            store.mark_notified(escalation.escalation_id)
            result.told.append(escalation.escalation_id)
    platform.documents.put_json(
        f"{keys.collections_escalations_prefix(str(run.as_of))}{run.run_id}.json", result
    )
    return result


class DecisionResult(BaseModel):
    escalation_id: str
    decision: DecisionKind
    recorded: bool = Field(description="False: this decision was recorded before")
    message: str


def _dispute(escalation: Escalation, decision: RecordedDecision, platform: Platform) -> None:
    """A ``dispute_opened`` entry on each invoice, once (keyed by the escalation)."""
    key = f"dispute:{escalation.escalation_id}"

    def decide(receivables: Any) -> Posting:
        allocations = tuple(
            Allocation(
                number=number,
                entry=LedgerEntry(
                    entry_key=key,
                    kind=EntryKind.DISPUTE_OPENED,
                    currency=receivables[number].currency,
                    amount=0,
                    booked_on=decision.decided_at.date(),
                    note=f"Disputed, recorded by {decision.decided_by}: {decision.note}"[:500],
                ),
            )
            for number in escalation.numbers
            if number in receivables
        )
        return Posting(
            key=key,
            source="collections decision",
            received_on=decision.decided_at.date(),
            currency=escalation.invoices[0].currency,
            amount=0,
            outcome=PostingOutcome.APPLIED,
            allocations=allocations,
            explanation=f"Escalation {escalation.escalation_id} disputed by the customer.",
        )

    record_once(key, escalation.numbers, decide, platform)


def record_decision(decision: Decision, platform: Platform, now: datetime) -> DecisionResult:
    store = platform.collections
    found = store.escalation(decision.escalation_id)
    escalation = found[0] if found else None
    is_new = check_decision(escalation, decision, now.date())
    assert escalation is not None  # check_decision refuses a missing one
    if is_new:
        recorded = RecordedDecision(**decision.model_dump(), decided_at=now)
        if not store.close_escalation(escalation, recorded):
            raise DecisionRefused(
                f"Escalation {escalation.escalation_id} was decided by someone else a moment "
                "ago; read it again before deciding"
            )
    else:
        assert escalation.decision is not None
        recorded = escalation.decision
    if recorded.decision is DecisionKind.DISPUTE:
        _dispute(escalation, recorded, platform)
    if recorded.decision is not DecisionKind.WRITE_OFF_REQUEST:
        for number in escalation.numbers:
            store.release(number, escalation.escalation_id, recorded.promised_date)
    what = {
        DecisionKind.PROMISE_TO_PAY: f"promise to pay by {recorded.promised_date}: reminders "
        "pause until then",
        DecisionKind.DISPUTE: "dispute: the invoices are disputed and get no reminders",
        DecisionKind.WRITE_OFF_REQUEST: "write-off request: pending finance's approval; the "
        "invoices stay with a person",
    }[recorded.decision]
    if is_new:  # the escalation's record holds the decision; each invoice's trail says so too
        for invoice in escalation.invoices:
            platform.store.append_audit(
                invoice.invoice_id,
                f"collections_{recorded.decision.value}",
                f"Escalation {escalation.escalation_id}: {what}. {recorded.note}".strip(),
                recorded.decided_by,
            )
    prefix = "Recorded" if is_new else "Already recorded"
    return DecisionResult(
        escalation_id=escalation.escalation_id,
        decision=recorded.decision,
        recorded=is_new,
        message=f"{prefix}: {what} ({escalation.customer_name}, "
        f"{', '.join(escalation.numbers)}), decided by {recorded.decided_by}.",
    )
