"""What an invoice says to its reader: every word, amount and date, formatted once.

The PDF drawing and the HTML page show the same document, so both read this view: the
words in the customer's language, amounts and dates in their locale, addresses in postal
order. Nothing here knows about layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from invoice_dispatch.invoice import Invoice, InvoiceStatus, PostalAddress
from invoice_dispatch.legal_entity import LegalEntity
from invoice_dispatch.rendering.bidi import neutralise_bidi_controls
from invoice_dispatch.rendering.facturx_xml import NotFinalizedError
from invoice_dispatch.rendering.formatting import (
    country_name,
    format_date,
    format_iban,
    format_money,
    format_quantity,
    format_rate,
    format_unit_price,
    language_of,
)
from invoice_dispatch.rendering.labels import is_credit_note, labels_for, tax_note


@dataclass(frozen=True)
class LineView:
    position: int
    description: str
    service_period: str | None
    quantity: str
    unit_price: str
    tax_rate: str
    net_amount: str


@dataclass(frozen=True)
class TaxRowView:
    rate: str
    taxable_amount: str
    tax_amount: str
    note: str | None


@dataclass(frozen=True)
class InvoiceView:
    language: str
    t: dict[str, str]
    title: str
    document_name: str
    number: str | None
    is_draft: bool
    issue_day: date | None
    seller_address: list[str]
    customer_name: str
    customer_address: list[str]
    customer_vat_id: str | None
    facts: list[tuple[str, str]]
    lines: list[LineView]
    tax_rows: list[TaxRowView]
    net_total: str
    tax_total: str
    gross_total: str
    payment_text: str
    payment_rows: list[tuple[str, str]]
    footer_lines: list[str]
    closing_note: str | None


def is_finalized(invoice: Invoice) -> bool:
    """Finalized and complete; a finalized invoice without its number or dates is a bug."""
    if invoice.status is not InvoiceStatus.FINALIZED:
        return False
    if invoice.number is None or invoice.issue_date is None or invoice.due_date is None:
        raise NotFinalizedError(
            f"Invoice {invoice.invoice_id} is finalized but lacks its number or dates"
        )
    return True


def invoice_view(invoice: Invoice, seller: LegalEntity) -> InvoiceView:
    locale = invoice.customer.locale
    language = language_of(locale)
    t = labels_for(language)
    currency = invoice.currency
    is_draft = not is_finalized(invoice)
    credit_note = is_credit_note(invoice)

    def money(amount: Decimal) -> str:
        return format_money(amount, currency, locale)

    document_name = t["credit_note"] if credit_note else t["invoice"]
    due_date = format_date(invoice.due_date, locale) if invoice.due_date else ""
    facts = []
    if not is_draft:
        facts.append((t["invoice_number"], invoice.number or ""))
        facts.append((t["issue_date"], format_date(invoice.issue_date, locale)))  # type: ignore[arg-type]
        if not credit_note:
            facts.append((t["due_date"], due_date))
    facts.append(
        (t["billing_period"], _date_range(invoice.period_start, invoice.period_end, locale))
    )
    covered = invoice.invoicing_period
    if covered != (invoice.period_start, invoice.period_end):
        # A term billed in advance reaches past the month: the PDF states the period the
        # invoice covers, as its Factur-X XML does (BT-73/BT-74).
        facts.append((t["service_period"], _date_range(*covered, locale)))
    facts.append((t["customer_number"], neutralise_bidi_controls(invoice.customer.account_id)))
    if invoice.credited_invoice_number:
        facts.append((t["preceding_invoice"], invoice.credited_invoice_number))

    iban = format_iban(seller.bank.iban)
    if is_draft:
        payment_text = t["payment_terms"].format(days=invoice.payment_terms_days)
    elif credit_note:
        payment_text = t["credit_instruction"].format(amount=money(-invoice.gross_total))
    else:
        payment_text = t["payment_instruction"].format(
            amount=money(invoice.gross_total), due_date=due_date
        )
    payment_rows = []
    if not credit_note:
        if not is_draft:
            payment_rows.append((t["payment_reference"], invoice.number or ""))
        payment_rows += [
            (t["bank"], seller.bank.bank_name),
            (t["iban"], iban),
            (t["bic"], seller.bank.bic),
        ]

    seller_address = _address_lines(seller.address, locale)
    footer_first = " · ".join(
        [seller.name, ", ".join(seller_address)]
        + ([f"{t['vat_id']} {seller.vat_id}"] if seller.vat_id else [])
    )
    footer_second = " · ".join(
        ([seller.registration] if seller.registration else [])
        + [seller.bank.bank_name, f"{t['iban']} {iban}", f"{t['bic']} {seller.bank.bic}"]
    )
    return InvoiceView(
        language=language,
        t=t,
        title=f"{document_name} {invoice.number}"
        if not is_draft
        else f"{document_name} ({t['draft']}) {invoice.invoice_id}",
        document_name=document_name,
        number=None if is_draft else invoice.number,
        is_draft=is_draft,
        issue_day=None if is_draft else invoice.issue_date,
        seller_address=seller_address,
        customer_name=neutralise_bidi_controls(invoice.customer.name),
        customer_address=_address_lines(invoice.customer.address, locale),
        customer_vat_id=neutralise_bidi_controls(invoice.customer.vat_id)
        if invoice.customer.vat_id
        else None,
        facts=facts,
        lines=[
            LineView(
                position=position,
                description=neutralise_bidi_controls(line.description),
                # Only a line whose service differs from the billing period (a proration,
                # a one-off) says when it was delivered; the rest would repeat the header.
                service_period=None
                if (line.service_start, line.service_end)
                == (invoice.period_start, invoice.period_end)
                else _date_range(line.service_start, line.service_end, locale),
                quantity=_quantity(line.quantity, line.base_quantity, locale),
                unit_price=format_unit_price(line.unit_price, currency, locale),
                tax_rate=format_rate(line.tax_rate, locale),
                net_amount=money(line.net_amount),
            )
            for position, line in enumerate(invoice.lines, start=1)
        ],
        tax_rows=[
            TaxRowView(
                rate=format_rate(subtotal.tax_rate, locale),
                taxable_amount=money(subtotal.taxable_amount),
                tax_amount=money(subtotal.tax_amount),
                note=subtotal.exemption_reason or tax_note(subtotal.tax_category, language),
            )
            for subtotal in invoice.tax_breakdown
        ],
        net_total=money(invoice.net_total),
        tax_total=money(invoice.tax_total),
        gross_total=money(invoice.gross_total),
        payment_text=payment_text,
        payment_rows=payment_rows,
        footer_lines=[footer_first, footer_second],
        closing_note=seller.branding.footer_note_in(language),
    )


def _quantity(quantity: Decimal, base_quantity: Decimal, locale: str) -> str:
    """The quantity column: "15/30" when the price is per 30 (15 of 30 days of a term).

    Read as a fraction, quantity x unit price is then the amount printed beside it, which
    is what the reader checks (and what the Factur-X XML states as BT-129 and BT-149).
    """
    if base_quantity == 1:
        return format_quantity(quantity, locale)
    return f"{format_quantity(quantity, locale)}/{format_quantity(base_quantity, locale)}"


def _date_range(start: date, end: date, locale: str) -> str:
    return f"{format_date(start, locale)} – {format_date(end, locale)}"


def _address_lines(address: PostalAddress, locale: str) -> list[str]:
    """Postal order used across the EU: street lines, "postcode city", then the country name.

    The country is spelt out in the reader's language ("Deutschland", "Allemagne"): an ISO
    code on a letter is an invitation for a post office to misroute it.
    """
    city_line = " ".join(part for part in (address.postal_code, address.city) if part)
    if address.region:
        city_line = f"{address.city}, {address.region} {address.postal_code or ''}".strip()
    return [
        neutralise_bidi_controls(line)
        for line in (address.line1, address.line2, city_line, country_name(address.country, locale))
        if line
    ]
