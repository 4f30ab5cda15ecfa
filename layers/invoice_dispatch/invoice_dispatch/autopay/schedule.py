"""When the payment run charges an invoice, when it tries again, and when it gives up.

**First attempt: on the first collections day on or after the invoice's issue date**, not
on its due date. A customer who stored a card or signed a mandate agreed to be charged
when billed (Stripe's ``charge_automatically`` and Chargebee charge at finalization too).
Starting then leaves the whole payment term for the retries: an invoice whose card keeps
being declined is handed to reminders a week after issue, long before it is due, so the
customer gets the usual friendly reminder and can still pay on time by transfer, instead
of being late because of a card problem. (Charging on the due date would hand a declined
invoice to reminders only when it is already a week overdue.) For a SEPA mandate this
assumes the mandate agrees to a pre-notification shorter than the rulebook's default 14
days (the invoice e-mail is the pre-notification), as B2B mandates for monthly billing
commonly do.

**Retries** follow ``AUTO_PAY_RETRY_DAYS`` (``3,5,7`` by default): days after the *first*
decline, so attempts fall on days 0, 3, 5 and 7 and a run that missed a day still keeps
the customer's bank days apart. After the last retry is declined the invoice is **handed
over to reminders** (its reminders were held meanwhile) and auto-pay never charges it
again; from then on it is chased like any other invoice.

**Unanswered attempts** (gateway down, timeout) are no attempts: nothing was decided, so
the schedule does not move and the same request (same idempotency key, same amount) is
asked again by the next run. A charge is only ever resolved by the gateway's answer to
that key, never by a new request (``gateway.py``).

**Before charging**, each run looks at the ledger afresh: an invoice paid (or credited,
written off) by other means is not charged and leaves auto-pay; a disputed one is handed
to people (reminders pause while it is disputed), since taking money the customer
contests is what a chargeback is made of.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from invoice_dispatch.receivables import SETTLED, Receivable, ReceivableStatus


class AutoPayStatus(StrEnum):
    COLLECTING = "collecting"
    """On the payment run's list; reminders are held."""
    COLLECTED = "collected"
    """Auto-pay took the money."""
    HANDED_OVER = "handed_over"
    """The retries ran out (or a dispute came): reminders chase it from now on."""
    ENDED = "ended"
    """Settled by other means before auto-pay took it."""


class PendingCharge(BaseModel):
    """An attempt asked of the gateway and not answered yet: re-asked exactly as it was."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    attempt: int = Field(ge=1)
    idempotency_key: str
    amount: Decimal = Field(gt=0)
    asked_on: date


class Attempt(BaseModel):
    """One line of an invoice's auto-pay history, for the audit and the demo."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    day: date
    attempt: int
    outcome: str
    reason: str = ""


class AutoPayState(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    number: str
    account_id: str
    currency: str
    method_ref: str | None = None
    mandate_ref: str | None = None
    status: AutoPayStatus = AutoPayStatus.COLLECTING
    #: Attempts the gateway answered (declined or succeeded).
    attempts: int = Field(default=0, ge=0)
    next_attempt_on: date
    first_attempt_on: date | None = None
    first_failure_on: date | None = None
    pending: PendingCharge | None = None
    history: tuple[Attempt, ...] = ()


class Move(StrEnum):
    CHARGE = "charge"
    REASK = "reask"
    END = "end"
    HAND_OVER = "hand_over"
    WAIT = "wait"


class RetrySchedule:
    """``retry_days``: days after the first decline on which the charge is tried again."""

    def __init__(self, retry_days: list[int]) -> None:
        if sorted(set(retry_days)) != list(retry_days) or any(day < 1 for day in retry_days):
            raise ValueError(
                f"Auto-pay retry days must be increasing whole days of 1 or more, not {retry_days}"
            )
        self.retry_days = tuple(retry_days)

    @property
    def max_attempts(self) -> int:
        return 1 + len(self.retry_days)

    @staticmethod
    def first_attempt_on(issue_date: date) -> date:
        """See the module docstring: charged when billed, retried within the term."""
        return issue_date

    def after_decline(self, first_failure_on: date, declined: int, as_of: date) -> date | None:
        """The day of the next attempt after ``declined`` declines, or None: hand over.

        A day already past (runs were missed) becomes tomorrow, never today again.
        """
        if declined > len(self.retry_days):
            return None
        planned = first_failure_on + timedelta(days=self.retry_days[declined - 1])
        return max(planned, as_of + timedelta(days=1))


def next_move(state: AutoPayState, receivable: Receivable, as_of: date) -> tuple[Move, str]:
    """What today's run does for this invoice, and why (the module docstring's rules)."""
    if state.status is not AutoPayStatus.COLLECTING:
        return Move.WAIT, f"auto-pay {state.status.value}"
    if state.pending is not None:
        return Move.REASK, f"attempt {state.pending.attempt} unanswered: asked again"
    status = receivable.status(as_of)
    if status in SETTLED or status is ReceivableStatus.OVERPAID:
        return Move.END, f"{status.value} by other means"
    if status is ReceivableStatus.DISPUTED:
        return Move.HAND_OVER, "disputed: not charged"
    if state.next_attempt_on > as_of:
        return Move.WAIT, f"next attempt on {state.next_attempt_on}"
    return Move.CHARGE, f"attempt {state.attempts + 1}"
