"""Rendering of invoices for people and machines: the PDF/A-3 with Factur-X, and the e-mail.

Handlers build one ``InvoiceRenderer`` per cold start and call it per invoice; the
formatting helpers are exported because the approval page and reminders show the same
amounts and dates the PDF does.

``InvoiceRenderer`` is imported lazily: loading fontTools and subsetting the invoice fonts
costs about half a second of cold start, which the functions that only write e-mails or
format amounts (dispatch, reminders, approval page) should not pay.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from invoice_dispatch.rendering.email import (
    RenderedEmail,
    render_invoice_email,
    render_reminder_email,
)
from invoice_dispatch.rendering.facturx_xml import NotFinalizedError, build_facturx_xml
from invoice_dispatch.rendering.formatting import format_date, format_money
from invoice_dispatch.rendering.templates import templates_dir

if TYPE_CHECKING:
    from invoice_dispatch.rendering.pdf import InvoiceRenderer

__all__ = [
    "InvoiceRenderer",
    "NotFinalizedError",
    "RenderedEmail",
    "build_facturx_xml",
    "format_date",
    "format_money",
    "render_invoice_email",
    "render_reminder_email",
    "templates_dir",
]


def __getattr__(name: str) -> Any:
    if name == "InvoiceRenderer":
        from invoice_dispatch.rendering.pdf import InvoiceRenderer

        return InvoiceRenderer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
