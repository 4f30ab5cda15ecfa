"""CollectPayments against moto with an in-memory gateway: a Lambda that dies mid-charge,
a second run the same day, a payment by transfer first, a gateway that stops answering."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from invoice_dispatch.autopay import (
    AutoPayState,
    AutoPayStatus,
    ChargeOutcome,
    ChargeRequest,
    ChargeResult,
)
from invoice_dispatch.events import CollectionsRun
from invoice_dispatch.platform import Platform
from invoice_dispatch.receivables import EntryKind
from invoice_dispatch.workflow.autopay import collect_chunk
from invoice_dispatch.workflow.payments_in import receive_payment
from tests.unit.payments.payment_factories import bank_payment
from tests.unit.receivables.receivable_factories import ISSUED, receivable


class RecordingGateway:
    """Decides each idempotency key once (a real gateway's promise) and records each ask.

    ``outcomes`` are used one per new key; ``die_on_first_ask`` stands for a Lambda killed
    after it claimed the attempt and before the gateway answered.
    """

    def __init__(self, outcomes: list[ChargeOutcome], die_on_first_ask: bool = False) -> None:
        self.outcomes = outcomes
        self.die_on_first_ask = die_on_first_ask
        self.asked: list[str] = []
        self.decided: dict[str, ChargeResult] = {}

    def charge(self, request: ChargeRequest) -> ChargeResult:
        self.asked.append(request.idempotency_key)
        if self.die_on_first_ask:
            self.die_on_first_ask = False
            raise TimeoutError("Sandbox.Timedout")
        if request.idempotency_key not in self.decided:
            outcome = self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]
            if not outcome.is_answer:
                return ChargeResult(outcome=outcome, reason="no answer")
            self.decided[request.idempotency_key] = ChargeResult(
                outcome=outcome, charge_id=f"pi_{len(self.decided) + 1}", reason=outcome.value
            )
        return self.decided[request.idempotency_key]

    @property
    def charges(self) -> int:
        return sum(r.outcome is ChargeOutcome.SUCCEEDED for r in self.decided.values())


def _enrolled(platform: Platform, *numbers: str) -> None:
    platform.ledger.open_receivables([receivable(number) for number in numbers])
    for number in numbers:
        assert platform.autopay.enroll(
            AutoPayState(
                number=number,
                account_id="ACC-1001",
                currency="EUR",
                method_ref="pm_card_visa",
                next_attempt_on=ISSUED,
            )
        )


def _run(platform: Platform, numbers: list[str], day: date = ISSUED, run_id: str = "r1") -> None:
    collect_chunk(CollectionsRun(run_id=run_id, as_of=day), 0, numbers, platform)


def _payments(platform: Platform, number: str) -> list[Decimal]:
    return [e.amount for e in platform.ledger.entries(number) if e.kind is EntryKind.PAYMENT]


def test_a_lambda_killed_mid_charge_is_retried_with_the_same_key_and_charges_once(
    platform: Platform,
) -> None:
    _enrolled(platform, "INV-2026-000001")
    gateway = RecordingGateway([ChargeOutcome.SUCCEEDED], die_on_first_ask=True)
    platform.payment_gateway = gateway  # type: ignore[misc]
    with pytest.raises(TimeoutError):
        _run(platform, ["INV-2026-000001"])
    _run(platform, ["INV-2026-000001"])  # the state machine's retry of the chunk
    _run(platform, ["INV-2026-000001"], run_id="r2")  # and a second fire the same day
    assert gateway.asked == ["autopay-INV-2026-000001-1"] * 2
    assert gateway.charges == 1
    assert _payments(platform, "INV-2026-000001") == [Decimal("119.00")]


def test_an_invoice_paid_by_transfer_first_is_never_charged(platform: Platform) -> None:
    _enrolled(platform, "INV-2026-000001")
    receive_payment(bank_payment(amount="119.00", reference="INV-2026-000001"), platform)
    gateway = RecordingGateway([ChargeOutcome.SUCCEEDED])
    platform.payment_gateway = gateway  # type: ignore[misc]
    _run(platform, ["INV-2026-000001"])
    assert gateway.asked == []
    _receivable, state = platform.autopay.fresh(["INV-2026-000001"])["INV-2026-000001"]
    assert state.status is AutoPayStatus.ENDED


def test_a_gateway_that_stops_answering_is_not_asked_again_in_the_same_chunk(
    platform: Platform,
) -> None:
    numbers = ["INV-2026-000001", "INV-2026-000002", "INV-2026-000003"]
    _enrolled(platform, *numbers)
    gateway = RecordingGateway([ChargeOutcome.UNAVAILABLE])
    platform.payment_gateway = gateway  # type: ignore[misc]
    _run(platform, numbers)
    assert len(gateway.asked) == 2
    states = platform.autopay.fresh(numbers)
    pending = [n for n, (_r, state) in states.items() if state.pending is not None]
    assert len(pending) == 2 and all(state.attempts == 0 for _r, state in states.values())


def test_a_decline_is_retried_on_schedule_and_counted_once_in_the_tally(
    platform: Platform,
) -> None:
    _enrolled(platform, "INV-2026-000001")
    gateway = RecordingGateway([ChargeOutcome.DECLINED, ChargeOutcome.SUCCEEDED])
    platform.payment_gateway = gateway  # type: ignore[misc]
    for offset in (0, 0, 1, 2, 3, 3):  # days 0 and 3 fire twice
        _run(platform, ["INV-2026-000001"], ISSUED + timedelta(days=offset), f"r{offset}")
    assert gateway.asked == ["autopay-INV-2026-000001-1", "autopay-INV-2026-000001-2"]
    tally = platform.autopay.tallies_between(ISSUED, ISSUED + timedelta(days=3))["EUR"]
    assert (tally.attempted, tally.collected, tally.collected_amount) == (1, 1, Decimal("119.00"))
