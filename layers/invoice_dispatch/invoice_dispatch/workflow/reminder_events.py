"""SES's events about a reminder land on the reminder's record, never on the invoice.

The configuration set sends every message's events to DeliveryEvents, invoices' and
reminders' alike. A reminder carries ``REMINDER_TAG`` (invoice number and stage) and
no invoice tag, so ``delivery_events.apply_ses_event`` would find no invoice to move and
drop it; the handler hands such events here instead. The same statuses and the same
order rules apply (a late "delivery" never overwrites a "bounce").
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from invoice_dispatch.platform import Platform
from invoice_dispatch.workflow.delivery_events import EVENT_STATUSES
from invoice_dispatch.workflow.reminders import REMINDER_TAG, reminder_from_tag


class ReminderDeliveryUpdate(BaseModel):
    message_id: str
    event_type: str
    number: str | None
    stage: int | None
    applied: bool


def reminder_tag(event: dict[str, Any]) -> str | None:
    values = event.get("mail", {}).get("tags", {}).get(REMINDER_TAG) or [""]
    return values[0] or None


def _detail(event: dict[str, Any], event_type: str) -> str:
    bounce = event.get("bounce", {})
    if bounce:
        return f"{bounce.get('bounceType', '')} bounce ({bounce.get('bounceSubType', '')})"
    return event_type


def apply_reminder_event(event: dict[str, Any], platform: Platform) -> ReminderDeliveryUpdate:
    event_type = event.get("eventType") or event.get("notificationType") or ""
    message_id = event.get("mail", {}).get("messageId", "")
    tagged = reminder_from_tag(reminder_tag(event) or "")
    new_status = EVENT_STATUSES.get(event_type)
    applied = False
    if tagged and new_status is not None:
        number, offset = tagged
        applied = platform.collections.record_reminder_delivery(
            number, offset, new_status, _detail(event, event_type), message_id
        )
    return ReminderDeliveryUpdate(
        message_id=message_id,
        event_type=event_type,
        number=tagged[0] if tagged else None,
        stage=tagged[1] if tagged else None,
        applied=applied,
    )
