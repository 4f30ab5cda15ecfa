"""The payment run: PlanPayments and CollectPayments, the collections run's first stage.

``PlanPayments`` pages through the due list (``AUTOPAY#due`` up to today, GSI4, about a
hundred numbers a page; never a scan) and writes the numbers in chunks to S3 for the
``CollectPayments`` Map: the state holds a key and a count at any number of accounts.
It runs before ``PlanReminders``, so an invoice collected today is not reminded and one
handed over today gets its reminder the same day.

``CollectPayments`` (one Map child per chunk) decides again for each invoice on fresh
data (``autopay/schedule.py``), claims the attempt by writing it as *pending* with its
idempotency key before it asks the gateway, and writes the answer in one conditional
transaction with the success tally. So a retried chunk or a second run the same day
never charges twice: an attempt claimed and not answered is re-asked with the same key
(the gateway answers what it did with it), and an answered one is never asked again. A
collected charge goes to the ledger as a payment (``record_once``, keyed by the
idempotency key), which also puts it on the ERP's pending list for ``PostLedgerToErp``.

When the gateway does not answer twice in one chunk (down, or timing out), the chunk
stops asking: the rest wait for the next run instead of each waiting out a timeout.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from invoice_dispatch.autopay import (
    AutoPayState,
    AutoPayStatus,
    ChargeOutcome,
    ChargeRequest,
    ChargeResult,
    PendingCharge,
    idempotency_key,
)
from invoice_dispatch.autopay.schedule import Attempt, Move, next_move
from invoice_dispatch.events import CollectionsRun, CollectionsStartEvent
from invoice_dispatch.invoice import Invoice
from invoice_dispatch.platform import Platform
from invoice_dispatch.receivables import (
    EntryKind,
    LedgerEntry,
    Posting,
    Receivable,
)
from invoice_dispatch.workflow import keys
from invoice_dispatch.workflow.collections_plan import collections_day
from invoice_dispatch.workflow.delivery import chunked
from invoice_dispatch.workflow.payments_in import record_once

#: Unanswered charges in one chunk after which it stops asking (see the module docstring).
_UNANSWERED_LIMIT = 2


class PaymentPlan(BaseModel):
    run: CollectionsRun
    charge_chunks_key: str
    charge_chunks: int


class ChargeLine(BaseModel):
    """What one invoice's auto-pay did today, as the collections team reads it."""

    number: str
    outcome: str
    sentence: str


class ChargeChunkResult(BaseModel):
    lines: list[ChargeLine] = Field(default_factory=list)


# ------------------------------------------------------------------- enrolment
def enroll_invoices(invoices: list[Invoice], platform: Platform) -> int:
    """Put the admitted auto-pay invoices on the payment run's list (each once).

    Only with a gateway configured: without one, auto-pay accounts are reminded like
    every other (an invoice held for a payment run that cannot happen would be chased
    by nobody).
    """
    if not platform.settings.payment_gateway_url:
        return 0
    enrolled = 0
    for invoice in invoices:
        means = invoice.auto_pay
        if means is None or invoice.number is None or invoice.issue_date is None:
            continue
        state = AutoPayState(
            number=invoice.number,
            account_id=invoice.account_id,
            currency=invoice.currency,
            method_ref=means.method_ref,
            mandate_ref=means.mandate_ref,
            next_attempt_on=platform.retry_schedule.first_attempt_on(invoice.issue_date),
        )
        enrolled += platform.autopay.enroll(state)
    return enrolled


# ------------------------------------------------------------------------ plan
def plan_payments(event: CollectionsStartEvent, platform: Platform) -> PaymentPlan:
    run = CollectionsRun(
        run_id=event.execution_name,
        as_of=collections_day(event, platform.legal_entity.timezone),
    )
    key = keys.collections_charge_chunks(str(run.as_of), run.run_id)
    chunks = (
        {"chunk_index": index, "numbers": numbers}
        for index, numbers in enumerate(
            chunked(platform.autopay.due(run.as_of), platform.settings.chunk_size)
        )
    )
    count = platform.documents.put_json_stream(key, chunks)
    return PaymentPlan(run=run, charge_chunks_key=key, charge_chunks=count)


# --------------------------------------------------------------------- collect
def collect_chunk(
    run: CollectionsRun, chunk_index: int, numbers: list[str], platform: Platform
) -> ChargeChunkResult:
    result = ChargeChunkResult()
    unanswered = 0
    for number, (receivable, state) in platform.autopay.fresh(numbers).items():
        move, why = next_move(state, receivable, run.as_of)
        if move is Move.WAIT:
            continue
        if move in (Move.END, Move.HAND_OVER):
            line = _leave(state, move, why, run.as_of, platform)
        elif unanswered >= _UNANSWERED_LIMIT:
            line = ChargeLine(
                number=number,
                outcome="deferred",
                sentence=f"{number}: not asked today, the gateway is not answering",
            )
        else:
            line = _charge(state, receivable, move, run.as_of, platform)
            unanswered += line.outcome in (ChargeOutcome.UNAVAILABLE, ChargeOutcome.UNKNOWN)
        if line is not None:
            result.lines.append(line)
    platform.documents.put_json(
        f"{keys.collections_autopay_prefix(str(run.as_of))}{run.run_id}-{chunk_index:05d}.json",
        result,
    )
    return result


def _leave(
    state: AutoPayState, move: Move, why: str, as_of: date, platform: Platform
) -> ChargeLine | None:
    """Out of auto-pay without a charge: settled otherwise (ended) or disputed (people)."""
    status = AutoPayStatus.ENDED if move is Move.END else AutoPayStatus.HANDED_OVER
    after = state.model_copy(
        update={
            "status": status,
            "history": (
                *state.history,
                Attempt(day=as_of, attempt=0, outcome=status.value, reason=why),
            ),
        }
    )
    counted = {"handed_over": 1} if status is AutoPayStatus.HANDED_OVER and state.attempts else None
    if not platform.autopay.save(state, after, counted):
        return None
    return ChargeLine(number=state.number, outcome=status.value, sentence=f"{state.number}: {why}")


def _charge(
    state: AutoPayState, receivable: Receivable, move: Move, as_of: date, platform: Platform
) -> ChargeLine:
    """Claim the attempt (or take the unanswered one), ask the gateway, record the answer."""
    store = platform.autopay
    if move is Move.CHARGE:
        attempt = state.attempts + 1
        claim = PendingCharge(
            attempt=attempt,
            idempotency_key=idempotency_key(state.number, attempt),
            amount=receivable.open_amount,
            asked_on=as_of,
        )
        claimed = state.model_copy(update={"pending": claim})
        if not store.save(state, claimed):
            return ChargeLine(
                number=state.number, outcome="skipped", sentence=f"{state.number}: claimed already"
            )
        state = claimed
    pending = state.pending
    assert pending is not None  # a REASK has one, a CHARGE just wrote it
    answer = platform.payment_gateway.charge(
        ChargeRequest(
            idempotency_key=pending.idempotency_key,
            invoice_number=state.number,
            account_id=state.account_id,
            amount=pending.amount,
            currency=state.currency,
            method_ref=state.method_ref,
            mandate_ref=state.mandate_ref,
        )
    )
    if answer.outcome is ChargeOutcome.SUCCEEDED:
        _record_payment(state, pending, answer, receivable, as_of, platform)
    after, tally, sentence = _answered(state, pending, answer, as_of, platform)
    store.save(state, after, tally)
    return ChargeLine(number=state.number, outcome=answer.outcome.value, sentence=sentence)


def _answered(
    state: AutoPayState,
    pending: PendingCharge,
    answer: ChargeResult,
    as_of: date,
    platform: Platform,
) -> tuple[AutoPayState, dict[str, object] | None, str]:
    """The state after the gateway's answer, the tally it adds and the day's sentence."""
    amount = f"{pending.amount} {state.currency}"
    history = (
        *state.history,
        Attempt(
            day=as_of, attempt=pending.attempt, outcome=answer.outcome.value, reason=answer.reason
        ),
    )
    if not answer.outcome.is_answer:
        sentence = f"{state.number}: attempt {pending.attempt} for {amount} {answer.outcome.value}"
        return state.model_copy(update={"history": history}), None, f"{sentence}: {answer.reason}"
    first = state.attempts == 0
    update: dict[str, object] = {
        "attempts": pending.attempt,
        "pending": None,
        "history": history,
        "first_attempt_on": state.first_attempt_on or as_of,
    }
    tally: dict[str, object] = {"attempted": 1} if first else {}
    if answer.outcome is ChargeOutcome.SUCCEEDED:
        update["status"] = AutoPayStatus.COLLECTED
        tally.update({"collected": 1, "collected_amount": pending.amount})
        sentence = f"{state.number}: collected {amount} on attempt {pending.attempt}"
        return state.model_copy(update=update), tally, f"{sentence} ({answer.charge_id})"
    first_failure = state.first_failure_on or as_of
    update["first_failure_on"] = first_failure
    retry_on = platform.retry_schedule.after_decline(first_failure, pending.attempt, as_of)
    sentence = f"{state.number}: attempt {pending.attempt} for {amount} declined: {answer.reason}"
    if retry_on is None:
        update["status"] = AutoPayStatus.HANDED_OVER
        tally["handed_over"] = 1
        sentence += "; handed to reminders"
    else:
        update["next_attempt_on"] = retry_on
        sentence += f"; retried on {retry_on}"
    return state.model_copy(update=update), tally or None, sentence


def _record_payment(
    state: AutoPayState,
    pending: PendingCharge,
    answer: ChargeResult,
    receivable: Receivable,
    as_of: date,
    platform: Platform,
) -> None:
    """The collected money on the ledger, once per idempotency key (a retry finds it)."""
    key = f"autopay:{pending.idempotency_key}"
    means = state.method_ref or f"mandate {state.mandate_ref}"
    entry = LedgerEntry(
        entry_key=key,
        kind=EntryKind.PAYMENT,
        currency=state.currency,
        amount=pending.amount,
        booked_on=as_of,
        note=f"Collected by auto-pay from {means} ({answer.charge_id})",
    )
    posting = Posting.applied_to_one(
        key,
        "auto-pay",
        entry,
        state.number,
        f"{pending.amount} {state.currency} collected by auto-pay "
        f"({answer.charge_id}) applied to {state.number}.",
        payer=receivable.customer_name,
        reference=answer.charge_id,
    )
    record_once(key, [state.number], lambda _receivables: posting, platform)
