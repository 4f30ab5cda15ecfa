"""SendReminders (one Map child per chunk): each due stage e-mailed once, in the customer's words.

Per reminder: decide again on fresh data (a payment may have arrived since the plan),
claim the stage with a conditional put (a second run the same day, or a retried chunk,
finds the claim and sends nothing), render it in the customer's language with what is
still open, attach the invoice as its e-mail did, and send it through the account's one
SES pace (``send_rate.SharedSendRate``), the same as invoices: reminders at 7 a.m. must
not starve the monthly run's invoices of SES's rate, nor the other way round.

Delivery is tracked with the same configuration set and events as invoices, but the
message is tagged with the *reminder* (``REMINDER_TAG``), never with the invoice tag:
a bounced reminder must not turn the invoice's own delivery into "bounced".

Throttling gives the claim back and fails the chunk for the state machine's retry (the
reminders already sent are skipped then); a permanent refusal (a malformed address) is
recorded on the reminder, and the stage counts as done: trying again tomorrow would
only fail again.
"""

from __future__ import annotations

import base64
from decimal import Decimal

from pydantic import BaseModel, Field

from invoice_dispatch.adapters.aws_errors import transient_reason
from invoice_dispatch.adapters.collections_store import Claim
from invoice_dispatch.collections.stages import Action, next_step
from invoice_dispatch.errors import TransientError
from invoice_dispatch.events import CollectionsRun
from invoice_dispatch.platform import Platform
from invoice_dispatch.rendering import render_reminder_email
from invoice_dispatch.tracking import StoredInvoice
from invoice_dispatch.workflow import keys
from invoice_dispatch.workflow.dispatch import customer_message, invoice_document

#: The SES message tag that ties a reminder (invoice number and stage) to its record.
REMINDER_TAG = "reminder_key"


def reminder_tag_value(number: str, offset: int) -> str:
    """Base32 without padding: SES tag values allow letters, digits, '_' and '-' only."""
    return base64.b32encode(f"{number}|{offset}".encode()).decode().rstrip("=")


def reminder_from_tag(value: str) -> tuple[str, int] | None:
    try:
        number, _, offset = (
            base64.b32decode(value + "=" * (-len(value) % 8)).decode().rpartition("|")
        )
        return number, int(offset)
    except (ValueError, UnicodeDecodeError):
        return None


class ReminderChunkResult(BaseModel):
    sent: list[tuple[str, int]] = Field(default_factory=list)
    skipped: dict[str, str] = Field(default_factory=dict)
    failed: dict[str, str] = Field(default_factory=dict)


def _send(
    stored: StoredInvoice,
    open_amount: Decimal,
    offset: int,
    run: CollectionsRun,
    platform: Platform,
) -> str:
    stage = platform.reminder_schedule.stage(offset)
    recipient = stored.resend_to or stored.invoice.customer.email
    attachment, portal_url = invoice_document(stored, platform)
    email = render_reminder_email(
        stored.invoice, open_amount, stage.tone.value, run.as_of, platform.legal_entity, portal_url
    )
    message = customer_message(stored.invoice, recipient, email, attachment, platform)
    return platform.mailer.send_raw(
        platform.settings.sender_email,
        recipient,
        message,
        {"kind": "reminder", REMINDER_TAG: reminder_tag_value(stored.invoice.number or "", offset)},
    )


def send_reminder_chunk(
    run: CollectionsRun, chunk_index: int, reminders: list[tuple[str, int]], platform: Platform
) -> ReminderChunkResult:
    result = ReminderChunkResult()
    collections = platform.collections
    fresh = collections.states(number for number, _ in reminders)
    invoice_ids = [fresh[number][0].invoice_id for number, _ in reminders if number in fresh]
    stored_by_id = platform.store.get_invoices(invoice_ids)
    still_queued: list[str] = []
    for number, offset in reminders:
        receivable, state = fresh.get(number, (None, None))
        if receivable is None or state is None:
            result.skipped[number] = "no longer a receivable"
            continue
        step = next_step(receivable, state, run.as_of, platform.reminder_schedule)
        if step.action is not Action.REMIND or step.stage is None or step.stage.offset != offset:
            result.skipped[number] = step.reason
            continue
        stored = stored_by_id.get(receivable.invoice_id)
        if stored is None or not stored.pdf_key:
            result.failed[number] = "The invoice or its PDF is missing: no reminder sent"
            continue
        recipient = stored.resend_to or stored.invoice.customer.email
        claim = collections.claim_reminder(number, offset, run, recipient)
        if claim is Claim.SENT_BY_THIS_RUN:  # this chunk is being retried
            result.sent.append((number, offset))
            continue
        if claim is not Claim.CLAIMED:
            result.skipped[number] = "reminded already"
            continue
        try:
            message_id = _send(stored, receivable.open_amount, offset, run, platform)
        except Exception as error:
            if isinstance(error, TransientError) or transient_reason(error):
                collections.release_reminder(number, offset)
                still_queued.append(number)
                continue
            reason = f"Reminder not sent: {error}"
            collections.record_reminder(number, offset, run.as_of, None, reason)
            result.failed[number] = reason
            continue
        collections.record_reminder(number, offset, run.as_of, message_id)
        result.sent.append((number, offset))
    platform.documents.put_json(
        f"{keys.collections_reminders_prefix(str(run.as_of))}{run.run_id}-{chunk_index:05d}.json",
        result,
    )
    if still_queued:
        raise TransientError(
            f"{len(still_queued)} reminder(s) still queued after SES throttling: "
            f"{', '.join(still_queued[:5])}"
        )
    return result
