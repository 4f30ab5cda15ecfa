"""The Factur-X XML inside each finalized PDF: valid EN 16931 CII, same totals as the PDF."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import facturx
import pytest
from lxml import etree
from rendering_samples import FINALIZED_CASES, HOSTILE_NAME, normalise_spaces, pdf_reader

from invoice_dispatch.invoice import Invoice
from invoice_dispatch.legal_entity import LegalEntity
from invoice_dispatch.rendering import InvoiceRenderer, NotFinalizedError, build_facturx_xml
from invoice_dispatch.rendering.facturx_xml import (
    FacturXNotApplicable,
    NegativeInvoiceError,
    facturx_applies,
)
from invoice_dispatch.rendering.preview import sample_invoice
from invoice_dispatch.workflow.finalize import finalized_copy
from tests.unit.billing.billing_factories import invoice_for as billing_invoice_for
from tests.unit.billing.billing_factories import raw_account

NAMESPACES = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
SUMMATION = (
    "/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction/"
    "ram:ApplicableHeaderTradeSettlement/ram:SpecifiedTradeSettlementHeaderMonetarySummation/"
)


def _extracted_xml(pdf: bytes) -> etree._Element:
    """The XML exactly as an accounts-payable system gets it: through the factur-x reader."""
    filename, xml_bytes = facturx.get_facturx_xml_from_pdf(pdf, check_xsd=True)
    assert filename == "factur-x.xml", "no XSD-valid Factur-X XML found in the PDF"
    return etree.fromstring(xml_bytes)


def _amount(root: etree._Element, path: str) -> Decimal:
    (value,) = root.xpath(path + "/text()", namespaces=NAMESPACES)
    return Decimal(value)


@pytest.mark.parametrize("case", FINALIZED_CASES)
def test_embedded_xml_is_valid_en16931_and_matches_invoice_totals(
    case: str, pdf_for: Callable[[str], bytes], invoice_for: Callable[[str], Invoice]
) -> None:
    invoice = invoice_for(case)
    root = _extracted_xml(pdf_for(case))

    assert facturx.xml_check_xsd(root, flavor="factur-x", level="en16931")
    assert facturx.get_level(root) == "en16931"
    line_total = sum((line.net_amount for line in invoice.lines), Decimal(0))
    # A credit note (type 381) states the same amounts with positive signs.
    sign = -1 if invoice.credited_invoice_number else 1
    assert _amount(root, SUMMATION + "ram:LineTotalAmount") == sign * line_total
    assert _amount(root, SUMMATION + "ram:TaxBasisTotalAmount") == sign * invoice.net_total
    assert _amount(root, SUMMATION + "ram:TaxTotalAmount") == sign * invoice.tax_total
    assert _amount(root, SUMMATION + "ram:GrandTotalAmount") == sign * invoice.gross_total
    assert _amount(root, SUMMATION + "ram:DuePayableAmount") == sign * invoice.gross_total
    (tax_currency,) = root.xpath(
        SUMMATION + "ram:TaxTotalAmount/@currencyID", namespaces=NAMESPACES
    )
    assert tax_currency == invoice.currency


def test_xml_carries_number_dates_payment_reference_and_every_line(
    pdf_for: Callable[[str], bytes], invoice_for: Callable[[str], Invoice]
) -> None:
    invoice = invoice_for("sixty_lines_de")
    root = _extracted_xml(pdf_for("sixty_lines_de"))

    def text(path: str) -> str:
        (value,) = root.xpath(path + "/text()", namespaces=NAMESPACES)
        return str(value)

    assert text("/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:ID") == invoice.number
    assert text("//rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString") == "20261201"
    assert text("//ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString") == (
        "20261231"
    )
    assert text("//ram:ApplicableHeaderTradeSettlement/ram:PaymentReference") == invoice.number
    assert text("//ram:PayeePartyCreditorFinancialAccount/ram:IBANID") == "DE89370400440532013000"
    line_amounts = root.xpath(
        "//ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount/text()",
        namespaces=NAMESPACES,
    )
    assert [Decimal(amount) for amount in line_amounts] == [
        line.net_amount for line in invoice.lines
    ]


def test_reverse_charge_xml_states_category_ae_with_exemption_code(
    pdf_for: Callable[[str], bytes],
) -> None:
    root = _extracted_xml(pdf_for("reverse_charge_en"))
    (header_tax,) = root.xpath(
        "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", namespaces=NAMESPACES
    )

    def child(name: str) -> str:
        return str(header_tax.find(f"ram:{name}", NAMESPACES).text)

    assert child("CategoryCode") == "AE"
    assert child("ExemptionReasonCode") == "VATEX-EU-AE"
    assert child("RateApplicablePercent") == "0"
    assert root.xpath(
        "//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration/ram:ID/text()", namespaces=NAMESPACES
    ) == ["IE6388047V"]


def test_negative_line_is_written_as_negative_quantity_at_positive_price(
    invoice_for: Callable[[str], Invoice], legal_entity: LegalEntity
) -> None:
    """EN 16931 BR-27: an item price is never negative, so a discount negates the quantity."""
    invoice = invoice_for("eur_de")
    discount = invoice.lines[2].model_copy(
        update={"unit_price": Decimal("-15"), "net_amount": Decimal("-180.00"), "kind": "discount"}
    )
    with_discount = invoice.model_copy(
        update={"lines": (*invoice.lines[:2], discount, *invoice.lines[3:])}
    )
    root = etree.fromstring(build_facturx_xml(with_discount, legal_entity))
    third_line = root.xpath("//ram:IncludedSupplyChainTradeLineItem", namespaces=NAMESPACES)[2]

    assert third_line.findtext(".//ram:ChargeAmount", namespaces=NAMESPACES) == "15"
    assert third_line.findtext(".//ram:BilledQuantity", namespaces=NAMESPACES) == "-12"
    assert facturx.xml_check_xsd(root, flavor="factur-x", level="en16931")


def test_customer_name_survives_xml_escaping(
    invoice_for: Callable[[str], Invoice], legal_entity: LegalEntity
) -> None:
    root = etree.fromstring(build_facturx_xml(invoice_for("hostile_name_en"), legal_entity))

    assert root.xpath("//ram:BuyerTradeParty/ram:Name/text()", namespaces=NAMESPACES) == [
        HOSTILE_NAME
    ]


def test_credit_note_is_type_381_with_positive_amounts_and_a_reference(
    pdf_for: Callable[[str], bytes], invoice_for: Callable[[str], Invoice]
) -> None:
    """EN 16931 states a credit note's amounts positive; the model keeps them negative."""
    credit_note = invoice_for("credit_note_en")
    root = _extracted_xml(pdf_for("credit_note_en"))

    assert root.findtext(".//rsm:ExchangedDocument/ram:TypeCode", namespaces=NAMESPACES) == "381"
    assert _amount(root, SUMMATION + "ram:GrandTotalAmount") == -credit_note.gross_total > 0
    assert _amount(root, SUMMATION + "ram:TaxTotalAmount") == -credit_note.tax_total
    assert root.xpath(
        "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID/text()", namespaces=NAMESPACES
    ) == ["INV-2026-000124"]
    quantities = root.xpath("//ram:BilledQuantity/text()", namespaces=NAMESPACES)
    assert all(Decimal(quantity) > 0 for quantity in quantities)


def test_draft_has_no_factur_x(
    invoice_for: Callable[[str], Invoice], legal_entity: LegalEntity
) -> None:
    with pytest.raises(NotFinalizedError):
        build_facturx_xml(invoice_for("draft_de"), legal_entity)


def test_factur_x_library_accepts_the_pdf_as_factur_x_en16931(
    pdf_for: Callable[[str], bytes],
) -> None:
    """The library's own reader finds flavour and level, as an AP system's importer would."""
    root = _extracted_xml(pdf_for("usd_en"))

    assert facturx.get_flavor(root) == "factur-x"


def test_invoice_period_covers_an_annual_term_billed_in_advance(
    legal_entity: LegalEntity, renderer: InvoiceRenderer
) -> None:
    """Peppol R110/R111: a line's period lies inside BT-73..BT-74, so the header widens."""
    draft = billing_invoice_for(
        raw_account(
            subscriptions=[{"subscription_id": "S", "plan": "ENTERPRISE", "start": "2025-11-01"}]
        )
    )
    invoice = finalized_copy(draft, legal_entity, 200, datetime(2026, 12, 1, 6, tzinfo=UTC))
    root = etree.fromstring(build_facturx_xml(invoice, legal_entity))
    header = root.find(
        ".//ram:ApplicableHeaderTradeSettlement/ram:BillingSpecifiedPeriod", NAMESPACES
    )
    assert header is not None

    assert (
        header.findtext("ram:StartDateTime/udt:DateTimeString", namespaces=NAMESPACES) == "20261101"
    )
    assert (
        header.findtext("ram:EndDateTime/udt:DateTimeString", namespaces=NAMESPACES) == "20271031"
    )
    text = normalise_spaces(pdf_reader(renderer.render_pdf(invoice)).pages[0].extract_text())
    assert "Nov 1, 2026 – Nov 30, 2026" in text  # the billing period stays the month
    assert "Nov 1, 2026 – Oct 31, 2027" in text  # and the period the invoice covers is stated


def test_header_delivery_names_the_customer_instead_of_being_empty(
    invoice_for: Callable[[str], Invoice], legal_entity: LegalEntity
) -> None:
    """Peppol R008 (in the Factur-X schematron) warns about any empty element."""
    root = etree.fromstring(build_facturx_xml(invoice_for("eur_de"), legal_entity))
    (delivery,) = root.xpath("//ram:ApplicableHeaderTradeDelivery", namespaces=NAMESPACES)

    assert len(delivery) > 0
    assert delivery.findtext("ram:ShipToTradeParty/ram:Name", namespaces=NAMESPACES) == (
        "Müller & Söhne Maschinenbau GmbH"
    )
    assert (
        delivery.findtext(
            "ram:ShipToTradeParty/ram:PostalTradeAddress/ram:CountryID", namespaces=NAMESPACES
        )
        == "DE"
    )


def test_three_decimal_currency_gets_a_pdf_a_without_factur_x(
    legal_entity: LegalEntity, renderer: InvoiceRenderer
) -> None:
    """EN 16931 amounts have at most two decimals (BR-DEC); BHD has three (README)."""
    invoice = sample_invoice(locale="en", currency="BHD", number="INV-2026-000201")
    assert invoice.gross_total != invoice.gross_total.quantize(Decimal("0.01"))

    with pytest.raises(FacturXNotApplicable, match="BHD, whose amounts have 3 decimals"):
        build_facturx_xml(invoice, legal_entity)
    reader = pdf_reader(renderer.render_pdf(invoice))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode("utf-8")
    assert 'pdfaid:part="3"' in xmp and "fx:" not in xmp
    assert "/Names" not in reader.trailer["/Root"] and "/AF" not in reader.trailer["/Root"]
    assert not facturx_applies("BHD") and facturx_applies("JPY") and facturx_applies("EUR")


def test_a_negative_total_is_never_rendered_as_an_invoice(
    invoice_for: Callable[[str], Invoice], legal_entity: LegalEntity, renderer: InvoiceRenderer
) -> None:
    """Even if a negative draft reached finalize (a released hold), no invoice is drawn."""
    invoice = invoice_for("usd_en")
    negative = invoice.model_copy(
        update={
            "net_total": -invoice.net_total,
            "tax_total": -invoice.tax_total,
            "gross_total": -invoice.gross_total,
        }
    )

    with pytest.raises(NegativeInvoiceError, match="carry it as a credit or issue a credit note"):
        renderer.render_pdf(negative)
    with pytest.raises(NegativeInvoiceError):
        build_facturx_xml(negative, legal_entity)
