"""Payments and write-offs into a real Tryton: the invoice is reconciled with its payment."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from invoice_dispatch.adapters.erp_tryton import TrytonErpClient
from invoice_dispatch.erp import (
    build_payment,
    load_erp_mapping,
    post_invoice_once,
    post_payment_once,
)
from invoice_dispatch.receivables import EntryKind, LedgerEntry, Receivable
from tests.unit.erp.invoice_factory import make_finalized_invoice

pytestmark = pytest.mark.integration

#: Invoice sequences of this module, apart from the posting tests' (1-999).
FIRST_SEQUENCE = 7001
PAID_ON = date(2026, 11, 20)


def _booked_receivable(client: TrytonErpClient, sequence: int) -> Receivable:
    invoice = make_finalized_invoice(sequence, period="2026-10")
    post_invoice_once(invoice, load_erp_mapping(), client)
    return Receivable.opened_for(invoice)


def _entry(receivable: Receivable, kind: EntryKind, amount: Decimal, key: str) -> LedgerEntry:
    return LedgerEntry(
        entry_key=key,
        kind=kind,
        currency=receivable.currency,
        amount=amount,
        booked_on=PAID_ON,
        note=f"{kind.value} on {receivable.number}",
    )


def _invoice_state(client: TrytonErpClient, number: str) -> dict:
    (invoice,) = client.rpc(
        "model.account.invoice.search_read",
        [("reference", "=", number)],
        0,
        None,
        None,
        ["state", "amount_to_pay", "payment_lines", "lines_to_pay"],
    )
    return invoice


def test_a_part_payment_then_the_rest_reconciles_the_invoice_once(
    tryton_client: TrytonErpClient,
) -> None:
    # Given an invoice booked in Tryton and two payments of it on our ledger
    mapping = load_erp_mapping()
    receivable = _booked_receivable(tryton_client, FIRST_SEQUENCE)
    part = _entry(receivable, EntryKind.PAYMENT, Decimal("100.00"), "bank:DE89:P1")
    rest = _entry(
        receivable, EntryKind.PAYMENT, receivable.gross - Decimal("100.00"), "bank:DE89:P2"
    )

    # When the first is posted (twice: a retry after a timeout) the invoice is partly paid
    first = post_payment_once(build_payment(receivable, part, mapping), tryton_client)
    again = post_payment_once(build_payment(receivable, part, mapping), tryton_client)
    partly = _invoice_state(tryton_client, receivable.number)

    # And when the rest is posted, the invoice is paid and reconciled with both payments
    post_payment_once(build_payment(receivable, rest, mapping), tryton_client)
    paid = _invoice_state(tryton_client, receivable.number)

    assert (first.created, again.created, again.erp_id) == (True, False, first.erp_id)
    assert partly["state"] == "posted"
    assert partly["amount_to_pay"] == receivable.gross - Decimal("100.00")
    assert len(partly["payment_lines"]) == 1
    assert paid["state"] == "paid"
    assert paid["amount_to_pay"] == Decimal("0.00")
    reconciled = tryton_client.rpc(
        "model.account.move.line.read",
        paid["lines_to_pay"] + paid["payment_lines"],
        ["reconciliation"],
    )
    assert len(reconciled) == 3  # the invoice's receivable line and both payments
    assert len({line["reconciliation"] for line in reconciled}) == 1
    assert reconciled[0]["reconciliation"] is not None
    moves = tryton_client.rpc(
        "model.account.move.search_read",
        [
            (
                "description",
                "in",
                ["bank:DE89:P1#" + receivable.number, "bank:DE89:P2#" + receivable.number],
            )
        ],
        0,
        None,
        None,
        ["state", "journal.type"],
    )
    assert [(move["state"], move["journal."]["type"]) for move in moves] == [("posted", "cash")] * 2


def test_a_write_off_settles_the_invoice_on_the_bad_debt_account(
    tryton_client: TrytonErpClient,
) -> None:
    mapping = load_erp_mapping()
    receivable = _booked_receivable(tryton_client, FIRST_SEQUENCE + 1)
    write_off = _entry(receivable, EntryKind.WRITE_OFF, receivable.gross, "writeoff:W1")

    receipt = post_payment_once(build_payment(receivable, write_off, mapping), tryton_client)

    assert _invoice_state(tryton_client, receivable.number)["state"] == "paid"
    (move,) = tryton_client.rpc(
        "model.account.move.search_read",
        [("number", "=", receipt.erp_id)],
        0,
        None,
        None,
        ["lines"],
    )
    lines = tryton_client.rpc(
        "model.account.move.line.read", move["lines"], ["account.code", "debit"]
    )
    assert {line["account."]["code"]: line["debit"] for line in lines}["6930"] == receivable.gross
