"""What happens to an invoice after it is written: the stored view beside the document.

The legal document (``Invoice``) is frozen once finalized; delivery and ERP state move
independently, so a bounce or a late ERP booking never rewrites the invoice itself.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from invoice_dispatch.invoice import DeliveryStatus, ErpStatus, Invoice


class StoredInvoice(BaseModel):
    model_config = ConfigDict(frozen=True)

    invoice: Invoice
    delivery_status: DeliveryStatus = DeliveryStatus.NOT_QUEUED
    delivery_detail: str | None = None
    ses_message_id: str | None = None
    erp_status: ErpStatus = ErpStatus.NOT_POSTED
    erp_id: str | None = None
    erp_detail: str | None = None
    pdf_key: str | None = None
    pdf_sha256: str | None = None
    hold_reason: str | None = None
    held_by: str | None = None
    resend_to: str | None = None
    hold_waived: bool = False
    dispatch_claimed: bool = False
    failure: str | None = None

    @property
    def invoice_id(self) -> str:
        return self.invoice.invoice_id
