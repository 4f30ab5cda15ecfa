"""Booking into a real Tryton: exactly once, on the right accounts, periods and taxes."""

from __future__ import annotations

import json
from decimal import Decimal
from importlib import resources

import pytest

from invoice_dispatch.adapters.erp_tryton import TrytonErpClient
from invoice_dispatch.erp import (
    ErpPermanentError,
    ErpTransientError,
    MissingMapping,
    build_booking,
    load_erp_mapping,
    parse_erp_mapping,
    post_invoice_once,
)
from invoice_dispatch.invoice import Invoice, TaxCategory
from tests.unit.erp.invoice_factory import make_finalized_invoice
from tools.erp.tryton_server import TrytonEndpoint, TrytonProcess, dump_tryton_bookings

pytestmark = pytest.mark.integration

#: (currency, tax category, rate, period): one monthly run of mixed customers. All tests
#: book period 2026-10 (issued 2026-11-01): Tryton numbers invoices in date order per
#: sequence and refuses an invoice dated before one already numbered, and warns about
#: invoice dates in the future, so a shared database needs one issue date in the past.
MIX = (
    ("EUR", TaxCategory.STANDARD, "19", "2026-10"),
    ("EUR", TaxCategory.STANDARD, "20", "2026-10"),
    ("EUR", TaxCategory.STANDARD, "21", "2026-10"),
    ("EUR", TaxCategory.STANDARD, "23", "2026-10"),
    ("EUR", TaxCategory.REVERSE_CHARGE, "0", "2026-10"),
    ("USD", TaxCategory.STANDARD, "7.25", "2026-10"),
    ("USD", TaxCategory.OUTSIDE_SCOPE, "0", "2026-10"),
    ("JPY", TaxCategory.STANDARD, "10", "2026-10"),
    ("EUR", TaxCategory.EXEMPT, "0", "2026-10"),
    ("JPY", TaxCategory.STANDARD, "10", "2026-10"),
)


def _month_of_invoices(first_sequence: int, count: int) -> list[Invoice]:
    invoices = []
    for offset in range(count):
        currency, category, rate, period = MIX[offset % len(MIX)]
        invoices.append(
            make_finalized_invoice(
                first_sequence + offset,
                currency=currency,
                tax_category=category,
                tax_rate=rate,
                period=period,
            )
        )
    return invoices


def _booked(client: TrytonErpClient, number: str) -> list[dict]:
    return client.rpc(
        "model.account.invoice.search_read",
        [("reference", "=", number)],
        0,
        None,
        None,
        [
            "state",
            "number",
            "party.code",
            "currency.code",
            "untaxed_amount",
            "tax_amount",
            "total_amount",
            "invoice_date",
            "move.period.name",
            "lines",
            "taxes",
        ],
    )


def _mapping_without(product_code: str):
    bundled = resources.files("invoice_dispatch.erp.data").joinpath("erp_mapping.json")
    document = json.loads(bundled.read_text(encoding="utf-8"))
    del document["products"][product_code]
    return parse_erp_mapping(json.dumps(document))


def test_twenty_invoices_posted_twice_are_booked_once_with_right_details(
    tryton_client: TrytonErpClient,
) -> None:
    # Given a month of 20 finalized invoices in three currencies and seven tax treatments
    mapping = load_erp_mapping()
    invoices = _month_of_invoices(1, 20)

    # When the run posts them, and then the whole run is replayed
    first = [post_invoice_once(invoice, mapping, tryton_client) for invoice in invoices]
    second = [post_invoice_once(invoice, mapping, tryton_client) for invoice in invoices]

    # Then each invoice exists once, posted, with our customer, amounts, period and accounts
    assert all(receipt.created for receipt in first)
    assert not any(receipt.created for receipt in second)
    assert [r.erp_id for r in first] == [r.erp_id for r in second]
    for invoice, receipt in zip(invoices, first, strict=True):
        (booked,) = _booked(tryton_client, invoice.number or "")
        assert booked["state"] == "posted"
        assert booked["number"] == receipt.erp_id
        assert booked["party."]["code"] == invoice.account_id
        assert booked["currency."]["code"] == invoice.currency
        assert (booked["untaxed_amount"], booked["tax_amount"], booked["total_amount"]) == (
            invoice.net_total,
            invoice.tax_total,
            invoice.gross_total,
        )
        assert booked["invoice_date"] == invoice.issue_date
        assert booked["move."]["period."]["name"] == invoice.issue_date.strftime("%Y-%m")
        lines = tryton_client.rpc(
            "model.account.invoice.line.read",
            booked["lines"],
            ["account.code", "amount", "analytic_accounts"],
        )
        booking = build_booking(invoice, mapping)
        assert [(line["account."]["code"], line["amount"]) for line in lines] == [
            (line.revenue_account, line.net_amount) for line in booking.lines
        ]
        entries = tryton_client.rpc(
            "model.analytic.account.entry.read",
            [entry for line in lines for entry in line["analytic_accounts"]],
            ["account.code"],
        )
        assert [entry["account."]["code"] for entry in entries] == [
            line.cost_center for line in booking.lines
        ]
        taxes = tryton_client.rpc(
            "model.account.invoice.tax.read", booked["taxes"], ["account.code", "amount"]
        )
        assert {tax["account."]["code"] for tax in taxes} == {
            tax_line.tax_account for tax_line in booking.tax_lines
        }
        assert sum(tax["amount"] for tax in taxes) == invoice.tax_total


def test_customer_is_one_party_across_invoices(tryton_client: TrytonErpClient) -> None:
    mapping = load_erp_mapping()
    for sequence in (101, 102):
        invoice = make_finalized_invoice(sequence, account_id="ACC-LOYAL")
        post_invoice_once(invoice, mapping, tryton_client)
    parties = tryton_client.rpc(
        "model.party.party.search", [("code", "=", "ACC-LOYAL")], 0, None, None
    )
    assert len(parties) == 1


def test_crash_after_erp_accepted_but_before_we_recorded_still_one_entry(
    tryton_client: TrytonErpClient,
) -> None:
    # Given the ERP accepted the invoice, but our Lambda died before storing the receipt
    mapping = load_erp_mapping()
    invoice = make_finalized_invoice(201)
    lost_receipt = tryton_client.create_invoice(build_booking(invoice, mapping))

    # When the state machine retries the post
    retried = post_invoice_once(invoice, mapping, tryton_client)

    # Then the retry finds the first entry instead of booking a second one
    assert (retried.erp_id, retried.created) == (lost_receipt.erp_id, False)
    assert len(_booked(tryton_client, "INV-2026-000201")) == 1


def test_tryton_down_is_transient_and_replay_books_each_invoice_once(
    tryton: tuple[TrytonEndpoint, TrytonProcess], tryton_client: TrytonErpClient
) -> None:
    _endpoint, server = tryton
    mapping = load_erp_mapping()
    invoices = _month_of_invoices(301, 3)
    post_invoice_once(invoices[0], mapping, tryton_client)

    # Given Tryton stops mid-run
    server.stop()
    error_queue = []
    try:
        for invoice in invoices:
            with pytest.raises(ErpTransientError, match="unreachable"):
                post_invoice_once(invoice, mapping, tryton_client)
            error_queue.append(invoice)
    finally:
        # When it comes back and the error queue is replayed (twice, for good measure)
        server.start()
    replayed = [post_invoice_once(invoice, mapping, tryton_client) for invoice in error_queue]
    again = [post_invoice_once(invoice, mapping, tryton_client) for invoice in error_queue]

    # Then every invoice is booked exactly once, the one booked before the outage included
    assert [receipt.created for receipt in replayed] == [False, True, True]
    assert not any(receipt.created for receipt in again)
    for invoice in invoices:
        assert len(_booked(tryton_client, invoice.number or "")) == 1


def test_missing_mapping_is_a_sentence_and_books_nothing(tryton_client: TrytonErpClient) -> None:
    invoice = make_finalized_invoice(612)
    with pytest.raises(MissingMapping) as raised:
        post_invoice_once(invoice, _mapping_without("SMS"), tryton_client)
    assert str(raised.value) == (
        "Invoice INV-2026-000612: product 'SMS' has no GL revenue account in ERP mapping v5;"
        " add it to the mapping and replay."
    )
    assert _booked(tryton_client, "INV-2026-000612") == []


def test_mapping_code_unknown_to_tryton_is_permanent_and_readable(
    tryton_client: TrytonErpClient,
) -> None:
    bundled = resources.files("invoice_dispatch.erp.data").joinpath("erp_mapping.json")
    document = json.loads(bundled.read_text(encoding="utf-8"))
    document["accounts"]["4160"] = {"name": "Messaging revenue (new)", "kind": "revenue"}
    document["products"]["SMS"]["revenue_account"] = "4160"
    with pytest.raises(ErpPermanentError) as raised:
        post_invoice_once(
            make_finalized_invoice(401), parse_erp_mapping(json.dumps(document)), tryton_client
        )
    assert "Tryton has no account.account with code '4160'" in str(raised.value)
    assert _booked(tryton_client, "INV-2026-000401") == []


def test_half_cent_tax_is_booked_as_the_customer_saw_it(tryton_client: TrytonErpClient) -> None:
    # 90,475 JPY at 10 % is 9,047.5: half-up (our rule) says 9,048, Tryton half-even 9,047
    invoice = make_finalized_invoice(501, currency="JPY", tax_rate="10")
    assert invoice.tax_total == Decimal("9048")
    post_invoice_once(invoice, load_erp_mapping(), tryton_client)
    (booked,) = _booked(tryton_client, "INV-2026-000501")
    assert booked["tax_amount"] == Decimal("9048")


def test_crash_between_create_and_post_is_finished_by_the_retry(
    tryton_client: TrytonErpClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given Tryton stored the draft but our call died before asking it to post
    mapping = load_erp_mapping()
    invoice = make_finalized_invoice(601)

    def die_before_posting(invoice_id: int) -> dict:
        raise ErpTransientError("connection reset after create")

    with monkeypatch.context() as patched:
        patched.setattr(tryton_client, "_post", die_before_posting)
        with pytest.raises(ErpTransientError):
            post_invoice_once(invoice, mapping, tryton_client)
    (draft,) = _booked(tryton_client, "INV-2026-000601")
    assert draft["state"] == "draft"

    # When the state machine retries
    receipt = post_invoice_once(invoice, mapping, tryton_client)

    # Then the same Tryton invoice is posted, and no second one exists
    (booked,) = _booked(tryton_client, "INV-2026-000601")
    assert booked["state"] == "posted"
    assert (receipt.erp_id, receipt.created) == (booked["number"], False)


def test_dump_shows_what_tryton_booked_with_its_own_ids(
    tryton: tuple[TrytonEndpoint, TrytonProcess], tryton_client: TrytonErpClient, tmp_path
) -> None:
    endpoint, _server = tryton
    receipt = post_invoice_once(make_finalized_invoice(701), load_erp_mapping(), tryton_client)

    assert dump_tryton_bookings(endpoint, tmp_path / "erp") >= 1

    record = json.loads((tmp_path / "erp" / "INV-2026-000701.json").read_text(encoding="utf-8"))
    assert (record["erp_id"], record["state"], record["period"]) == (
        receipt.erp_id,
        "posted",
        "2026-11",
    )
    assert record["customer"]["code"] == "ACC-0701"
    assert record["lines"][3] == {
        "description": "Sms for 2026-10 [SMS, CC-250]",
        "account": "4150",
        "amount": "23.25",
        "cost_centers": ["CC-250"],
    }
    assert [tax["account"] for tax in record["taxes"]] == ["3801", "3801"]


def test_prices_written_with_more_than_four_decimals_are_still_booked(
    tryton_client: TrytonErpClient,
) -> None:
    # Given prices the billing engine writes with six decimals (a quarterly plan and a
    # per-call price), which Tryton refuses by their text even when the value fits
    invoice = make_finalized_invoice(
        951,
        lines=(
            ("BUSINESS", "recurring", "1", "837.000000"),
            ("API-CALLS", "usage", "450000", "0.000800"),
        ),
    )

    # When it is posted
    receipt = post_invoice_once(invoice, load_erp_mapping(), tryton_client)

    # Then Tryton holds it once, posted, with the customer's total
    (booked,) = _booked(tryton_client, "INV-2026-000951")
    assert receipt.created and booked["state"] == "posted"
    assert Decimal(str(booked["total_amount"])) == invoice.gross_total
