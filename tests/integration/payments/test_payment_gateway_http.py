"""The HTTP gateway adapter against the local gateway server: every outcome, and one charge
per idempotency key however often it is asked."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from decimal import Decimal

import pytest

from invoice_dispatch.adapters.payment_gateway_http import HttpPaymentGateway
from invoice_dispatch.autopay import (
    ChargeOutcome,
    ChargeRequest,
    CheckoutRequest,
    CheckoutUnavailable,
    checkout_key,
    idempotency_key,
)
from invoice_dispatch.errors import PermanentError
from tools.payment_gateway_server import PaymentGatewayState, running_payment_gateway

API_KEY = "sk_test_integration"


@pytest.fixture
def served() -> Iterator[tuple[str, PaymentGatewayState]]:
    with running_payment_gateway(API_KEY, slow_seconds=0.6) as (url, state):
        yield url, state


@pytest.fixture
def gateway(
    served: tuple[str, PaymentGatewayState],
) -> tuple[HttpPaymentGateway, PaymentGatewayState]:
    url, state = served
    return HttpPaymentGateway(url, API_KEY, timeout_seconds=0.3), state


def _request(attempt: int = 1, amount: str = "119.00", **means: str) -> ChargeRequest:
    return ChargeRequest(
        idempotency_key=idempotency_key("INV-2026-000001", attempt),
        invoice_number="INV-2026-000001",
        account_id="ACC-1022",
        amount=Decimal(amount),
        currency="EUR",
        **(means or {"method_ref": "pm_card_visa"}),
    )


def test_a_succeeded_charge_asked_three_times_with_its_key_takes_the_money_once(
    gateway: tuple[HttpPaymentGateway, PaymentGatewayState],
) -> None:
    adapter, state = gateway
    answers = [adapter.charge(_request()) for _ in range(3)]
    assert {answer.outcome for answer in answers} == {ChargeOutcome.SUCCEEDED}
    assert len({answer.charge_id for answer in answers}) == 1
    assert [(c["amount"], c["currency"]) for c in state.charges] == [(11900, "eur")]


def test_a_decline_carries_the_banks_reason(
    gateway: tuple[HttpPaymentGateway, PaymentGatewayState],
) -> None:
    adapter, state = gateway
    state.script("pm_card_expired", ["declined:expired_card"])
    answer = adapter.charge(_request(method_ref="pm_card_expired"))
    assert answer.outcome is ChargeOutcome.DECLINED
    assert answer.reason == "Your card has expired. (expired_card)"
    assert state.charges == []


def test_a_gateway_that_is_down_decides_nothing_and_the_same_key_later_is_decided_once(
    gateway: tuple[HttpPaymentGateway, PaymentGatewayState],
) -> None:
    adapter, state = gateway
    state.script("NW-SEPA-1024-2026", ["down", "succeeded"])
    first = adapter.charge(_request(mandate_ref="NW-SEPA-1024-2026"))
    assert (first.outcome, first.reason) == (
        ChargeOutcome.UNAVAILABLE,
        "the gateway answered HTTP 503",
    )
    again = adapter.charge(_request(mandate_ref="NW-SEPA-1024-2026"))
    assert again.outcome is ChargeOutcome.SUCCEEDED
    assert len(state.charges) == 1


def test_a_timed_out_charge_is_resolved_by_asking_again_with_its_key_not_by_charging_again(
    gateway: tuple[HttpPaymentGateway, PaymentGatewayState],
) -> None:
    adapter, state = gateway
    state.script("pm_card_amex_slow", ["timeout", "succeeded"])
    lost = adapter.charge(_request(method_ref="pm_card_amex_slow"))
    assert lost.outcome is ChargeOutcome.UNKNOWN
    assert len(state.charges) == 1  # the gateway charged; its answer came too late
    resolved = adapter.charge(_request(method_ref="pm_card_amex_slow"))
    assert resolved.outcome is ChargeOutcome.SUCCEEDED
    assert resolved.charge_id == state.charges[0]["id"]
    assert len(state.charges) == 1


def test_a_new_attempt_is_a_new_key_and_the_same_key_for_another_amount_is_refused(
    gateway: tuple[HttpPaymentGateway, PaymentGatewayState],
) -> None:
    adapter, state = gateway
    state.script("pm_card_visa_low_funds", ["declined:insufficient_funds", "succeeded"])
    assert adapter.charge(_request(method_ref="pm_card_visa_low_funds")).outcome is (
        ChargeOutcome.DECLINED
    )
    retry = adapter.charge(_request(attempt=2, method_ref="pm_card_visa_low_funds"))
    assert retry.outcome is ChargeOutcome.SUCCEEDED
    with pytest.raises(PermanentError, match="same parameters"):
        adapter.charge(_request(attempt=2, amount="50.00", method_ref="pm_card_visa_low_funds"))
    assert len(state.charges) == 1


def test_a_refused_connection_is_unavailable_and_a_wrong_key_is_a_permanent_error(
    served: tuple[str, PaymentGatewayState],
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    refused = HttpPaymentGateway(f"http://127.0.0.1:{closed_port}", API_KEY, 0.3)
    assert refused.charge(_request()).outcome is ChargeOutcome.UNAVAILABLE
    url, state = served
    wrong_key = HttpPaymentGateway(url, "sk_wrong", 0.3)
    with pytest.raises(PermanentError, match=r"HTTP 401.*Invalid API key"):
        wrong_key.charge(_request())
    assert state.charges == []


def _checkout(amount: str = "119.00") -> CheckoutRequest:
    return CheckoutRequest(
        idempotency_key=checkout_key("INV-2026-000001", Decimal(amount)),
        invoice_number="INV-2026-000001",
        account_id="ACC-1001",
        amount=Decimal(amount),
        currency="EUR",
        reference="RF18INV2026000001",
        success_url="https://portal.example.com/portal/ACC-1001?exp=1&sig=2",
        cancel_url="https://portal.example.com/portal/ACC-1001?exp=1&sig=2",
    )


def test_a_checkout_asked_again_with_its_key_is_the_same_page_and_a_new_amount_a_new_one(
    gateway: tuple[HttpPaymentGateway, PaymentGatewayState],
) -> None:
    adapter, state = gateway
    first, again = adapter.create_checkout(_checkout()), adapter.create_checkout(_checkout())
    after_a_partial_payment = adapter.create_checkout(_checkout("19.00"))

    assert first == again and first.url.startswith(f"{state.base_url}/checkout/cs_")
    assert after_a_partial_payment.session_id != first.session_id
    assert [(s["amount"], s["metadata"]["reference"]) for s in state.checkouts.values()] == [
        (11900, "RF18INV2026000001"),
        (1900, "RF18INV2026000001"),
    ]
    assert state.charges == []  # a checkout takes no money until the customer pays


def test_a_checkout_the_gateway_cannot_make_is_unavailable_with_the_reason(
    served: tuple[str, PaymentGatewayState],
) -> None:
    url, state = served
    state.checkouts_down = True
    with pytest.raises(CheckoutUnavailable, match="HTTP 503"):
        HttpPaymentGateway(url, API_KEY, 0.3).create_checkout(_checkout())
    with pytest.raises(CheckoutUnavailable, match="HTTP 401 Invalid API key"):
        HttpPaymentGateway(url, "sk_wrong", 0.3).create_checkout(_checkout())
    assert state.checkouts == {}
