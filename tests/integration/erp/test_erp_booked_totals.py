"""The audit's read of the ERP: what each adapter says it booked under an invoice number."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from invoice_dispatch.adapters.erp_http import HttpErpClient
from invoice_dispatch.adapters.erp_tryton import TrytonErpClient
from invoice_dispatch.erp import ErpBookedTotals, load_erp_mapping, post_invoice_once
from invoice_dispatch.invoice import Invoice
from tests.unit.erp.invoice_factory import make_finalized_invoice
from tools.erp.http_erp_server import HttpErpState, running_http_erp

pytestmark = pytest.mark.integration


def _totals(invoice: Invoice) -> ErpBookedTotals:
    return ErpBookedTotals(
        external_id=str(invoice.number),
        currency=invoice.currency,
        net_total=invoice.net_total,
        tax_total=invoice.tax_total,
        gross_total=invoice.gross_total,
    )


def test_the_http_erp_answers_the_totals_it_booked(
    http_erp: tuple[str, HttpErpState, Path], http_client: HttpErpClient
) -> None:
    invoice = make_finalized_invoice(901)
    post_invoice_once(invoice, load_erp_mapping(), http_client)

    assert http_client.booked_totals(str(invoice.number)) == _totals(invoice)
    assert http_client.booked_totals("INV-2026-999999") is None


def test_the_http_erp_keeps_its_bookings_between_two_runs(tmp_path: Path) -> None:
    invoice = make_finalized_invoice(902)
    kept = tmp_path / "http-erp.json"
    with running_http_erp(kept_in=kept) as (url, _state):
        post_invoice_once(invoice, load_erp_mapping(), HttpErpClient(url))
    with running_http_erp(kept_in=kept) as (url, _state):
        assert HttpErpClient(url).booked_totals(str(invoice.number)) == _totals(invoice)


def test_tryton_answers_its_own_totals_of_the_posted_invoice(
    tryton_client: TrytonErpClient,
) -> None:
    invoice = make_finalized_invoice(903)
    post_invoice_once(invoice, load_erp_mapping(), tryton_client)

    booked = tryton_client.booked_totals(str(invoice.number))

    assert booked == _totals(invoice)
    assert booked is not None and booked.tax_total > Decimal(0)
    assert tryton_client.booked_totals("INV-2026-999999") is None
