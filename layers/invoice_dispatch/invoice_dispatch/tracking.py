"""What happens to an invoice after it is written: the stored view beside the document.

The legal document (``Invoice``) is frozen once finalized; delivery and ERP state move
independently, so a bounce or a late ERP booking never rewrites the invoice itself.
"""

from __future__ import annotations

import base64
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from invoice_dispatch.invoice import DeliveryStatus, ErpStatus, Invoice

#: The SES message tag that ties a sent message to its invoice, even when the sender died
#: before recording SES's message id (the configuration set's events carry the tags).
INVOICE_TAG = "invoice_key"


def invoice_tag_value(invoice_id: str) -> str:
    """Base32 without padding: SES tag values allow only letters, digits, '_' and '-'."""
    return base64.b32encode(invoice_id.encode()).decode().rstrip("=")


def invoice_id_from_tag(value: str) -> str | None:
    try:
        return base64.b32decode(value + "=" * (-len(value) % 8)).decode()
    except (ValueError, UnicodeDecodeError):
        return None


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
    dispatch_claimed_at: datetime | None = None
    #: The e-mail was sent again after a claim whose SES answer never arrived (lifecycle.py).
    possibly_sent_twice: bool = False
    failure: str | None = None
    #: When it was numbered and when the ERP answered (the lifecycle's audit times): the
    #: run history's ERP posting latency is the time between the two.
    numbered_at: datetime | None = None
    erp_at: datetime | None = None

    @property
    def dispatch_claimed(self) -> bool:
        return self.dispatch_claimed_at is not None

    @property
    def invoice_id(self) -> str:
        return self.invoice.invoice_id
