"""Whether a MilestoneCompleted event can bill the part it names, in a sentence if not.

A refused event makes no invoice, and the sentence goes to the run report (quarantined:
the event or the account data is wrong and a person must look) with a metric, so a
project tool that names an unknown contract is noticed rather than silently dropped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from invoice_dispatch.invoice import Invoice
from invoice_dispatch.milestone import MilestoneRef

if TYPE_CHECKING:  # account.py screens with this module's sentences
    from invoice_dispatch.billing.account import Account

_NOTHING_BILLED = "no invoice was made"


def unknown_contract(ref: MilestoneRef) -> str:
    return (
        f"MilestoneCompleted refused for {ref.describe()}: the account source has no "
        f"account {ref.account_id}; {_NOTHING_BILLED}."
    )


def milestone_refusal(account: Account, ref: MilestoneRef) -> str | None:
    """Why ``account`` cannot bill the completed part ``ref`` names, or None if it can."""
    refused = f"MilestoneCompleted refused for {ref.describe()}"
    milestone = next((m for m in account.milestones if m.milestone_id == ref.milestone_id), None)
    if milestone is None:
        known = ", ".join(m.milestone_id for m in account.milestones) or "none"
        return (
            f"{refused}: the account has no milestone {ref.milestone_id} (its milestones: "
            f"{known}); {_NOTHING_BILLED}."
        )
    if ref.part > len(milestone.parts):
        return (
            f"{refused}: milestone {ref.milestone_id} '{milestone.description}' has "
            f"{len(milestone.parts)} parts, so there is no part {ref.part}; {_NOTHING_BILLED}."
        )
    if milestone.billed_on != "completion":
        due = milestone.parts[ref.part - 1].due_period
        return (
            f"{refused}: milestone {ref.milestone_id} is billed with the monthly invoice of "
            f"its due month ({due}), not on completion; {_NOTHING_BILLED}."
        )
    return None


def already_billed(ref: MilestoneRef, invoice: Invoice) -> str:
    """The event came again (at-least-once delivery, or a tool that re-sends): say so."""
    what = f"invoice {invoice.number}" if invoice.number else f"the {invoice.status.value} draft"
    return (
        f"MilestoneCompleted refused for {ref.describe()}: it was already billed as {what} "
        f"by run {invoice.run_id}; no second invoice was made."
    )
