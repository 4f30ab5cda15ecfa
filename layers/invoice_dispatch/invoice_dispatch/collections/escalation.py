"""Escalations: the invoices automation has given up on, and the decision a person records.

An escalation is per account and day (``<account id>:<day>``): everything of one
customer that ran out of reminders that day goes to one person in one message, since a
phone call covers all of a customer's invoices. It stays open until a person records
one decision, which also releases (or keeps) its invoices:

* **promise to pay** by a date: reminders pause until then; if the money has not come
  by the day after, the invoices escalate again (a broken promise needs the call too);
* **dispute**: each invoice gets a ``dispute_opened`` ledger entry, so it is
  ``disputed`` everywhere (reminders, report, aging) until the dispute is closed;
* **write-off request**: recorded as *pending* for finance's approval (issue 18); the
  invoices stay with a person, so nothing automatic touches them meanwhile.

A decision is recorded once per escalation: repeating the same decision answers with
what was recorded; a different one for a closed escalation is refused with who decided
what and when, rather than silently overwriting a colleague's call.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from invoice_dispatch.errors import PermanentError


class DecisionKind(StrEnum):
    PROMISE_TO_PAY = "promise_to_pay"
    DISPUTE = "dispute"
    WRITE_OFF_REQUEST = "write_off_request"


class ReminderRecord(BaseModel):
    """One reminder as it went out, and what SES said about it since."""

    model_config = ConfigDict(frozen=True)

    stage: str
    sent_on: date
    status: str
    recipient: str = ""
    detail: str = ""


class EscalatedInvoice(BaseModel):
    model_config = ConfigDict(frozen=True)

    number: str
    invoice_id: str
    currency: str
    open_amount: Decimal
    due_date: date
    days_overdue: int
    reminders: list[ReminderRecord] = Field(default_factory=list)


class Decision(BaseModel):
    """What a person decided, as the on-demand input states it (``events/collections/``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    escalation_id: str = Field(min_length=3, max_length=200)
    decision: DecisionKind
    decided_by: str = Field(min_length=1, max_length=200, description="Who decided (e-mail)")
    note: str = Field(default="", max_length=1000)
    promised_date: date | None = None

    @model_validator(mode="after")
    def _promise_has_a_date(self) -> Decision:
        if (self.decision is DecisionKind.PROMISE_TO_PAY) != (self.promised_date is not None):
            raise ValueError(
                "A promise to pay needs the promised date (promised_date: YYYY-MM-DD); "
                "other decisions take none"
            )
        return self

    def same_as(self, other: Decision) -> bool:
        """The same decision, whatever its note says or when it was recorded."""
        fields = set(Decision.model_fields) - {"note"}
        return self.model_dump(include=fields) == other.model_dump(include=fields)


class RecordedDecision(Decision):
    decided_at: datetime


class Escalation(BaseModel):
    model_config = ConfigDict(frozen=True)

    escalation_id: str
    account_id: str
    customer_name: str
    opened_on: date
    owner: str
    invoices: list[EscalatedInvoice]
    status: Literal["open", "closed"] = "open"
    decision: RecordedDecision | None = None

    def open_by_currency(self) -> dict[str, Decimal]:
        totals: dict[str, Decimal] = {}
        for invoice in self.invoices:
            totals[invoice.currency] = totals.get(invoice.currency, Decimal(0)) + (
                invoice.open_amount
            )
        return dict(sorted(totals.items()))

    @property
    def days_overdue(self) -> int:
        return max(invoice.days_overdue for invoice in self.invoices)

    @property
    def numbers(self) -> list[str]:
        return [invoice.number for invoice in self.invoices]


def escalation_id(account_id: str, day: date) -> str:
    return f"{account_id}:{day.isoformat()}"


class DecisionRefused(PermanentError):
    """A decision that cannot be recorded; the message says why, for the collections team."""


def check_decision(escalation: Escalation | None, decision: Decision, today: date) -> bool:
    """True if ``decision`` is new, False if this very decision is recorded already."""
    if escalation is None:
        raise DecisionRefused(f"There is no escalation {decision.escalation_id}")
    recorded = escalation.decision
    if recorded is not None:
        if recorded.same_as(decision):
            return False
        raise DecisionRefused(
            f"Escalation {escalation.escalation_id} was closed on "
            f"{recorded.decided_at:%Y-%m-%d} by {recorded.decided_by} with "
            f"{recorded.decision.value.replace('_', ' ')}; it cannot be decided again"
        )
    if decision.promised_date is not None and decision.promised_date <= today:
        raise DecisionRefused(
            f"The promised date {decision.promised_date} is not after today ({today}); a "
            "promise to pay must name a future day"
        )
    return True


def parse_decision(payload: object) -> Decision:
    """The on-demand input as a ``Decision``, or a refusal that names what is wrong."""
    try:
        return Decision.model_validate(payload)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc']) or 'input'}: {problem['msg']}"
            for problem in error.errors()
        )
        raise DecisionRefused(f"The escalation decision is not valid: {problems}") from None
