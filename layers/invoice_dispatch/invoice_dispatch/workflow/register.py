"""The period's invoice register (CSV + PDF), written at the end of a live run and on demand.

One pass over the period index, a page of 100 invoices at a time: each page's credit
notes come in one batch read, each invoice's rows go straight into the CSV upload, and
only the totals (and, for the PDF, the rows of a small period or block summaries of a
large one) are kept. The SHA-256 in the register is the one the finalize step recorded
when it stored the PDF (``finalize._render_and_store``), never a hash of the object as it
is now: the verifier (``audit_verify``) compares the two.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from pydantic import BaseModel

from invoice_dispatch.audit.register import RegisterDigest, RegisterRow, csv_lines, register_rows
from invoice_dispatch.audit.series import NumberFormat
from invoice_dispatch.invoice import InvoiceStatus
from invoice_dispatch.platform import Platform
from invoice_dispatch.rendering.register_pdf import render_register_pdf
from invoice_dispatch.tracking import StoredInvoice
from invoice_dispatch.workflow import keys
from invoice_dispatch.workflow.delivery import chunked

#: The register is the legal record: live invoices only (shadow numbers are not issued).
REGISTER_MODE = "live"
_PAGE = 100


class RegisterWritten(BaseModel):
    csv_key: str
    pdf_key: str
    invoices: int
    credit_notes: int


def finalized_pages(platform: Platform, period: str) -> Iterator[list[StoredInvoice]]:
    """The period's numbered invoices, a page at a time (drafts, held and void have none)."""
    for page in chunked(platform.store.period_invoices(REGISTER_MODE, period), _PAGE):
        yield [
            stored
            for stored in page
            if stored.invoice.status is InvoiceStatus.FINALIZED and stored.invoice.number
        ]


def credit_notes_by_invoice(
    platform: Platform, page: list[StoredInvoice]
) -> dict[str, tuple[str, ...]]:
    """Per invoice number of the page, the numbers of the credit notes that corrected it."""
    credited = platform.corrections.credited_so_far_of([str(s.invoice.number) for s in page])
    return {number: so_far.credit_notes for number, so_far in credited.items()}


def write_period_register(period: str, platform: Platform, now: datetime) -> RegisterWritten:
    entity = platform.legal_entity
    digest = RegisterDigest(period, NumberFormat(entity.number_format, entity.code))

    def rows() -> Iterator[RegisterRow]:
        for page in finalized_pages(platform, period):
            notes = credit_notes_by_invoice(platform, page)
            for stored in page:
                number = str(stored.invoice.number)
                invoice_rows = register_rows(
                    stored.invoice, stored.pdf_sha256, notes.get(number, ())
                )
                digest.add_invoice(invoice_rows)
                yield from invoice_rows

    csv_key = keys.register(period, "csv")
    platform.documents.put_text_stream(csv_key, csv_lines(rows()), "text/csv; charset=utf-8")
    pdf_key = platform.documents.put_bytes(
        keys.register(period, "pdf"),
        render_register_pdf(digest, entity.name, now),
        "application/pdf",
        {"period": period, "invoices": str(digest.invoices)},
    )
    return RegisterWritten(
        csv_key=csv_key, pdf_key=pdf_key, invoices=digest.invoices, credit_notes=digest.credit_notes
    )
