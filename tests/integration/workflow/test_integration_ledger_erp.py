"""Payments on the ledger reach the ERP once each; a refused one stays pending, with why.
Real HTTP ERP on localhost, AWS in moto."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
import pytest_socket

from invoice_dispatch.adapters.erp_http import HttpErpClient
from invoice_dispatch.erp import build_booking, load_erp_mapping
from invoice_dispatch.platform import Platform
from invoice_dispatch.receivables import Receivable
from invoice_dispatch.workflow.ledger_erp import post_ledger_to_erp
from invoice_dispatch.workflow.payments_in import receive_payment
from tests.unit.erp.invoice_factory import make_finalized_invoice
from tests.unit.payments.payment_factories import bank_payment
from tools.erp.http_erp_server import HttpErpState, running_http_erp

pytestmark = pytest.mark.integration


@pytest.fixture
def erp(platform: Platform) -> Iterator[tuple[HttpErpState, HttpErpClient]]:
    pytest_socket.socket_allow_hosts(["127.0.0.1", "localhost"])
    with running_http_erp() as (url, state):
        client = HttpErpClient(url, timeout_seconds=2)
        platform.erp_payment_client = client
        yield state, client


def test_each_payment_is_booked_once_and_leaves_the_pending_list(
    platform: Platform, erp: tuple[HttpErpState, HttpErpClient]
) -> None:
    state, client = erp
    booked, never_booked = make_finalized_invoice(801), make_finalized_invoice(802)
    client.create_invoice(build_booking(booked, load_erp_mapping()))
    platform.ledger.open_receivables(
        [Receivable.opened_for(booked), Receivable.opened_for(never_booked)]
    )
    receive_payment(bank_payment("100.00", f"{booked.number}", key="bank:DE89:E1"), platform)
    receive_payment(bank_payment("20.00", f"{never_booked.number}", key="bank:DE89:E2"), platform)

    first = post_ledger_to_erp(platform)
    second = post_ledger_to_erp(platform)

    assert first.booked == 1
    assert first.refused == {
        f"bank:DE89:E2#{never_booked.number}": "The ERP refused booking "
        f"bank:DE89:E2#{never_booked.number} (HTTP 422): There is no booked invoice "
        f"{never_booked.number} to pay"
    }
    assert (second.booked, second.already_booked, list(second.refused)) == (
        0,
        0,
        [f"bank:DE89:E2#{never_booked.number}"],
    )
    assert [number for number, _, _ in platform.ledger.entries_awaiting_erp()] == [
        never_booked.number
    ]
    (document,) = state.payments.values()
    assert (document["invoice_number"], Decimal(document["amount"])) == (
        booked.number,
        Decimal("100.00"),
    )
