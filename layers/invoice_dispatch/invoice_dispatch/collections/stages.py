"""When a reminder goes out, and when collections stops e-mailing and asks a person.

Stages are days around the due date (``REMINDER_STAGES``, ``-7,0,7,14`` by default): a
friendly note a week before, one on the day, a firmer one a week late and a final one
two weeks late. The rules, in order (the first that holds decides):

1. Nothing is owed (paid, credited, written off) or money is owed *back* (overpaid):
   nothing to chase.
2. The customer disputes the invoice: a reminder would be rude; a person handles it.
3. Auto-pay is collecting it (``autopay/``): the payment run charges the stored card or
   mandate and retries on its own schedule; a reminder to pay what is being collected
   would only confuse. Once the retries run out it is handed over, and rule 7 applies
   from that day (the most recent stage only, never the ones held).
4. The invoice is with a person (an open escalation, or a write-off requested): no
   automatic e-mail ever again until that person's decision releases it.
5. The customer promised to pay by a date: nothing until the day after it.
6. The last stage went out ``ESCALATION_GRACE_DAYS`` ago and the invoice is still
   owed: escalate (Kill Bill's overdue states, Odoo's last follow-up level: automation
   stops and a person calls). A broken promise ends here too.
7. Otherwise the most recent stage whose day has come, if no stage at or after it was
   sent: a run that was late or missed days sends that one stage, never the ones it
   skipped (three reminders in one morning read as a malfunction, not as care).

Stripe and Chargebee send dunning e-mails the same way, by days since the due date;
they retry cards, which a bank transfer customer has no equivalent of.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from invoice_dispatch.receivables import SETTLED, Receivable, ReceivableStatus


class Tone(StrEnum):
    """How firm the wording is; the templates pick their sentences by it."""

    UPCOMING = "upcoming"
    DUE_TODAY = "due_today"
    OVERDUE = "overdue"
    FINAL = "final"


@dataclass(frozen=True)
class ReminderStage:
    offset: int
    tone: Tone

    @property
    def label(self) -> str:
        """How the report and the record name it: ``-7``, ``+0``, ``+7``, ``+14``."""
        return f"{self.offset:+d}"


class ReminderSchedule:
    """The configured stages, in day order, each with its tone."""

    def __init__(self, offsets: list[int], escalation_grace_days: int) -> None:
        ordered = sorted(set(offsets))
        if not ordered:
            raise ValueError("At least one reminder stage is needed")
        self.stages = tuple(
            ReminderStage(offset, _tone(offset, offset == ordered[-1])) for offset in ordered
        )
        self.grace = timedelta(days=escalation_grace_days)

    @property
    def last(self) -> ReminderStage:
        return self.stages[-1]

    def stage(self, offset: int) -> ReminderStage:
        for stage in self.stages:
            if stage.offset == offset:
                return stage
        raise KeyError(f"No reminder stage at {offset:+d} days")

    def most_recent(self, due_date: date, as_of: date) -> ReminderStage | None:
        reached = [s for s in self.stages if due_date + timedelta(days=s.offset) <= as_of]
        return reached[-1] if reached else None

    def escalation_day(self, due_date: date, last_reminded_on: date | None) -> date:
        """The last stage's day (or the day it went out, if later) plus the grace days."""
        last_day = due_date + timedelta(days=self.last.offset)
        return max(last_day, last_reminded_on or last_day) + self.grace


def _tone(offset: int, is_last: bool) -> Tone:
    if offset < 0:
        return Tone.UPCOMING
    if offset == 0:
        return Tone.DUE_TODAY
    return Tone.FINAL if is_last else Tone.OVERDUE


@dataclass(frozen=True)
class CollectionState:
    """What collections keeps on a receivable beside its ledger (``collections_store.py``)."""

    last_stage: int | None = None
    last_reminded_on: date | None = None
    paused_until: date | None = None
    escalation_id: str | None = None
    autopay_collecting: bool = False


class Action(StrEnum):
    REMIND = "remind"
    ESCALATE = "escalate"
    SKIP = "skip"


@dataclass(frozen=True)
class NextStep:
    action: Action
    reason: str
    stage: ReminderStage | None = None


def next_step(
    receivable: Receivable, state: CollectionState, as_of: date, schedule: ReminderSchedule
) -> NextStep:
    """What today's run does for this receivable (the module docstring lists the rules)."""
    status = receivable.status(as_of)
    if status in SETTLED or status is ReceivableStatus.OVERPAID:
        return NextStep(Action.SKIP, status.value)
    if status is ReceivableStatus.DISPUTED:
        return NextStep(Action.SKIP, "disputed")
    if state.autopay_collecting:
        return NextStep(Action.SKIP, "collected by auto-pay")
    if state.escalation_id:
        return NextStep(Action.SKIP, "with a person")
    if state.paused_until and as_of <= state.paused_until:
        return NextStep(Action.SKIP, "promised to pay")
    if state.last_stage is not None and state.last_stage >= schedule.last.offset:
        if as_of >= schedule.escalation_day(receivable.due_date, state.last_reminded_on):
            return NextStep(Action.ESCALATE, "no full payment after the last reminder")
        return NextStep(Action.SKIP, "waiting after the last reminder")
    stage = schedule.most_recent(receivable.due_date, as_of)
    if stage is None:
        return NextStep(Action.SKIP, "not due for a reminder yet")
    if state.last_stage is not None and stage.offset <= state.last_stage:
        return NextStep(Action.SKIP, "reminded already")
    return NextStep(Action.REMIND, f"stage {stage.label}", stage)
