"""The generic HTTP JSON adapter against the local HTTP ERP: same exactly-once promise."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from invoice_dispatch.adapters.erp_http import HttpErpClient
from invoice_dispatch.erp import (
    ErpPermanentError,
    ErpTransientError,
    build_booking,
    build_payment,
    load_erp_mapping,
    post_invoice_once,
    post_payment_once,
)
from invoice_dispatch.receivables import EntryKind, LedgerEntry, Receivable
from tests.unit.erp.invoice_factory import make_finalized_invoice
from tools.erp.http_erp_server import HttpErpState
from tools.erp.tryton_server import free_port

pytestmark = pytest.mark.integration


def test_twenty_invoices_posted_twice_are_booked_once(
    http_erp: tuple[str, HttpErpState, Path], http_client: HttpErpClient
) -> None:
    _url, state, _dump = http_erp
    mapping = load_erp_mapping()
    invoices = [make_finalized_invoice(sequence) for sequence in range(1, 21)]

    first = [post_invoice_once(invoice, mapping, http_client) for invoice in invoices]
    second = [post_invoice_once(invoice, mapping, http_client) for invoice in invoices]

    assert all(receipt.created for receipt in first)
    assert not any(receipt.created for receipt in second)
    assert [r.erp_id for r in first] == [r.erp_id for r in second]
    assert len(state.bookings) == 20
    stored = state.bookings["INV-2026-000007"]
    assert Decimal(stored["gross_total"]) == invoices[6].gross_total
    assert stored["lines"][0]["revenue_account"] == "4000"
    assert stored["tax_lines"][0]["tax_account"] == "3801"


def test_crash_after_erp_accepted_but_before_we_recorded_still_one_entry(
    http_erp: tuple[str, HttpErpState, Path], http_client: HttpErpClient
) -> None:
    _url, state, _dump = http_erp
    invoice = make_finalized_invoice(201)
    lost_receipt = http_client.create_invoice(build_booking(invoice, load_erp_mapping()))

    retried = post_invoice_once(invoice, load_erp_mapping(), http_client)

    assert (retried.erp_id, retried.created) == (lost_receipt.erp_id, False)
    assert len(state.bookings) == 1


def test_idempotency_key_protects_even_a_create_without_lookup(
    http_erp: tuple[str, HttpErpState, Path], http_client: HttpErpClient
) -> None:
    _url, state, _dump = http_erp
    booking = build_booking(make_finalized_invoice(202), load_erp_mapping())
    first = http_client.create_invoice(booking)
    second = http_client.create_invoice(booking)
    assert (second.erp_id, second.created) == (first.erp_id, False)
    assert len(state.bookings) == 1


def test_503_is_transient_and_the_retry_books_once(
    http_erp: tuple[str, HttpErpState, Path], http_client: HttpErpClient
) -> None:
    _url, state, _dump = http_erp
    invoice = make_finalized_invoice(301)
    state.fail_next(1)
    with pytest.raises(ErpTransientError, match=r"HTTP 503.*under maintenance"):
        post_invoice_once(invoice, load_erp_mapping(), http_client)
    receipt = post_invoice_once(invoice, load_erp_mapping(), http_client)
    assert receipt.created
    assert len(state.bookings) == 1


def test_unreachable_erp_is_transient() -> None:
    client = HttpErpClient(f"http://127.0.0.1:{free_port()}/bookings", timeout_seconds=2)
    with pytest.raises(ErpTransientError, match="unreachable"):
        post_invoice_once(make_finalized_invoice(302), load_erp_mapping(), client)


def test_422_is_permanent_with_the_erps_message(
    http_erp: tuple[str, HttpErpState, Path], http_client: HttpErpClient
) -> None:
    _url, state, _dump = http_erp
    invoice = make_finalized_invoice(401)
    unbalanced = invoice.model_copy(update={"gross_total": invoice.gross_total + Decimal("1")})
    with pytest.raises(ErpPermanentError) as raised:
        post_invoice_once(unbalanced, load_erp_mapping(), http_client)
    assert str(raised.value).startswith(
        "The ERP refused booking INV-2026-000401 (HTTP 422): Booking INV-2026-000401 does not"
        " balance"
    )
    assert state.bookings == {}


def test_dump_shows_what_was_booked_with_the_erps_ids(
    http_erp: tuple[str, HttpErpState, Path], http_client: HttpErpClient
) -> None:
    _url, state, dump_dir = http_erp
    receipt = post_invoice_once(make_finalized_invoice(501), load_erp_mapping(), http_client)
    state.dump(dump_dir)
    record = json.loads((dump_dir / "INV-2026-000501.json").read_text(encoding="utf-8"))
    assert record["erp_id"] == receipt.erp_id
    assert record["booking"]["customer"]["account_id"] == "ACC-0501"


def test_a_payment_posted_twice_is_one_payment_document_in_the_erp(
    http_client: HttpErpClient, http_erp: tuple[str, HttpErpState, Path]
) -> None:
    _url, state, _dump = http_erp
    invoice = make_finalized_invoice(601)
    post_invoice_once(invoice, load_erp_mapping(), http_client)
    receivable = Receivable.opened_for(invoice)
    entry = LedgerEntry(
        entry_key="webhook:evt_601",
        kind=EntryKind.PAYMENT,
        currency=invoice.currency,
        amount=Decimal("50.00"),
        booked_on=date(2026, 11, 20),
    )
    payment = build_payment(receivable, entry, load_erp_mapping())

    state.fail_next(1)  # the first attempt times out on the ERP's side: retried
    with pytest.raises(ErpTransientError):
        post_payment_once(payment, http_client)
    first = post_payment_once(payment, http_client)
    again = http_client.record_payment(payment)  # even without the lookup: the key holds

    assert (first.created, again.created, again.erp_id) == (True, False, first.erp_id)
    assert list(state.payments) == [f"webhook:evt_601#{invoice.number}"]
    assert state.payments[payment.external_id]["amount"] == "50.00"
    assert state.payments[payment.external_id]["offset_account"] == "1200"


def test_a_payment_for_an_invoice_the_erp_never_booked_is_refused(
    http_client: HttpErpClient,
) -> None:
    invoice = make_finalized_invoice(602)
    entry = LedgerEntry(
        entry_key="bank:X:1",
        kind=EntryKind.WRITE_OFF,
        currency=invoice.currency,
        amount=invoice.gross_total,
        booked_on=date(2026, 11, 20),
    )
    payment = build_payment(Receivable.opened_for(invoice), entry, load_erp_mapping())
    with pytest.raises(ErpPermanentError, match=f"There is no booked invoice {invoice.number}"):
        post_payment_once(payment, http_client)
