"""Credit notes into a real Tryton: out credit notes that settle the invoice they credit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from invoice_dispatch.adapters.erp_tryton import TrytonErpClient
from invoice_dispatch.corrections import CreditedSoFar, CreditNoteRequest, plan_credit_note
from invoice_dispatch.erp import load_erp_mapping, post_credit_note_once, post_invoice_once
from invoice_dispatch.invoice import Invoice
from invoice_dispatch.legal_entity import load_legal_entity
from invoice_dispatch.workflow.corrections import credit_note_copy
from tests.unit.erp.invoice_factory import make_finalized_invoice
from tools.erp.tryton_server import TrytonEndpoint, TrytonProcess, running_tryton

pytestmark = pytest.mark.integration

#: Invoice sequences of this module, apart from the posting (1-999) and payment tests' (7001-).
FIRST_SEQUENCE = 8001
#: Tryton refuses a document dated in the future or due in the past: issued today.
ISSUED = datetime.now(UTC).replace(hour=10)  # the same date in Berlin as in UTC


@pytest.fixture(scope="module")
def tryton(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[TrytonEndpoint, TrytonProcess]]:
    """A Tryton of this module's own. Its documents are dated today, and a strict Tryton
    sequence must follow its documents' dates: in the session's Tryton they would stop
    the other modules' invoices, dated on their periods' first days, from being numbered."""
    with running_tryton(Path(tmp_path_factory.mktemp("tryton-credit-notes"))) as started:
        yield started


def _tryton(client: TrytonErpClient, reference: str) -> dict:
    (found,) = client.rpc(
        "model.account.invoice.search_read",
        [("reference", "=", reference), ("type", "=", "out")],
        0,
        None,
        None,
        ["state", "amount_to_pay", "total_amount"],
    )
    return found


def _credit(
    invoice: Invoice, so_far: CreditedSoFar, sequence: int, **request: object
) -> tuple[Invoice, CreditedSoFar]:
    plan = plan_credit_note(
        invoice,
        CreditNoteRequest(invoice=str(invoice.number), reason="Corrected", **request),
        so_far,
        run_id="tryton-test",
    )
    note = credit_note_copy(plan.credit_note, load_legal_entity(), sequence, ISSUED)
    return note, so_far.with_credit_note(plan, str(note.number))


def test_invoice_and_its_credit_notes_sum_to_zero_and_the_invoice_is_settled(
    tryton_client: TrytonErpClient,
) -> None:
    # Given an invoice of several lines booked in Tryton
    mapping = load_erp_mapping()
    invoice = make_finalized_invoice(FIRST_SEQUENCE, period="2026-10")
    assert len(invoice.lines) >= 2
    post_invoice_once(invoice, mapping, tryton_client)
    nothing = CreditedSoFar.nothing_yet(invoice)

    # When its first line is credited, then the rest (the rest posted twice: a retry)
    partial, so_far = _credit(invoice, nothing, FIRST_SEQUENCE, lines=[invoice.lines[0].line_id])
    first = post_credit_note_once(partial, mapping, tryton_client)
    partly = _tryton(tryton_client, str(invoice.number))
    rest, _ = _credit(invoice, so_far, FIRST_SEQUENCE + 1, lines="all")
    second = post_credit_note_once(rest, mapping, tryton_client)
    again = post_credit_note_once(rest, mapping, tryton_client)

    # Then Tryton holds invoice + credit notes = 0, and the invoice is paid by them
    booked = [_tryton(tryton_client, str(doc.number)) for doc in (invoice, partial, rest)]
    assert sum(doc["total_amount"] for doc in booked) == Decimal(0)
    assert [doc["total_amount"] for doc in booked[1:]] == [partial.gross_total, rest.gross_total]
    assert partly["state"] == "posted"
    assert partly["amount_to_pay"] == invoice.gross_total + partial.gross_total
    assert booked[0]["state"] == "paid"
    assert (first.created, second.created, again.created) == (True, True, False)
    assert again.erp_id == second.erp_id
