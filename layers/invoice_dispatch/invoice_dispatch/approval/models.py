"""What the approval page, email and decision carry.

These are read models built by the run (from the drafts in the store), not the drafts
themselves: the page of a 10,000-invoice run must not need 10,000 full invoices, and a
summary must stay well under the 256 KB Step Functions payload if the lead passes it on.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from invoice_dispatch.invoice import RunMode

DraftSort = Literal["customer", "gross", "currency", "flags"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CurrencyTotal(_Frozen):
    """Totals are never summed across currencies: one row per currency billed."""

    currency: str = Field(pattern=r"^[A-Z]{3}$")
    net: Decimal
    tax: Decimal
    gross: Decimal
    invoice_count: int = Field(ge=0)


class ExcludedAccount(_Frozen):
    """An account deliberately not billed (paused, cancelled, not started yet)."""

    account_id: str
    reason: str


class QuarantinedAccount(_Frozen):
    """An account whose data was invalid; the reason is what someone must fix."""

    account_id: str
    reason: str


class FlaggedInvoice(_Frozen):
    invoice_id: str
    account_id: str
    customer_name: str
    gross_total: Decimal
    currency: str
    messages: list[str]
    held_by_rule: bool = False


class ApprovalSummary(_Frozen):
    run_id: str
    period: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    mode: RunMode
    legal_entity_name: str
    totals: list[CurrencyTotal]
    eligible_count: int = Field(ge=0)
    excluded: list[ExcludedAccount] = Field(default_factory=list)
    quarantined: list[QuarantinedAccount] = Field(default_factory=list)
    flagged: list[FlaggedInvoice] = Field(default_factory=list)
    held_by_rule_count: int = Field(default=0, ge=0)
    expires_at: AwareDatetime

    @property
    def draft_count(self) -> int:
        return sum(total.invoice_count for total in self.totals)

    @property
    def excluded_by_reason(self) -> list[tuple[str, int]]:
        """Reasons with their counts, most frequent first: what the page and email show."""
        counts = Counter(account.reason for account in self.excluded)
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


class DraftRow(_Frozen):
    """One line of the draft list: just enough to find, judge and hold an invoice."""

    invoice_id: str
    account_id: str
    customer_name: str
    currency: str
    net_total: Decimal
    tax_total: Decimal
    gross_total: Decimal
    flag_count: int = Field(default=0, ge=0)
    held_by_rule: bool = False


class DraftPage(_Frozen):
    rows: list[DraftRow]
    page: int = Field(ge=1)
    page_size: int = Field(ge=1)
    total_rows: int = Field(ge=0)
    sort: DraftSort
    descending: bool

    @property
    def page_count(self) -> int:
        return max(1, -(-self.total_rows // self.page_size))

    @property
    def first_row_number(self) -> int:
        return (self.page - 1) * self.page_size + 1 if self.rows else 0

    @property
    def last_row_number(self) -> int:
        return (self.page - 1) * self.page_size + len(self.rows)


class ApprovalDecision(_Frozen):
    """The approver's decision as it goes to the audit trail and to SendTaskSuccess/Failure.

    ``held_invoice_ids`` are the approver's own holds. Drafts held by a threshold rule
    stay held whatever the decision (as with auto-approve); they are released only by an
    on-demand run with ``release_held``.
    """

    decision: Literal["approve", "reject"]
    held_invoice_ids: list[str] = Field(default_factory=list)
    reason: str | None = None
    approver: str
    decided_at: AwareDatetime
    source_ip: str
    user_agent: str

    @property
    def held_count(self) -> int:
        return len(self.held_invoice_ids)


def as_utc_text(moment: datetime) -> str:
    """One display form for instants on pages and emails: approvers span time zones."""
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
