"""The payloads the state machine hands each Lambda: small, typed, ids only."""

from __future__ import annotations

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


class ApprovalRequestEvent(RunEvent):
    task_token: str


class SummarizeEvent(RunEvent):
    outcome: Literal["completed", "rejected", "expired", "nothing_to_bill"]


class StepError(BaseModel):
    Error: str = "Unknown"
    Cause: str = ""


class ChunkFailureEvent(BaseModel):
    step: str
    invoice_ids: list[str]
    error: StepError
