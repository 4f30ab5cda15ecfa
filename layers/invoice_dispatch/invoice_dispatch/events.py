"""The payloads the state machine hands each Lambda: small, typed, ids only."""

from __future__ import annotations

import json
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field

from invoice_dispatch.run import RunContext


class StartRunEvent(BaseModel):
    input: dict[str, Any] = Field(default_factory=dict)
    execution_name: str
    started_at: str


class RunEvent(BaseModel):
    run: RunContext


class AccountChunkEvent(RunEvent):
    chunk_index: int
    chunk_key: str


class InvoiceChunkEvent(RunEvent):
    chunk_index: int
    invoice_ids: list[str]


class NumberingEvent(RunEvent):
    invoice_chunks_key: str


class ApprovalRequestEvent(RunEvent):
    task_token: str


class StepError(BaseModel):
    """What a Catch hands over: the error name and, for a Lambda, its error document."""

    Error: str = "Unknown"
    Cause: str = ""

    @property
    def message(self) -> str:
        """The sentence inside the Lambda's error document, without its stack trace."""
        try:
            document = json.loads(self.Cause)
        except ValueError:
            return self.Cause
        if isinstance(document, dict) and "errorMessage" in document:
            return str(document["errorMessage"])
        return self.Cause


class SummarizeEvent(RunEvent):
    outcome: Literal["completed", "rejected", "expired", "nothing_to_bill", "failed"]
    error: StepError | None = None


class ChunkFailureEvent(BaseModel):
    step: str
    invoice_ids: list[str]
    error: StepError


class CollectionsStartEvent(BaseModel):
    """The collections run's start: the scheduler's fire time, or a day given on demand.

    ``as_of`` is the simulated clock of a local run or a catch-up run for a missed day;
    otherwise the day is the scheduled time's (or the execution's start) date in the legal
    entity's time zone, so a retried execution keeps its day.
    """

    input: dict[str, Any] = Field(default_factory=dict)
    execution_name: str
    started_at: str


class CollectionsRun(BaseModel):
    run_id: str
    as_of: date


class ReminderChunkEvent(BaseModel):
    run: CollectionsRun
    chunk_index: int
    reminders: list[tuple[str, int]] = Field(description="(invoice number, stage offset)")


class ChargeChunkEvent(BaseModel):
    run: CollectionsRun
    chunk_index: int
    numbers: list[str] = Field(description="Invoice numbers whose auto-pay attempt is due")


class EscalateEvent(BaseModel):
    run: CollectionsRun
    escalation_plan_key: str


class CollectionsStepEvent(BaseModel):
    run: CollectionsRun
