"""PlanReminders: decide, for every unsettled receivable, what today's collections run does.

One pass over the unsettled list (GSI4, index pages of about a hundred receivables with
their collection state) and nothing else: no per-invoice read. What to send goes to S3 in
chunks for the SendReminders Map, what to escalate to a plan file for Escalate: the
state between steps holds keys and counts only, whatever the number of receivables.

The plan is a proposal: each sender decides again on fresh data before it claims a stage
(a payment may arrive in between), and the claim itself is the conditional write that
makes a second run the same day send nothing (``collections_store.claim_reminder``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from invoice_dispatch.collections.stages import Action, next_step
from invoice_dispatch.errors import PermanentError
from invoice_dispatch.events import CollectionsRun, CollectionsStartEvent
from invoice_dispatch.platform import Platform
from invoice_dispatch.workflow import keys


class PlanResult(BaseModel):
    run: CollectionsRun
    reminder_chunks_key: str
    reminder_chunks: int
    escalation_plan_key: str
    reminders: dict[str, int] = Field(default_factory=dict)
    escalations: int = 0
    skipped: dict[str, int] = Field(default_factory=dict)
    planned_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


def collections_day(event: CollectionsStartEvent, timezone: str) -> date:
    """The run's "today": an explicit ``as_of``, else the schedule's (or start's) local date."""
    given = event.input.get("as_of")
    if given:
        try:
            return date.fromisoformat(str(given))
        except ValueError:
            raise PermanentError(f"as_of must be a date like 2026-12-30, not {given!r}") from None
    fired = str(event.input.get("scheduled_time") or event.started_at)
    moment = datetime.fromisoformat(fired.replace("Z", "+00:00"))
    return moment.astimezone(ZoneInfo(timezone)).date()


def plan_collections(event: CollectionsStartEvent, platform: Platform) -> PlanResult:
    run = CollectionsRun(
        run_id=event.execution_name,
        as_of=collections_day(event, platform.legal_entity.timezone),
    )
    schedule = platform.reminder_schedule
    reminders: list[tuple[str, int]] = []
    escalate: dict[str, list[str]] = {}
    result = PlanResult(
        run=run,
        reminder_chunks_key=keys.collections_reminder_chunks(str(run.as_of), run.run_id),
        reminder_chunks=0,
        escalation_plan_key=keys.collections_escalation_plan(str(run.as_of), run.run_id),
    )
    for receivable, state in platform.collections.unsettled():
        step = next_step(receivable, state, run.as_of, schedule)
        if step.action is Action.REMIND and step.stage is not None:
            reminders.append((receivable.number, step.stage.offset))
            label = step.stage.label
            result.reminders[label] = result.reminders.get(label, 0) + 1
        elif step.action is Action.ESCALATE:
            escalate.setdefault(receivable.account_id, []).append(receivable.number)
        else:
            result.skipped[step.reason] = result.skipped.get(step.reason, 0) + 1
    size = platform.settings.chunk_size
    chunks = [
        {"chunk_index": index, "reminders": reminders[start : start + size]}
        for index, start in enumerate(range(0, len(reminders), size))
    ]
    result.reminder_chunks = platform.documents.put_json_stream(result.reminder_chunks_key, chunks)
    platform.documents.put_json(
        result.escalation_plan_key,
        [{"account_id": account, "numbers": numbers} for account, numbers in escalate.items()],
    )
    result.escalations = len(escalate)
    platform.documents.put_json(keys.collections_plan(str(run.as_of), run.run_id), result)
    return result
