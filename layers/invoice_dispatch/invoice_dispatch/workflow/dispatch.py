"""DispatchInvoice: e-mail each finalized invoice once, and only call it sent when SES says so.

Odoo #195327 marked invoices sent although the send call failed. Here the invoice is
claimed first (a conditional write: one sender ever), SES is called, and only SES's
message id turns it to ``sent``; throttling leaves it queued with the reason and the
chunk is retried by the state machine, skipping what was already sent. Each message is
tagged with its invoice, so SES's next event about it can record the message id if this
Lambda dies between SES's answer and the write (``lifecycle.py`` names the window that is left).
A refusal that retrying cannot fix (a malformed address) is a failed delivery, reported
and re-opened by an on-demand resend once the address is fixed.
"""

from __future__ import annotations

from datetime import UTC, datetime

from invoice_dispatch.adapters.aws_errors import transient_reason
from invoice_dispatch.errors import TransientError
from invoice_dispatch.invoice import DeliveryStatus, Invoice, InvoiceStatus
from invoice_dispatch.lifecycle import erp_settled
from invoice_dispatch.platform import Platform
from invoice_dispatch.rendering import RenderedEmail, render_invoice_email
from invoice_dispatch.run import RunContext
from invoice_dispatch.tracking import INVOICE_TAG, StoredInvoice, invoice_tag_value
from invoice_dispatch.workflow.finalize import ChunkOutcome
from invoice_dispatch.workflow.mime import build_message


def invoice_document(stored: StoredInvoice, platform: Platform) -> tuple[bytes | None, str]:
    """(PDF to attach, portal link): the link always, the PDF as the account's channel says.

    The invoice e-mail and every reminder carry it the same way, so a customer who asked
    for the portal never gets a 45 KB attachment with a reminder; the link is signed
    afresh for each message, so the newest e-mail always opens the page.
    """
    channel = stored.invoice.customer.channel
    attachment = (
        platform.documents.get_bytes(stored.pdf_key or "") if channel.attaches_pdf else None
    )
    return attachment, platform.portal_link(stored.invoice.account_id, datetime.now(UTC))


def customer_message(
    document: Invoice,
    recipient: str,
    email: RenderedEmail,
    attachment: bytes | None,
    platform: Platform,
) -> bytes:
    """The MIME message to the customer about ``document`` (an invoice or a credit note),
    its PDF attached when there is one, replies going to the seller."""
    return build_message(
        sender=platform.settings.sender_email,
        recipient=recipient,
        subject=email.subject,
        text_body=email.text_body,
        html_body=email.html_body,
        attachment_name=f"{document.number}.pdf" if attachment else None,
        attachment=attachment,
        reply_to=platform.legal_entity.email,
    )


def _message_for(stored: StoredInvoice, recipient: str, platform: Platform) -> bytes:
    attachment, portal_url = invoice_document(stored, platform)
    email = render_invoice_email(stored.invoice, platform.legal_entity, portal_url)
    return customer_message(stored.invoice, recipient, email, attachment, platform)


def dispatch_chunk(context: RunContext, invoice_ids: list[str], platform: Platform) -> ChunkOutcome:
    outcome = ChunkOutcome()
    still_queued: list[str] = []
    stored_by_id = platform.store.get_invoices(invoice_ids)
    for invoice_id in invoice_ids:
        stored = stored_by_id.get(invoice_id)
        if (
            stored is None
            or stored.invoice.status is not InvoiceStatus.FINALIZED
            or not stored.pdf_key
        ):
            outcome.failed[invoice_id] = "Not dispatched: the invoice was not finalized with a PDF"
            continue
        if not platform.store.claim_dispatch(invoice_id):
            outcome.skipped.append(invoice_id)
            continue
        recipient = (
            platform.settings.shadow_recipient
            if context.mode == "shadow"
            else stored.resend_to or stored.invoice.customer.email
        )
        try:
            message = _message_for(stored, recipient, platform)
            message_id = platform.mailer.send_raw(
                platform.settings.sender_email,
                recipient,
                message,
                {
                    "run_id": context.run_id,
                    "invoice_id": invoice_id.replace(":", "_"),
                    INVOICE_TAG: invoice_tag_value(invoice_id),
                    "mode": context.mode,
                },
            )
        except TransientError as error:
            platform.store.release_dispatch_claim(invoice_id, str(error))
            still_queued.append(invoice_id)
            continue
        except Exception as error:  # a permanent refusal is recorded, the chunk goes on
            if transient_reason(error):  # reading the PDF was throttled: still queued
                platform.store.release_dispatch_claim(invoice_id, str(error))
                still_queued.append(invoice_id)
                continue
            reason = f"E-mail not sent: {error}"
            platform.store.release_dispatch_claim(invoice_id, reason)
            platform.store.record_delivery_status(invoice_id, DeliveryStatus.FAILED, reason)
            platform.store.record_failure(invoice_id, reason)
            outcome.failed[invoice_id] = reason
            continue
        platform.store.record_sent(
            invoice_id, message_id, finished=erp_settled(stored), recipient=recipient
        )
        outcome.done.append(invoice_id)
    if still_queued:
        raise TransientError(
            f"{len(still_queued)} invoice(s) still queued after SES throttling: "
            f"{', '.join(still_queued[:5])}"
        )
    return outcome
