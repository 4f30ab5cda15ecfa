"""Book one invoice exactly once, whatever happened to the previous attempt.

Peers got hurt here: NetSuite integrations that retried a timed-out create and booked the
invoice twice (Lago PR #5482). A timeout does not say whether the ERP committed, so the
only safe retry is to ask the ERP first. Looking up by external id before creating makes
a crash between the ERP's acceptance and our own record harmless: the next attempt finds
the entry and returns it with ``created=False``.
"""

from __future__ import annotations

from typing import Protocol

from invoice_dispatch.erp.booking import ErpBooking, ErpReceipt, build_booking
from invoice_dispatch.erp.mapping import ErpMapping
from invoice_dispatch.invoice import Invoice


class ErpClient(Protocol):
    """The port every ERP adapter implements (Tryton over JSON-RPC, generic HTTP JSON)."""

    def find_by_external_id(self, external_id: str) -> ErpReceipt | None:
        """The entry booked under our invoice number, or None if the ERP has none."""
        ...

    def create_invoice(self, booking: ErpBooking) -> ErpReceipt:
        """Create and post the entry; raises ErpTransientError or ErpPermanentError."""
        ...


def post_invoice_once(invoice: Invoice, mapping: ErpMapping, client: ErpClient) -> ErpReceipt:
    """Look up, then create: the mapping is checked before the ERP is touched at all."""
    booking = build_booking(invoice, mapping)
    existing = client.find_by_external_id(booking.external_id)
    if existing is not None:
        return existing
    return client.create_invoice(booking)
