"""The mapping and the booking, as finance would check them, without any ERP."""

from __future__ import annotations

import json
from decimal import Decimal
from importlib import resources

import pytest

from invoice_dispatch.billing import PRODUCT_CODES
from invoice_dispatch.erp import (
    ErpBooking,
    ErpPermanentError,
    ErpReceipt,
    InvalidErpMapping,
    MissingMapping,
    build_booking,
    load_erp_mapping,
    parse_erp_mapping,
    post_invoice_once,
)
from invoice_dispatch.invoice import InvoiceStatus, TaxCategory
from tests.unit.erp.invoice_factory import make_finalized_invoice

BILLING_ENGINE_PRODUCTS = sorted(PRODUCT_CODES)


def _mapping_document() -> dict:
    bundled = resources.files("invoice_dispatch.erp.data").joinpath("erp_mapping.json")
    return json.loads(bundled.read_text(encoding="utf-8"))


def _mapping_without(product_code: str):
    document = _mapping_document()
    del document["products"][product_code]
    return parse_erp_mapping(json.dumps(document))


class RecordingErp:
    """An in-memory ERP that remembers the order of calls, to check lookup-before-create."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.entries: dict[str, str] = {}

    def find_by_external_id(self, external_id: str) -> ErpReceipt | None:
        self.calls.append(f"find {external_id}")
        if external_id in self.entries:
            return ErpReceipt(
                external_id=external_id, erp_id=self.entries[external_id], created=False
            )
        return None

    def create_invoice(self, booking: ErpBooking) -> ErpReceipt:
        self.calls.append(f"create {booking.external_id}")
        self.entries[booking.external_id] = f"ERP-{len(self.entries) + 1}"
        return ErpReceipt(
            external_id=booking.external_id, erp_id=self.entries[booking.external_id], created=True
        )


def test_shipped_mapping_covers_every_product_the_billing_engine_emits() -> None:
    mapping = load_erp_mapping()
    assert mapping.version == 5
    assert sorted(mapping.products) == sorted(BILLING_ENGINE_PRODUCTS)


@pytest.mark.parametrize(
    ("category", "rate"),
    [
        ("S", "19"),
        ("S", "20"),
        ("S", "21"),
        ("S", "23"),
        ("S", "10"),
        ("S", "7.25"),
        ("AE", "0"),
        ("E", "0"),
        ("O", "0"),
        ("AE", "0.00"),
    ],
)
def test_shipped_mapping_has_a_tax_account_for_each_rate_in_use(category: str, rate: str) -> None:
    assert load_erp_mapping().tax(TaxCategory(category), Decimal(rate)) is not None


def test_booking_puts_each_line_on_its_gl_account_cost_center_and_tax() -> None:
    invoice = make_finalized_invoice(12)
    booking = build_booking(invoice, load_erp_mapping())
    assert booking.external_id == "INV-2026-000012"
    assert booking.accounting_date == invoice.issue_date
    assert booking.billing_period == "2026-10"
    assert booking.customer.account_id == invoice.account_id
    assert [
        (line.product_code, line.revenue_account, line.cost_center) for line in booking.lines
    ] == [
        ("BUSINESS", "4000", "CC-100"),
        ("TEAM-SEAT", "4000", "CC-100"),
        ("API-CALLS", "4100", "CC-200"),
        ("SMS", "4150", "CC-250"),
        ("DISCOUNT", "4900", "CC-900"),
    ]
    (tax_line,) = booking.tax_lines
    assert (tax_line.tax_code, tax_line.tax_account) == ("VAT-S-19", "3801")
    assert tax_line.tax_amount == invoice.tax_total
    assert booking.gross_total == booking.net_total + booking.tax_total


def test_missing_product_mapping_reads_as_a_sentence_for_finance() -> None:
    with pytest.raises(MissingMapping) as raised:
        build_booking(make_finalized_invoice(12), _mapping_without("SMS"))
    assert str(raised.value) == (
        "Invoice INV-2026-000012: product 'SMS' has no GL revenue account in ERP mapping v5;"
        " add it to the mapping and replay."
    )


def test_every_gap_is_named_at_once_so_finance_fixes_the_mapping_once() -> None:
    invoice = make_finalized_invoice(13, tax_rate="8")
    with pytest.raises(MissingMapping) as raised:
        build_booking(invoice, _mapping_without("SMS"))
    message = str(raised.value)
    assert "product 'SMS' has no GL revenue account" in message
    assert "tax category S at 8% has no tax account" in message
    assert message.endswith("add them to the mapping and replay.")


def test_draft_invoice_is_never_booked() -> None:
    draft = make_finalized_invoice(14).model_copy(
        update={"status": InvoiceStatus.DRAFT, "number": None}
    )
    with pytest.raises(ErpPermanentError, match="only finalized invoices are booked"):
        build_booking(draft, load_erp_mapping())


def test_mapping_naming_an_unknown_account_stops_the_run_at_start() -> None:
    document = _mapping_document()
    document["products"]["SMS"]["revenue_account"] = "4155"
    with pytest.raises(InvalidErpMapping, match="product 'SMS' names GL account 4155"):
        parse_erp_mapping(json.dumps(document))


def test_mapping_using_a_tax_account_as_revenue_account_is_refused() -> None:
    document = _mapping_document()
    document["products"]["SMS"]["revenue_account"] = "3801"
    with pytest.raises(InvalidErpMapping, match="needs a revenue account but 3801 is tax"):
        parse_erp_mapping(json.dumps(document))


def test_mapping_without_version_is_refused() -> None:
    document = _mapping_document()
    del document["version"]
    with pytest.raises(InvalidErpMapping, match="version"):
        parse_erp_mapping(json.dumps(document))


def test_posting_looks_up_before_creating() -> None:
    erp = RecordingErp()
    receipt = post_invoice_once(make_finalized_invoice(1), load_erp_mapping(), erp)
    assert receipt.created
    assert erp.calls == ["find INV-2026-000001", "create INV-2026-000001"]


def test_second_post_returns_the_first_entry_and_creates_nothing() -> None:
    erp = RecordingErp()
    first = post_invoice_once(make_finalized_invoice(1), load_erp_mapping(), erp)
    second = post_invoice_once(make_finalized_invoice(1), load_erp_mapping(), erp)
    assert (second.erp_id, second.created) == (first.erp_id, False)
    assert erp.calls.count("create INV-2026-000001") == 1


def test_missing_mapping_never_reaches_the_erp() -> None:
    erp = RecordingErp()
    with pytest.raises(MissingMapping):
        post_invoice_once(make_finalized_invoice(1), _mapping_without("SMS"), erp)
    assert erp.calls == []


def test_shipped_mapping_has_a_tax_account_for_every_rate_in_the_tax_table() -> None:
    import json
    from importlib import resources

    table = json.loads(
        resources.files("invoice_dispatch.billing.data").joinpath("tax_rates.json").read_text()
    )
    mapping = load_erp_mapping()
    for country, rate in table["rates"].items():
        category = TaxCategory.STANDARD if Decimal(rate) else TaxCategory.OUTSIDE_SCOPE
        assert mapping.tax(category, Decimal(rate)) is not None, f"{country} {rate} %"
