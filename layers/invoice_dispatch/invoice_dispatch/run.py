"""The run: one execution of the monthly (or on-demand) billing job.

The run record is the approver's and the operator's view of a job: what was gathered,
what was excluded or quarantined and why, the approval decision, and the final counts.
Lists that grow with the number of accounts live in S3 (``screening.json``), not in
the record, because a DynamoDB item stops at 400 KB.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from invoice_dispatch.invoice import RunMode
from invoice_dispatch.milestone import MilestoneRef


class RunStatus(StrEnum):
    STARTED = "started"
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    COMPLETED = "completed"
    #: Ended, but some invoice is not accounted for (run.json lists each with its stage).
    INCOMPLETE = "incomplete"
    NOTHING_TO_BILL = "nothing_to_bill"
    FAILED = "failed"


class ScreenedOut(BaseModel):
    """An account that will not be billed in this run, and the sentence saying why."""

    model_config = ConfigDict(frozen=True)

    account_id: str
    reason: str


class Screening(BaseModel):
    """What GatherAccounts decided for every account in the source: nothing is dropped."""

    eligible_count: int = 0
    excluded: list[ScreenedOut] = Field(default_factory=list)
    quarantined: list[ScreenedOut] = Field(default_factory=list)


class RunContext(BaseModel):
    """What travels between states: ids and settings, never invoice bodies (256 KB limit)."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    period: str
    mode: RunMode
    account_ids: list[str] | None = None
    currencies: list[str] | None = None
    release_held: list[str] | Literal["all"] | None = None
    resend_failed_deliveries: bool = False
    replay_erp_errors: bool = False
    #: ``{"resume": true}``: only finish what earlier runs left half-done.
    resume_only: bool = False
    auto_approve: bool = False
    approval_timeout_seconds: int
    #: Started by the schedule (a monthly run), not by a person (an on-demand run).
    scheduled: bool = False
    #: A run started by a MilestoneCompleted event bills that one milestone part.
    milestone: MilestoneRef | None = None

    @property
    def lock_scope(self) -> str:
        """What only one run at a time may work on: the period, or one milestone part.

        Milestone runs lock their part, not the month: two milestones completed in one
        month each wait for their own approval, beside the monthly run.
        """
        return self.milestone.key if self.milestone else self.period


class CurrencyTotals(BaseModel):
    currency: str
    invoice_count: int = 0
    net_total: Decimal = Decimal(0)
    tax_total: Decimal = Decimal(0)
    gross_total: Decimal = Decimal(0)


class ApprovalRecord(BaseModel):
    decision: Literal["approve", "reject"]
    approver: str
    decided_at: datetime
    held_invoice_ids: list[str] = Field(default_factory=list)
    reason: str | None = None
    source_ip: str | None = None
    user_agent: str | None = None
