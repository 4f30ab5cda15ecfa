"""The EN 16931 (Factur-X / ZUGFeRD 2) Cross Industry Invoice XML of a finalized invoice.

Embedded in the PDF/A-3 so that a customer's accounts-payable software books the
invoice without retyping it. The XML states exactly the amounts printed on the PDF:
both are built from the same ``Invoice``, whose lines are rounded per line and whose tax
is computed per rate (EN 16931's own rule, see ``money.py``), so BR-CO-10..16 hold by
construction.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from xml.etree.ElementTree import Element, SubElement, register_namespace, tostring

from invoice_dispatch.invoice import Invoice, InvoiceLine, PostalAddress, TaxCategory
from invoice_dispatch.legal_entity import LegalEntity
from invoice_dispatch.money import MINOR_UNITS
from invoice_dispatch.rendering.labels import is_credit_note

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"

#: BT-24: the specification identifier of the EN 16931 ("Comfort") profile of Factur-X.
EN16931_GUIDELINE = "urn:cen.eu:en16931:2017"
COMMERCIAL_INVOICE = "380"
CREDIT_NOTE = "381"
SEPA_CREDIT_TRANSFER = "58"
CREDIT_TRANSFER = "30"
UNIT_PIECE = "C62"

for _prefix, _uri in (("rsm", RSM), ("ram", RAM), ("udt", UDT), ("qdt", QDT)):
    register_namespace(_prefix, _uri)

#: VATEX codes (BT-121) that EN 16931 requires beside a textual reason for these categories.
VATEX_CODES: dict[TaxCategory, str] = {
    TaxCategory.REVERSE_CHARGE: "VATEX-EU-AE",
    TaxCategory.INTRA_COMMUNITY: "VATEX-EU-IC",
    TaxCategory.OUTSIDE_SCOPE: "VATEX-EU-O",
}
DEFAULT_EXEMPTION_REASONS: dict[TaxCategory, str] = {
    TaxCategory.REVERSE_CHARGE: "Reverse charge",
    TaxCategory.INTRA_COMMUNITY: "Intra-community supply",
    TaxCategory.EXEMPT: "Exempt from VAT",
    TaxCategory.OUTSIDE_SCOPE: "Not subject to VAT",
}


class NotFinalizedError(ValueError):
    """Only a finalized invoice (number and dates assigned) is a legal document."""


class NegativeInvoiceError(ValueError):
    """A negative total is a credit owed to the customer, not an invoice (billing/credits.py)."""


def refuse_negative_invoice(invoice: Invoice) -> None:
    """No document says "invoice" over a negative total; a credit note (381) may."""
    if invoice.gross_total < 0 and not is_credit_note(invoice):
        raise NegativeInvoiceError(
            f"Invoice {invoice.number or invoice.invoice_id} has a negative total "
            f"({invoice.gross_total} {invoice.currency}): carry it as a credit or issue a "
            "credit note"
        )


class FacturXNotApplicable(ValueError):
    """EN 16931 cannot state this invoice's amounts exactly (see ``facturx_applies``)."""


#: EN 16931 allows at most two decimals in an amount (rules BR-DEC-01..28).
EN16931_AMOUNT_DECIMALS = 2


def facturx_applies(currency: str) -> bool:
    """Whether the invoice carries Factur-X: not for currencies with three decimals.

    Bahraini, Jordanian, Kuwaiti, Omani and Tunisian amounts have three decimals
    (ISO 4217), and EN 16931 allows two (BR-DEC). Rounding the XML to two would make it
    state other line amounts, tax and totals than the PDF, whose amounts are the legal
    ones, and a receiving system would book a different amount than the customer owes.
    So those invoices are PDF/A-3b without an embedded XML (README, "E-invoices").
    """
    return MINOR_UNITS.get(currency, 2) <= EN16931_AMOUNT_DECIMALS


def build_facturx_xml(invoice: Invoice, legal_entity: LegalEntity) -> bytes:
    """CII XML (Factur-X 1.0, profile EN 16931) for ``invoice``, UTF-8 with declaration."""
    if invoice.number is None or invoice.issue_date is None or invoice.due_date is None:
        raise NotFinalizedError(
            f"Invoice {invoice.invoice_id} has no number or dates yet: "
            "Factur-X is only produced for finalized invoices"
        )
    refuse_negative_invoice(invoice)
    currency = invoice.currency
    if not facturx_applies(currency):
        raise FacturXNotApplicable(
            f"Invoice {invoice.number} is in {currency}, whose amounts have "
            f"{MINOR_UNITS[currency]} decimals; EN 16931 allows {EN16931_AMOUNT_DECIMALS}, "
            "so it carries no Factur-X XML"
        )
    # A credit note states positive amounts under type 381 (EN 16931 BT-3); the model keeps
    # them negative so that invoice and credit note sum to zero in the ledger.
    credit_note = is_credit_note(invoice)
    sign = Decimal(-1) if credit_note else Decimal(1)
    root = Element(f"{{{RSM}}}CrossIndustryInvoice")

    context = SubElement(root, _rsm("ExchangedDocumentContext"))
    guideline = SubElement(context, _ram("GuidelineSpecifiedDocumentContextParameter"))
    _text(guideline, "ID", EN16931_GUIDELINE)

    document = SubElement(root, _rsm("ExchangedDocument"))
    _text(document, "ID", invoice.number)
    _text(document, "TypeCode", CREDIT_NOTE if credit_note else COMMERCIAL_INVOICE)
    _date_time(document, "IssueDateTime", invoice.issue_date)
    if legal_entity.registration:
        note = SubElement(document, _ram("IncludedNote"))
        _text(note, "Content", f"{legal_entity.name}, {legal_entity.registration}")
        _text(note, "SubjectCode", "REG")

    transaction = SubElement(root, _rsm("SupplyChainTradeTransaction"))
    for position, line in enumerate(invoice.lines, start=1):
        _line_item(transaction, position, line, currency, sign)

    agreement = SubElement(transaction, _ram("ApplicableHeaderTradeAgreement"))
    _text(agreement, "BuyerReference", invoice.customer.account_id)
    seller = SubElement(agreement, _ram("SellerTradeParty"))
    _text(seller, "Name", legal_entity.name)
    _address(seller, legal_entity.address)
    _email(seller, legal_entity.email)
    _vat_registration(seller, legal_entity.vat_id)
    buyer = SubElement(agreement, _ram("BuyerTradeParty"))
    _text(buyer, "ID", invoice.customer.account_id)
    _text(buyer, "Name", invoice.customer.name)
    _address(buyer, invoice.customer.address)
    _email(buyer, invoice.customer.email)
    _vat_registration(buyer, invoice.customer.vat_id)

    # The services are delivered to the customer (BG-13, deliver-to party and address): an
    # empty delivery element is refused by Peppol rule R008, and the CII schema needs one.
    delivery = SubElement(transaction, _ram("ApplicableHeaderTradeDelivery"))
    ship_to = SubElement(delivery, _ram("ShipToTradeParty"))
    _text(ship_to, "Name", invoice.customer.name)
    _address(ship_to, invoice.customer.address)

    settlement = SubElement(transaction, _ram("ApplicableHeaderTradeSettlement"))
    _text(settlement, "PaymentReference", invoice.number)
    _text(settlement, "InvoiceCurrencyCode", currency)
    payment_means = SubElement(settlement, _ram("SpecifiedTradeSettlementPaymentMeans"))
    _text(
        payment_means,
        "TypeCode",
        SEPA_CREDIT_TRANSFER if currency == "EUR" else CREDIT_TRANSFER,
    )
    account = SubElement(payment_means, _ram("PayeePartyCreditorFinancialAccount"))
    _text(account, "IBANID", legal_entity.bank.iban)
    institution = SubElement(payment_means, _ram("PayeeSpecifiedCreditorFinancialInstitution"))
    _text(institution, "BICID", legal_entity.bank.bic)

    for subtotal in invoice.tax_breakdown:
        tax = SubElement(settlement, _ram("ApplicableTradeTax"))
        _amount(tax, "CalculatedAmount", sign * subtotal.tax_amount, currency)
        _text(tax, "TypeCode", "VAT")
        reason = subtotal.exemption_reason or DEFAULT_EXEMPTION_REASONS.get(subtotal.tax_category)
        if reason:
            _text(tax, "ExemptionReason", reason)
        _amount(tax, "BasisAmount", sign * subtotal.taxable_amount, currency)
        _text(tax, "CategoryCode", subtotal.tax_category.value)
        if subtotal.tax_category in VATEX_CODES:
            _text(tax, "ExemptionReasonCode", VATEX_CODES[subtotal.tax_category])
        _text(tax, "RateApplicablePercent", _plain(subtotal.tax_rate))

    _period(settlement, *invoice.invoicing_period)
    terms = SubElement(settlement, _ram("SpecifiedTradePaymentTerms"))
    _text(terms, "Description", f"{invoice.payment_terms_days} days net")
    _date_time(terms, "DueDateDateTime", invoice.due_date)

    summation = SubElement(settlement, _ram("SpecifiedTradeSettlementHeaderMonetarySummation"))
    line_total = sum((line.net_amount for line in invoice.lines), Decimal(0))
    _amount(summation, "LineTotalAmount", sign * line_total, currency)
    _amount(summation, "TaxBasisTotalAmount", sign * invoice.net_total, currency)
    tax_total = SubElement(summation, _ram("TaxTotalAmount"), currencyID=currency)
    tax_total.text = _money(sign * invoice.tax_total, currency)
    _amount(summation, "GrandTotalAmount", sign * invoice.gross_total, currency)
    _amount(summation, "DuePayableAmount", sign * invoice.gross_total, currency)

    if invoice.credited_invoice_number:
        referenced = SubElement(settlement, _ram("InvoiceReferencedDocument"))
        _text(referenced, "IssuerAssignedID", invoice.credited_invoice_number)
        if invoice.credited_invoice_issue_date:
            # BT-26; CII types this one with the qualified data type, not udt.
            issued = SubElement(referenced, _ram("FormattedIssueDateTime"))
            issued_string = SubElement(issued, f"{{{QDT}}}DateTimeString", format="102")
            issued_string.text = invoice.credited_invoice_issue_date.strftime("%Y%m%d")

    return tostring(root, encoding="utf-8", xml_declaration=True)


def _line_item(
    parent: Element, position: int, line: InvoiceLine, currency: str, sign: Decimal
) -> None:
    """BR-27 forbids a negative item price: a credit is a negative quantity at a positive price.

    Quantity x price / base quantity rounds to the line amount on every line (Peppol R120),
    as the billing engine states its lines (``billing/line_terms.py``).
    """
    price, quantity, net_amount = line.unit_price, sign * line.quantity, sign * line.net_amount
    if price < 0:
        price, quantity = -price, -quantity
    item = SubElement(parent, _ram("IncludedSupplyChainTradeLineItem"))
    line_document = SubElement(item, _ram("AssociatedDocumentLineDocument"))
    _text(line_document, "LineID", str(position))
    product = SubElement(item, _ram("SpecifiedTradeProduct"))
    _text(product, "SellerAssignedID", line.product_code)
    _text(product, "Name", line.description)
    agreement = SubElement(item, _ram("SpecifiedLineTradeAgreement"))
    net_price = SubElement(agreement, _ram("NetPriceProductTradePrice"))
    _text(net_price, "ChargeAmount", _plain(price))
    if line.base_quantity != 1:
        # BT-149: a prorated charge is priced per the term's days (15 of 30 days: 15 at
        # 29.00 per 30), so quantity x price / base quantity is the line amount (R120).
        base = SubElement(net_price, _ram("BasisQuantity"), unitCode=UNIT_PIECE)
        base.text = _plain(line.base_quantity)
    delivery = SubElement(item, _ram("SpecifiedLineTradeDelivery"))
    billed = SubElement(delivery, _ram("BilledQuantity"), unitCode=UNIT_PIECE)
    billed.text = _plain(quantity)
    settlement = SubElement(item, _ram("SpecifiedLineTradeSettlement"))
    tax = SubElement(settlement, _ram("ApplicableTradeTax"))
    _text(tax, "TypeCode", "VAT")
    _text(tax, "CategoryCode", line.tax_category.value)
    _text(tax, "RateApplicablePercent", _plain(line.tax_rate))
    _period(settlement, line.service_start, line.service_end)
    summation = SubElement(settlement, _ram("SpecifiedTradeSettlementLineMonetarySummation"))
    _text(summation, "LineTotalAmount", _money(net_amount, currency))


def _address(party: Element, address: PostalAddress) -> None:
    postal = SubElement(party, _ram("PostalTradeAddress"))
    if address.postal_code:
        _text(postal, "PostcodeCode", address.postal_code)
    _text(postal, "LineOne", address.line1)
    if address.line2:
        _text(postal, "LineTwo", address.line2)
    _text(postal, "CityName", address.city)
    _text(postal, "CountryID", address.country)
    if address.region:
        _text(postal, "CountrySubDivisionName", address.region)


def _email(party: Element, email: str) -> None:
    communication = SubElement(party, _ram("URIUniversalCommunication"))
    uri = SubElement(communication, _ram("URIID"), schemeID="EM")
    uri.text = email


def _vat_registration(party: Element, vat_id: str | None) -> None:
    if vat_id:
        registration = SubElement(party, _ram("SpecifiedTaxRegistration"))
        identifier = SubElement(registration, _ram("ID"), schemeID="VA")
        identifier.text = vat_id


def _period(parent: Element, start: date, end: date) -> None:
    period = SubElement(parent, _ram("BillingSpecifiedPeriod"))
    _date_time(period, "StartDateTime", start)
    _date_time(period, "EndDateTime", end)


def _date_time(parent: Element, name: str, value: date) -> None:
    wrapper = SubElement(parent, _ram(name))
    date_string = SubElement(wrapper, f"{{{UDT}}}DateTimeString", format="102")
    date_string.text = value.strftime("%Y%m%d")


def _amount(parent: Element, name: str, value: Decimal, currency: str) -> None:
    _text(parent, name, _money(value, currency))


def _money(value: Decimal, currency: str) -> str:
    return f"{value:.{MINOR_UNITS.get(currency, 2)}f}"


def _plain(value: Decimal) -> str:
    """Fixed-point text without trailing zeros: XSD decimals reject "1E+1"."""
    normalized = value.normalize()
    return f"{normalized:f}"


def _text(parent: Element, name: str, value: str) -> Element:
    child = SubElement(parent, _ram(name))
    child.text = value
    return child


def _ram(name: str) -> str:
    return f"{{{RAM}}}{name}"


def _rsm(name: str) -> str:
    return f"{{{RSM}}}{name}"
