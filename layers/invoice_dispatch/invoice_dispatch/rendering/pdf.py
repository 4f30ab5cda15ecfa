"""The invoice document: PDF/A-3b with Factur-X inside, and the same invoice as HTML.

Rendering is the slow step of finalizing in most billing systems (peers report seconds
per invoice), and issue 7 gives it a budget of a few tens of milliseconds per invoice
including numbering and storage. A general HTML layout engine cannot meet that here
(WeasyPrint spends about a millisecond per text box; this invoice has about ninety), so
the PDF is drawn directly from the invoice's fixed design (``pdf_layout``) and written by
pydyf, WeasyPrint's own PDF writer (``pdf_document``). The renderer is built once per
cold start and keeps what does not depend on the invoice: subset fonts, the converted
logo, the brand colours and the HTML template.

``render_html`` gives the same invoice as a standalone HTML page (browser preview, and
the input of the naive WeasyPrint peer in ``bench/bench_rendering.py``); its stylesheet
``templates/invoice/invoice.css`` describes the same design the PDF layout draws.
"""

from __future__ import annotations

from pathlib import Path

from markupsafe import Markup

from invoice_dispatch.invoice import Invoice
from invoice_dispatch.legal_entity import LegalEntity
from invoice_dispatch.rendering.facturx_xml import (
    build_facturx_xml,
    facturx_applies,
    refuse_negative_invoice,
)
from invoice_dispatch.rendering.invoice_view import invoice_view
from invoice_dispatch.rendering.pdf_document import DocumentInfo, EmbeddedXml, colour, write_pdf
from invoice_dispatch.rendering.pdf_fonts import invoice_fonts
from invoice_dispatch.rendering.pdf_layout import Brand, InvoiceLayout
from invoice_dispatch.rendering.pdf_metadata import FACTURX_FILENAME
from invoice_dispatch.rendering.svg_logo import parse_logo
from invoice_dispatch.rendering.templates import jinja_environment, templates_dir

#: Factur-X 1.0 §6.2: the XML is the invoice's data; "Data" is the relationship for
#: the MINIMUM..EN 16931 profiles whose PDF is the human-readable original.
FACTURX_RELATIONSHIP = "Data"


class InvoiceRenderer:
    """Renders invoices of one legal entity; build once per cold start, reuse per invoice."""

    def __init__(self, legal_entity: LegalEntity, templates_path: Path | None = None) -> None:
        self._legal_entity = legal_entity
        self._fonts = invoice_fonts()
        branding = legal_entity.branding
        self._brand = Brand(
            primary=colour(branding.primary_colour),
            accent=colour(branding.accent_colour),
            logo=parse_logo(branding.logo_svg, self._fonts) if branding.logo_svg else None,
        )
        templates = templates_path or templates_dir()
        self._template = jinja_environment(templates).get_template("invoice/invoice.html")
        stylesheet = (templates / "invoice" / "invoice.css").read_text(encoding="utf-8")
        self._css_text = (
            f":root {{ --brand-primary: {branding.primary_colour}; "
            f"--brand-accent: {branding.accent_colour}; }}\n{stylesheet}"
        )

    def render_pdf(self, invoice: Invoice) -> bytes:
        """PDF/A-3b with Factur-X for a finalized invoice; a watermarked preview otherwise.

        A finalized invoice in a three-decimal currency is PDF/A-3b without Factur-X
        (``facturx_xml.facturx_applies`` says why).
        """
        view = invoice_view(invoice, self._legal_entity)
        pages = InvoiceLayout(view, self._legal_entity, self._brand, self._fonts).pages()
        # The issue date as document dates: the same invoice always yields the same bytes,
        # so a retried finalize stores an identical PDF under an identical SHA-256.
        info = DocumentInfo(view.title, self._legal_entity.name, view.language, view.issue_day)
        if view.is_draft:
            return write_pdf(pages, self._fonts, info, None)
        refuse_negative_invoice(invoice)
        if not facturx_applies(invoice.currency):
            return write_pdf(pages, self._fonts, info, None, archival=True)
        attachment = EmbeddedXml(
            filename=FACTURX_FILENAME,
            description=f"Factur-X invoice {invoice.number}",
            content=build_facturx_xml(invoice, self._legal_entity),
            relationship=FACTURX_RELATIONSHIP,
        )
        return write_pdf(pages, self._fonts, info, attachment)

    def render_html(self, invoice: Invoice) -> str:
        """The invoice as one self-contained HTML page (stylesheet inlined, text escaped)."""
        view = invoice_view(invoice, self._legal_entity)
        logo_svg = self._legal_entity.branding.logo_svg
        return self._template.render(
            view=view,
            t=view.t,
            seller=self._legal_entity,
            created=view.issue_day.isoformat() if view.issue_day else None,
            inline_css=Markup(self._css_text),
            # The logo is the legal entity's own configuration, not customer text.
            logo_svg=Markup(logo_svg) if logo_svg else None,
        )
