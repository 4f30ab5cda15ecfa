"""A milestone the project tool reports complete, and the keys that bill it exactly once.

The event names the account, the milestone (a project amount billed in parts, the
account's ``milestones[].milestone_id``) and which part was completed, by its position
in the account data. The position, not the label, is the identity: a label is optional
and free text, and two spellings of one milestone must never make two invoices.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MILESTONE_COMPLETED = "MilestoneCompleted"
#: Milestone invoice ids and run lock scopes start with this (``invoice.invoice_id_for``).
MILESTONE_KEY_PREFIX = "milestone:"


class MilestoneRef(BaseModel):
    """Which part of which account's milestone was completed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    account_id: str = Field(min_length=1, max_length=100, pattern=r"^\S+$")
    milestone_id: str = Field(min_length=1, max_length=100, pattern=r"^\S+$")
    part: int = Field(ge=1, le=100, description="1-based position of the completed part")

    @property
    def key(self) -> str:
        """One per milestone part, whatever the month: the invoice id and the run's lock."""
        return f"{MILESTONE_KEY_PREFIX}{self.account_id}:{self.milestone_id}:{self.part}"

    def describe(self) -> str:
        return f"milestone {self.milestone_id} part {self.part} of account {self.account_id}"


class MilestoneCompletedEvent(BaseModel):
    """The EventBridge event the project tool or CRM puts on the bus."""

    model_config = ConfigDict(populate_by_name=True)

    detail_type: Literal["MilestoneCompleted"] = Field(alias="detail-type")
    source: str
    time: datetime
    detail: MilestoneRef
