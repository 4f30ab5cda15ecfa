"""Rendering of invoices for people and machines: the PDF/A-3 with Factur-X, and the e-mail.

Handlers build one ``InvoiceRenderer`` per cold start and call it per invoice; the
formatting helpers are exported because the approval page and reminders show the same
amounts and dates the PDF does.
"""

from invoice_dispatch.rendering.email import RenderedEmail, render_invoice_email
from invoice_dispatch.rendering.facturx_xml import NotFinalizedError, build_facturx_xml
from invoice_dispatch.rendering.formatting import format_date, format_money
from invoice_dispatch.rendering.pdf import InvoiceRenderer
from invoice_dispatch.rendering.templates import templates_dir

__all__ = [
    "InvoiceRenderer",
    "NotFinalizedError",
    "RenderedEmail",
    "build_facturx_xml",
    "format_date",
    "format_money",
    "render_invoice_email",
    "templates_dir",
]
