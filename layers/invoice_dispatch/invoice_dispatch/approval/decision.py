"""Turning the posted approval form into a decision, or a readable refusal.

The form is the only input that changes a run, so it is parsed strictly: exactly one
decision, holds that name drafts of this run, a reason for a rejection. A form that
holds invoices but was sent with "Approve all" is refused rather than guessed at: the
approver's checked boxes must never be silently ignored.
"""

from __future__ import annotations

from collections.abc import Container, Mapping, Sequence
from datetime import datetime

from invoice_dispatch.approval._signing import require_aware
from invoice_dispatch.approval.errors import InvalidDecision
from invoice_dispatch.approval.models import ApprovalDecision

#: The submit buttons' values on the summary page.
APPROVE_ALL = "approve"
APPROVE_WITH_HOLDS = "approve_with_holds"
REJECT = "reject"
#: Form field names shared with the template.
DECISION_FIELD = "decision"
HOLD_FIELD = "hold"
REASON_FIELD = "reason"
FORM_TOKEN_FIELD = "form_token"

MAX_REASON_LENGTH = 2000


def parse_decision_form(
    form: Mapping[str, Sequence[str]],
    known_invoice_ids: Container[str],
    approver: str,
    source_ip: str,
    user_agent: str,
    now: datetime,
) -> ApprovalDecision:
    """``form`` is ``urllib.parse.parse_qs`` output; the form token is checked by the caller."""
    require_aware(now, "now")
    decisions = {value.strip() for value in form.get(DECISION_FIELD, ()) if value.strip()}
    if len(decisions) != 1:
        raise InvalidDecision(
            "Choose one decision: approve all, approve while holding the checked invoices, "
            "or reject."
        )
    (choice,) = decisions
    if choice not in (APPROVE_ALL, APPROVE_WITH_HOLDS, REJECT):
        raise InvalidDecision(f"'{choice[:40]}' is not a decision this page offers.")

    held_invoice_ids = list(
        dict.fromkeys(value.strip() for value in form.get(HOLD_FIELD, ()) if value.strip())
    )
    unknown = [invoice_id for invoice_id in held_invoice_ids if invoice_id not in known_invoice_ids]
    if unknown:
        shown = ", ".join(invoice_id[:80] for invoice_id in unknown[:3])
        more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
        raise InvalidDecision(
            f"Invoice {shown}{more} is not a draft of this run, so it cannot be held. "
            "Reload the page and try again."
        )

    reason = "\n".join(form.get(REASON_FIELD, ())).strip() or None
    if reason is not None and len(reason) > MAX_REASON_LENGTH:
        raise InvalidDecision(f"Please keep the reason under {MAX_REASON_LENGTH} characters.")

    if choice == REJECT:
        if reason is None:
            raise InvalidDecision(
                "A rejection needs a reason, so the billing team knows what to fix."
            )
        held_invoice_ids = []
    elif choice == APPROVE_WITH_HOLDS and not held_invoice_ids:
        raise InvalidDecision(
            "You chose to approve while holding invoices, but none were checked. "
            "Check the invoices to hold, or choose 'Approve all'."
        )
    elif choice == APPROVE_ALL and held_invoice_ids:
        raise InvalidDecision(
            f"You checked {len(held_invoice_ids)} invoice(s) to hold but chose 'Approve all'. "
            "Choose 'Approve, holding the checked invoices', or uncheck them."
        )

    return ApprovalDecision(
        decision="reject" if choice == REJECT else "approve",
        held_invoice_ids=held_invoice_ids,
        reason=reason,
        approver=approver,
        decided_at=now,
        source_ip=source_ip,
        user_agent=user_agent[:512],
    )
