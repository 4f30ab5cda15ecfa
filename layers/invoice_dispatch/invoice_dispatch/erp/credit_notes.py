"""Credit notes into the ERP, exactly once, as documents of their own that settle the invoice.

A credit note is booked like an invoice (the same mapping, negative lines: revenue and tax
go back), and it names the invoice it credits so the ERP can settle one against the
other (Tryton: the credit note's receivable line paid into the invoice, reconciled when
nothing is left; a generic HTTP ERP: ``credited_invoice`` in the document). The external
id is the credit note's own number, looked up before creating, as for invoices
(``posting.py``): a retry after a timeout finds the first one.
"""

from __future__ import annotations

from typing import Protocol

from invoice_dispatch.erp.booking import ErpBooking, ErpReceipt, build_booking
from invoice_dispatch.erp.mapping import ErpMapping
from invoice_dispatch.invoice import Invoice


class ErpCreditNoteClient(Protocol):
    """Implemented by the same adapters as ``ErpClient`` (Tryton, generic HTTP)."""

    def find_credit_note(self, external_id: str, credited_invoice: str) -> ErpReceipt | None:
        """The credit note booked under this number (settled against its invoice), or None."""
        ...

    def create_credit_note(self, booking: ErpBooking, credited_invoice: str) -> ErpReceipt:
        """Book it and settle the invoice with it; ErpTransientError or ErpPermanentError."""
        ...


def post_credit_note_once(
    credit_note: Invoice, mapping: ErpMapping, client: ErpCreditNoteClient
) -> ErpReceipt:
    credited = credit_note.credited_invoice_number
    if credited is None:
        raise ValueError(f"{credit_note.number} credits no invoice: it is not a credit note")
    booking = build_booking(credit_note, mapping)
    existing = client.find_credit_note(booking.external_id, credited)
    if existing is not None:
        return existing
    return client.create_credit_note(booking, credited)
