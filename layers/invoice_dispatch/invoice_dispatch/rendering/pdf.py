"""The invoice PDF: branded HTML laid out by WeasyPrint, PDF/A-3b with Factur-X inside.

Rendering is the slow step of finalizing (peers report seconds per invoice), so the
renderer is built once per cold start and keeps everything that does not depend on the
invoice: the Jinja template, the parsed stylesheets (the invoice's and a user-agent
stylesheet cut down to the elements it uses), the font configuration and the decoded
logo. WeasyPrint spends about a millisecond per element and per line of text on this
machine class, so the template is written for few boxes (see ``invoice.css``).

The Factur-X XML is attached by WeasyPrint itself while it writes the PDF, with the
relationship and XMP metadata the Factur-X specification asks for; the factur-x library's
``generate_from_binary`` would re-parse and rewrite the whole PDF with pypdf afterwards,
which costs more than the layout (see ``bench/bench_rendering.py``).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, SubElement, fromstring, register_namespace, tostring

from markupsafe import Markup
from weasyprint import CSS, HTML, Attachment
from weasyprint.document import DocumentMetadata
from weasyprint.text.fonts import FontConfiguration

from invoice_dispatch.invoice import Invoice, InvoiceStatus, PostalAddress
from invoice_dispatch.legal_entity import LegalEntity
from invoice_dispatch.rendering.facturx_xml import NotFinalizedError, build_facturx_xml
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
from invoice_dispatch.rendering.templates import jinja_environment, templates_dir

PDF_VARIANT = "pdf/a-3b"
FACTURX_FILENAME = "factur-x.xml"
#: Factur-X 1.0 §6.2: the XML is the invoice's data; "Data" is the relationship for
#: the MINIMUM..EN 16931 profiles whose PDF is the human-readable original.
FACTURX_RELATIONSHIP = "Data"
FACTURX_XMP_NAMESPACE = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"
FACTURX_CONFORMANCE_LEVEL = "EN 16931"

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
PDFA_EXTENSION = "http://www.aiim.org/pdfa/ns/extension/"
PDFA_SCHEMA = "http://www.aiim.org/pdfa/ns/schema#"
PDFA_PROPERTY = "http://www.aiim.org/pdfa/ns/property#"
for _prefix, _uri in (
    ("pdfaExtension", PDFA_EXTENSION),
    ("pdfaSchema", PDFA_SCHEMA),
    ("pdfaProperty", PDFA_PROPERTY),
    ("fx", FACTURX_XMP_NAMESPACE),
):
    register_namespace(_prefix, _uri)

#: The four fx: properties, declared in an extension schema because PDF/A forbids
#: undeclared XMP properties (ISO 19005-3, 6.6.2.3).
_FACTURX_XMP_PROPERTIES: tuple[tuple[str, str, str], ...] = (
    ("DocumentFileName", "The name of the embedded XML document", FACTURX_FILENAME),
    ("DocumentType", "The type of the hybrid document in capital letters, e.g. INVOICE", "INVOICE"),
    ("Version", "The actual version of the standard applying to the embedded XML document", "1.0"),
    (
        "ConformanceLevel",
        "The conformance level of the embedded XML document",
        FACTURX_CONFORMANCE_LEVEL,
    ),
)


class _InvoiceHTML(HTML):
    """An HTML document laid out with the invoice's own user-agent stylesheet.

    WeasyPrint matches every element against its full HTML5 user-agent stylesheet;
    ``templates/invoice/invoice-ua.css`` keeps the rules for the elements the invoice
    uses, with the same values. ``_ua_stylesheets`` is the method ``HTML.render`` asks
    for those sheets (WeasyPrint's own test suite overrides it the same way); should a
    release rename it, the override is not called and the full stylesheet applies:
    slower, same page.
    """

    invoice_ua_stylesheets: list[CSS]

    def _ua_stylesheets(self, forms: bool = False) -> list[CSS]:
        return self.invoice_ua_stylesheets


class FacturXMetadata(DocumentMetadata):
    """WeasyPrint's PDF/A XMP packet plus the Factur-X extension schema and fx: values.

    Subclassing keeps a single ``rdf:RDF`` element in the packet, as XMP requires, where
    WeasyPrint's ``xmp_metadata`` option would append a second one.
    """

    def generate_rdf_metadata(self, variant: str, version: int, conformance: str) -> bytes:
        rdf_root = fromstring(super().generate_rdf_metadata(variant, version, conformance))
        rdf_root.append(_facturx_extension_schema())
        values = SubElement(rdf_root, f"{{{RDF}}}Description", {f"{{{RDF}}}about": ""})
        for name, _description, value in _FACTURX_XMP_PROPERTIES:
            SubElement(values, f"{{{FACTURX_XMP_NAMESPACE}}}{name}").text = value
        return tostring(rdf_root, encoding="utf-8")


@dataclass(frozen=True)
class _LineView:
    position: int
    description: str
    service_period: str | None
    quantity: str
    unit_price: str
    tax_rate: str
    net_amount: str


@dataclass(frozen=True)
class _TaxRowView:
    rate: str
    taxable_amount: str
    tax_amount: str
    note: str | None


class InvoiceRenderer:
    """Renders invoices of one legal entity; build once per cold start, reuse per invoice."""

    def __init__(self, legal_entity: LegalEntity, templates_path: Path | None = None) -> None:
        self._legal_entity = legal_entity
        self._templates_path = templates_path or templates_dir()
        environment = jinja_environment(self._templates_path)
        template_source = (self._templates_path / "invoice" / "invoice.html").read_text(
            encoding="utf-8"
        )
        self._template = environment.from_string(_compact_markup(template_source))
        branding = legal_entity.branding
        stylesheet_text = (self._templates_path / "invoice" / "invoice.css").read_text(
            encoding="utf-8"
        )
        self._css_text = (
            f":root {{ --brand-primary: {branding.primary_colour}; "
            f"--brand-accent: {branding.accent_colour}; }}\n{stylesheet_text}"
        )
        self._base_url = str(self._templates_path / "invoice") + "/"
        self._font_config = FontConfiguration()
        self._stylesheets = [CSS(string=self._css_text, font_config=self._font_config)]
        self._ua_stylesheets = [
            CSS(filename=str(self._templates_path / "invoice" / "invoice-ua.css"))
        ]
        self._image_cache: dict[str, Any] = {}
        self._color_profiles: dict[str, Any] = {}
        self._logo_src = (
            "data:image/svg+xml;base64,"
            + base64.b64encode(branding.logo_svg.encode("utf-8")).decode("ascii")
            if branding.logo_svg
            else None
        )

    def render_html(self, invoice: Invoice) -> str:
        """The invoice as one self-contained HTML page (stylesheet inlined).

        ``render_pdf`` lays out the same markup with the pre-parsed stylesheets instead of
        the inline copy; the page is the same, only cheaper.
        """
        return self._html(invoice, inline_css=True)

    def render_pdf(self, invoice: Invoice) -> bytes:
        """PDF/A-3b with Factur-X for a finalized invoice; a watermarked preview otherwise."""
        html = _InvoiceHTML(string=self._html(invoice, inline_css=False), base_url=self._base_url)
        html.invoice_ua_stylesheets = self._ua_stylesheets
        if not _is_finalized(invoice):
            return html.write_pdf(
                stylesheets=self._stylesheets,
                font_config=self._font_config,
                color_profiles=self._color_profiles,
                cache=self._image_cache,
            )
        facturx_xml = build_facturx_xml(invoice, self._legal_entity)
        document = html.render(
            stylesheets=self._stylesheets,
            font_config=self._font_config,
            color_profiles=self._color_profiles,
            cache=self._image_cache,
            pdf_variant=PDF_VARIANT,
        )
        document.metadata = FacturXMetadata(**vars(document.metadata))
        # The issue date as attachment timestamps: the same invoice always yields the same
        # bytes, so a retried finalize stores an identical PDF under an identical SHA-256.
        issued_at = datetime.combine(_issue_date(invoice), time(0, 0))
        attachment = Attachment(
            string=facturx_xml,
            name=FACTURX_FILENAME,
            description=f"Factur-X invoice {invoice.number}",
            relationship=FACTURX_RELATIONSHIP,
            created=issued_at,
            modified=issued_at,
        )
        return document.write_pdf(
            pdf_variant=PDF_VARIANT,
            attachments=[attachment],
            finisher=_deduplicate_associated_files,
        )

    def _html(self, invoice: Invoice, *, inline_css: bool) -> str:
        locale = invoice.customer.locale
        language = language_of(locale)
        labels = labels_for(language)
        currency = invoice.currency
        is_draft = not _is_finalized(invoice)

        def money(amount: Decimal) -> str:
            return format_money(amount, currency, locale)

        period = _date_range(invoice.period_start, invoice.period_end, locale)
        lines = [
            _LineView(
                position=position,
                description=line.description,
                # Only a line whose service differs from the billing period (a proration,
                # a one-off) says when it was delivered; the rest would repeat the header.
                service_period=None
                if (line.service_start, line.service_end)
                == (invoice.period_start, invoice.period_end)
                else _date_range(line.service_start, line.service_end, locale),
                quantity=format_quantity(line.quantity, locale),
                unit_price=format_unit_price(line.unit_price, currency, locale),
                tax_rate=format_rate(line.tax_rate, locale),
                net_amount=money(line.net_amount),
            )
            for position, line in enumerate(invoice.lines, start=1)
        ]
        tax_rows = [
            _TaxRowView(
                rate=format_rate(subtotal.tax_rate, locale),
                taxable_amount=money(subtotal.taxable_amount),
                tax_amount=money(subtotal.tax_amount),
                note=subtotal.exemption_reason or tax_note(subtotal.tax_category, language),
            )
            for subtotal in invoice.tax_breakdown
        ]
        credit_note = is_credit_note(invoice)
        document_name = labels["credit_note"] if credit_note else labels["invoice"]
        title = (
            f"{document_name} {invoice.number}"
            if not is_draft
            else f"{document_name} ({labels['draft']}) {invoice.invoice_id}"
        )
        due_date = format_date(invoice.due_date, locale) if invoice.due_date else ""
        return self._template.render(
            language=language,
            t=labels,
            title=title,
            created=_issue_date(invoice).isoformat() if not is_draft else None,
            inline_css=Markup(self._css_text) if inline_css else None,
            is_draft=is_draft,
            logo_src=self._logo_src,
            seller=self._legal_entity,
            seller_address=_address_lines(self._legal_entity.address, locale),
            customer=invoice.customer,
            customer_address=_address_lines(invoice.customer.address, locale),
            invoice=invoice,
            issue_date=format_date(invoice.issue_date, locale) if invoice.issue_date else "",
            due_date=due_date,
            billing_period=period,
            lines=lines,
            tax_rows=tax_rows,
            net_total=money(invoice.net_total),
            tax_total=money(invoice.tax_total),
            gross_total=money(invoice.gross_total),
            document_name=document_name,
            is_credit_note=credit_note,
            payment_instruction=labels["credit_instruction"].format(
                amount=money(-invoice.gross_total)
            )
            if credit_note
            else labels["payment_instruction"].format(
                amount=money(invoice.gross_total), due_date=due_date
            ),
            payment_terms=labels["payment_terms"].format(days=invoice.payment_terms_days),
            iban=format_iban(self._legal_entity.bank.iban),
        )


def _compact_markup(template_source: str) -> str:
    """The template without the indentation and line breaks between its tags.

    WeasyPrint's pure-Python HTML parser and box builder handle every whitespace run
    between tags as a text node before dropping it; the template keeps its readable
    indentation and the PDF path skips that work. Only a line break between a tag (or a
    Jinja statement) and the next one goes: text content keeps its spaces.
    """
    return _BETWEEN_TAGS.sub(r"\1\2", template_source)


_BETWEEN_TAGS = re.compile(r"(>|%\}|#\})\s*\n\s*(<|\{%|\{#)")


def _deduplicate_associated_files(_document: Any, pdf: Any) -> None:
    """WeasyPrint 70 lists each attachment twice in the catalog's /AF array (once from the
    EmbeddedFiles name tree, once from the file specification); PDF/A validators expect
    each associated file once."""
    associated_files = pdf.catalog.get("AF")
    if associated_files:
        unique_references = list(dict.fromkeys(associated_files))
        associated_files.clear()
        associated_files.extend(unique_references)


def _date_range(start: date, end: date, locale: str) -> str:
    return f"{format_date(start, locale)} – {format_date(end, locale)}"


def _is_finalized(invoice: Invoice) -> bool:
    if invoice.status is not InvoiceStatus.FINALIZED:
        return False
    if invoice.number is None or invoice.issue_date is None or invoice.due_date is None:
        raise NotFinalizedError(
            f"Invoice {invoice.invoice_id} is finalized but lacks its number or dates"
        )
    return True


def _issue_date(invoice: Invoice) -> date:
    assert invoice.issue_date is not None, "checked by _is_finalized"
    return invoice.issue_date


def _address_lines(address: PostalAddress, locale: str) -> list[str]:
    """Postal order used across the EU: street lines, "postcode city", then the country name.

    The country is spelt out in the reader's language ("Deutschland", "Allemagne"): an ISO
    code on a letter is an invitation for a post office to misroute it.
    """
    city_line = " ".join(part for part in (address.postal_code, address.city) if part)
    if address.region:
        city_line = f"{address.city}, {address.region} {address.postal_code or ''}".strip()
    return [
        line
        for line in (address.line1, address.line2, city_line, country_name(address.country, locale))
        if line
    ]


def _facturx_extension_schema() -> Element:
    description = Element(f"{{{RDF}}}Description", {f"{{{RDF}}}about": ""})
    schemas = SubElement(description, f"{{{PDFA_EXTENSION}}}schemas")
    bag = SubElement(schemas, f"{{{RDF}}}Bag")
    schema = SubElement(bag, f"{{{RDF}}}li", {f"{{{RDF}}}parseType": "Resource"})
    SubElement(schema, f"{{{PDFA_SCHEMA}}}schema").text = "Factur-X PDFA Extension Schema"
    SubElement(schema, f"{{{PDFA_SCHEMA}}}namespaceURI").text = FACTURX_XMP_NAMESPACE
    SubElement(schema, f"{{{PDFA_SCHEMA}}}prefix").text = "fx"
    properties = SubElement(SubElement(schema, f"{{{PDFA_SCHEMA}}}property"), f"{{{RDF}}}Seq")
    for name, text, _value in _FACTURX_XMP_PROPERTIES:
        prop = SubElement(properties, f"{{{RDF}}}li", {f"{{{RDF}}}parseType": "Resource"})
        SubElement(prop, f"{{{PDFA_PROPERTY}}}name").text = name
        SubElement(prop, f"{{{PDFA_PROPERTY}}}valueType").text = "Text"
        SubElement(prop, f"{{{PDFA_PROPERTY}}}category").text = "external"
        SubElement(prop, f"{{{PDFA_PROPERTY}}}description").text = text
    return description
