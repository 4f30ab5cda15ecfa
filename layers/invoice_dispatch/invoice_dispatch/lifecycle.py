"""The invoice lifecycle, in one place: every stage, how it may move, and what it still needs.

"Zero accounts forgotten" only holds if a crash at any moment leaves an invoice in a
stage that says what is left to do, and some run later does exactly that. The document
itself moves draft -> finalized once (the number is committed in that transaction); after
that two independent tracks move on: the e-mail and the ERP booking. Each step writes
its move with a condition on the stage before it, so a retry or a second run can only
ever move an invoice forward.

    draft ──approve──> numbered ──PDF stored──> stored ──claim──> claimed ──SES id──> sent
      │ └─hold──> held ──release──> draft        (e-mail track)                  └─> delivered /
      └─reject/expire──> void                                                       bounced ...
                                 stored ──────────────ERP post──────────────> booked | refused
                                                      (ERP track, also from claimed / sent)

What an invoice in each intermediate stage still needs (``remaining_work``):

* numbered, no PDF stored     -> render and store the PDF, then e-mail, then book
* stored, e-mail not claimed  -> e-mail, book
* claimed, no SES message id  -> in doubt: SES may have accepted it. The configuration
  set's next event for the message (delivery, bounce, delay; tagged with the invoice)
  recovers the message id; if none arrived when the claim's lease ran out, the e-mail is
  sent again and counted "possibly sent twice" (SES has no idempotency key; this is the
  one at-least-once window).
* sent, ERP not booked        -> book (skipped in shadow runs or without an ERP)

An invoice is *finished* when its e-mail has an SES message id (or failed in a way a
person was told about) and its ERP track is booked, skipped or refused (refusals sit in
the ERP error queue for replay). Nothing numbered is ever left behind: every run is in
the store's unfinished index from its record's creation until its summary has put there
each invoice it left unfinished (and each approved draft it could not number); a run
that died before its summary is opened the same way by the next run, which reads the
index first (``workflow/resume.py``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from invoice_dispatch.invoice import DeliveryStatus, ErpStatus, InvoiceStatus
from invoice_dispatch.tracking import StoredInvoice


class Stage(StrEnum):
    """Where an invoice is, as a billing person would say it."""

    DRAFT = "draft"
    HELD = "held"
    VOID = "void"
    NUMBERED = "numbered"  # finalized with its number, PDF not stored yet
    STORED = "stored"  # PDF stored, e-mail not claimed yet
    CLAIMED = "claimed"  # e-mail claimed, SES's acceptance not recorded
    SENT = "sent"  # SES accepted (message id recorded) or delivered, not booked yet
    DELIVERY_FAILED = "delivery_failed"  # bounced, rejected or refused: reported, resend re-opens
    BOOKED = "booked"  # e-mailed and booked (or booking skipped): nothing left to do
    ERP_REFUSED = "erp_refused"  # e-mailed, but the ERP refused it: in the error queue


class Need(StrEnum):
    """One piece of work an invoice still needs; the step that does it is named after it."""

    RENDER = "render"
    SEND = "send"
    CONFIRM_SEND = "confirm_send"
    BOOK = "book"


#: E-mail moves. SES events may arrive twice or out of order, and a delivery report may
#: overtake the sender's own record of SES's answer; each status may only be entered from
#: the ones listed as leading to it, so a late "delivery" never overwrites a "bounce".
#: A failed delivery goes back to not queued only by an on-demand resend.
DELIVERY_TRANSITIONS: dict[DeliveryStatus, frozenset[DeliveryStatus]] = {
    DeliveryStatus.NOT_QUEUED: frozenset({DeliveryStatus.QUEUED}),
    DeliveryStatus.QUEUED: frozenset(
        {
            DeliveryStatus.SENT,
            DeliveryStatus.DELIVERED,
            DeliveryStatus.BOUNCED,
            DeliveryStatus.COMPLAINED,
            DeliveryStatus.REJECTED,
            DeliveryStatus.FAILED,
        }
    ),
    DeliveryStatus.SENT: frozenset(
        {
            DeliveryStatus.DELIVERED,
            DeliveryStatus.BOUNCED,
            DeliveryStatus.COMPLAINED,
            DeliveryStatus.REJECTED,
            DeliveryStatus.FAILED,
        }
    ),
    DeliveryStatus.DELIVERED: frozenset({DeliveryStatus.BOUNCED, DeliveryStatus.COMPLAINED}),
    DeliveryStatus.BOUNCED: frozenset({DeliveryStatus.NOT_QUEUED}),
    DeliveryStatus.COMPLAINED: frozenset({DeliveryStatus.NOT_QUEUED}),
    DeliveryStatus.REJECTED: frozenset({DeliveryStatus.NOT_QUEUED}),
    DeliveryStatus.FAILED: frozenset({DeliveryStatus.NOT_QUEUED}),
}

#: The e-mail failed and a person was told; an on-demand resend re-opens it.
FAILED_DELIVERY_STATUSES = frozenset(
    {
        DeliveryStatus.BOUNCED,
        DeliveryStatus.COMPLAINED,
        DeliveryStatus.REJECTED,
        DeliveryStatus.FAILED,
    }
)
_E_MAILED = frozenset({DeliveryStatus.SENT, DeliveryStatus.DELIVERED})
#: SES accepted the message (whatever happened to it next): the e-mails a run sent.
ACCEPTED_BY_SES = frozenset(
    {
        DeliveryStatus.SENT,
        DeliveryStatus.DELIVERED,
        DeliveryStatus.BOUNCED,
        DeliveryStatus.COMPLAINED,
        DeliveryStatus.REJECTED,
    }
)
_ERP_DONE = frozenset({ErpStatus.POSTED, ErpStatus.SKIPPED, ErpStatus.FAILED})


def delivery_entered_from(status: DeliveryStatus) -> tuple[str, ...]:
    """The e-mail statuses a move to ``status`` may start from (for conditional writes)."""
    return tuple(
        previous.value for previous, targets in DELIVERY_TRANSITIONS.items() if status in targets
    )


def delivery_settled(stored: StoredInvoice) -> bool:
    """The e-mail needs nothing more from a run: SES took it, or its failure was reported."""
    if stored.delivery_status in FAILED_DELIVERY_STATUSES:
        return True
    return stored.delivery_status in _E_MAILED and stored.ses_message_id is not None


def erp_settled(stored: StoredInvoice) -> bool:
    return stored.erp_status in _ERP_DONE


def stage_of(stored: StoredInvoice) -> Stage:
    status = stored.invoice.status
    if status is not InvoiceStatus.FINALIZED:
        return Stage(status.value)
    if not stored.pdf_key:
        return Stage.NUMBERED
    if stored.delivery_status in FAILED_DELIVERY_STATUSES:
        return Stage.DELIVERY_FAILED
    if not delivery_settled(stored):
        return Stage.CLAIMED if stored.dispatch_claimed else Stage.STORED
    if not erp_settled(stored):
        return Stage.SENT
    return Stage.ERP_REFUSED if stored.erp_status is ErpStatus.FAILED else Stage.BOOKED


def remaining_work(stored: StoredInvoice) -> list[Need]:
    """What a run still has to do for this invoice, in the order the steps do it."""
    if stored.invoice.status is not InvoiceStatus.FINALIZED:
        return []
    needs: list[Need] = []
    if not stored.pdf_key:
        needs.append(Need.RENDER)
    if not delivery_settled(stored):
        needs.append(Need.CONFIRM_SEND if stored.dispatch_claimed else Need.SEND)
    if not erp_settled(stored):
        needs.append(Need.BOOK)
    return needs


def is_finished(stored: StoredInvoice) -> bool:
    return stored.invoice.status is InvoiceStatus.FINALIZED and not remaining_work(stored)


def claim_expired(stored: StoredInvoice, now: datetime, lease: timedelta) -> bool:
    """A claim older than the lease outlived any sender: the Lambda that held it is gone."""
    claimed_at = stored.dispatch_claimed_at
    return claimed_at is not None and now - claimed_at >= lease


def describe(stored: StoredInvoice) -> str:
    """One sentence per stage, for run.json and the alert."""
    stage = stage_of(stored)
    number = stored.invoice.number or stored.invoice_id
    return {
        Stage.DRAFT: f"{number} is still a draft awaiting approval",
        Stage.HELD: f"{number} is held",
        Stage.VOID: f"{number} was voided",
        Stage.NUMBERED: f"{number} is numbered but its PDF was not stored",
        Stage.STORED: f"{number} is stored but was not e-mailed",
        Stage.CLAIMED: f"{number} was being e-mailed when the sender stopped; SES's answer "
        "is not known yet",
        Stage.SENT: f"{number} was e-mailed but is not booked in the ERP",
        Stage.DELIVERY_FAILED: f"{number}: the e-mail failed ({stored.delivery_status.value})",
        Stage.BOOKED: f"{number} is e-mailed and booked",
        Stage.ERP_REFUSED: f"{number}: the ERP refused it (in the ERP error queue)",
    }[stage]
