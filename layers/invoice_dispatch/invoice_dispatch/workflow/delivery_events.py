"""DeliveryEvents: SES's reports (delivery, bounce, complaint, reject) move each invoice.

Events can arrive twice or out of order; each status may only be entered from the
states that precede it, so a late "delivery" never overwrites a "bounce" and a repeated
event changes nothing the second time.

Every event also closes the e-mail's ambiguity window: it carries the message's tags,
so when the sender died after SES accepted a message and before recording its id, the
tag names the invoice and the event's message id is recorded with its status, in the
same write. That is why the configuration set publishes no *Send* event: the outcome
(delivery, bounce, ...) or a *DeliveryDelay* arrives within minutes, well inside the
claim's lease, and each Send event would have cost an SNS publish, an invocation and a
read per e-mail for the rare crash it covers.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from invoice_dispatch.invoice import DeliveryStatus
from invoice_dispatch.lifecycle import FAILED_DELIVERY_STATUSES
from invoice_dispatch.platform import Platform
from invoice_dispatch.tracking import INVOICE_TAG, invoice_id_from_tag

#: SES eventType -> the e-mail status it moves the invoice to (lifecycle.py says from where)
EVENT_STATUSES: dict[str, DeliveryStatus] = {
    "Delivery": DeliveryStatus.DELIVERED,
    "Bounce": DeliveryStatus.BOUNCED,
    "Complaint": DeliveryStatus.COMPLAINED,
    "Reject": DeliveryStatus.REJECTED,
    "Rendering Failure": DeliveryStatus.FAILED,
}


class DeliveryUpdate(BaseModel):
    message_id: str
    event_type: str
    invoice_id: str | None
    new_status: DeliveryStatus | None
    applied: bool

    @property
    def is_failure(self) -> bool:
        return self.applied and self.new_status in FAILED_DELIVERY_STATUSES


def _detail(event: dict[str, Any]) -> str:
    if "bounce" in event:
        bounce = event["bounce"]
        recipients = ", ".join(
            r.get("emailAddress", "?") for r in bounce.get("bouncedRecipients", [])
        )
        kind = f"{bounce.get('bounceType', 'Bounce')} bounce ({bounce.get('bounceSubType', '')})"
        return f"{kind} for {recipients}"
    if "complaint" in event:
        feedback = event["complaint"].get("complaintFeedbackType", "abuse")
        return f"Recipient marked the e-mail as spam ({feedback})"
    if "reject" in event:
        return f"SES rejected the message: {event['reject'].get('reason', 'unknown reason')}"
    if "delivery" in event:
        return f"Delivered to {', '.join(event['delivery'].get('recipients', []))}"
    return event.get("eventType", "SES event")


def _tagged_invoice_id(event: dict[str, Any]) -> str | None:
    """Every message is tagged with its invoice, and SES repeats the tags on each event."""
    tag_values = event.get("mail", {}).get("tags", {}).get(INVOICE_TAG) or [""]
    return invoice_id_from_tag(tag_values[0]) if tag_values[0] else None


def _recover_message_id(
    message_id: str, event_type: str, invoice_id: str | None, platform: Platform
) -> DeliveryUpdate:
    """An event that moves no status (a delivery delay): record the message id if the
    sender never did. The write's condition is the check: no read first."""
    applied = invoice_id is not None and platform.store.record_sent(
        invoice_id, message_id, finished=False, from_event=True
    )
    return DeliveryUpdate(
        message_id=message_id,
        event_type=event_type,
        invoice_id=invoice_id,
        new_status=DeliveryStatus.SENT if applied else None,
        applied=applied,
    )


def apply_ses_event(event: dict[str, Any], platform: Platform) -> DeliveryUpdate:
    event_type = event.get("eventType") or event.get("notificationType") or ""
    message_id = event.get("mail", {}).get("messageId", "")
    invoice_id = _tagged_invoice_id(event)
    new_status = EVENT_STATUSES.get(event_type)
    if new_status is None and message_id:
        return _recover_message_id(message_id, event_type, invoice_id, platform)
    if invoice_id is None or new_status is None:
        return DeliveryUpdate(
            message_id=message_id,
            event_type=event_type,
            invoice_id=invoice_id,
            new_status=None,
            applied=False,
        )
    detail = _detail(event)
    applied = platform.store.record_delivery_status(invoice_id, new_status, detail, message_id)
    if applied and new_status is not DeliveryStatus.DELIVERED:  # a delivery keeps its own
        platform.store.append_audit(invoice_id, f"delivery_{new_status.value}", detail, "ses")
    return DeliveryUpdate(
        message_id=message_id,
        event_type=event_type,
        invoice_id=invoice_id,
        new_status=new_status,
        applied=applied,
    )
