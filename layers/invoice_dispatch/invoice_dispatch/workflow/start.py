"""StartRun: turn a schedule tick or a console request into a validated run.

A scheduled run on the 1st bills the month that just ended *in the legal entity's time
zone* (Lago #879 billed the wrong month from UTC); an on-demand run names its period.
Bad input ends the execution at once with a sentence saying what to fix.

Only one run per (period, mode) is active at a time: two runs started together would
split the drafts between two approval e-mails, which no approver can reason about. The
lock is a conditional write taken before anything else is written; a second start ends
at once with a sentence naming the run that holds it, having written nothing. The run's
summary releases it, whatever the outcome; a lock left by a crashed execution is broken
with ``{"period": ..., "break_lock": "<run id>"}``.

Scheduled fires (``{"schedule": {...}}``, from the template's schedules) also claim the
period's one *scheduled* run, a lock no summary releases: the scheduler delivers at least
once, and the business-day schedule fires every morning of its window, so a second fire
for a period ends quietly instead of starting a second run. A business-day fire before
the month's billing day ends quietly too, saying which day that is.

A ``MilestoneCompleted`` event starts a run for that one milestone part under a lock of
its own (``RunContext.lock_scope``): a second delivery while the first is still running
ends quietly with a sentence; one after it ended finds the part's invoice already drafted
(the conditional write), which the run report states.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from invoice_dispatch.approval.start_input import StartRunInput, describe_validation_error
from invoice_dispatch.errors import InvalidStartInput, PermanentError, RunAlreadyActive
from invoice_dispatch.milestone import MILESTONE_COMPLETED, MilestoneCompletedEvent, MilestoneRef
from invoice_dispatch.platform import Platform
from invoice_dispatch.run import RunContext, RunStatus
from invoice_dispatch.schedule import ScheduleKind, not_the_billing_day
from invoice_dispatch.workflow.drafting import previous_period

_Model = TypeVar("_Model", bound=BaseModel)


class ScheduledFire(BaseModel):
    """What the template's schedules put in the execution's input under ``schedule``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ScheduleKind
    #: The scheduler's own time for this fire: a delayed or retried start keeps its day.
    scheduled_time: datetime
    business_day: int | None = Field(default=None, ge=1, le=10)

    @model_validator(mode="after")
    def _business_day_named(self) -> ScheduledFire:
        if self.kind == "business-day" and self.business_day is None:
            raise ValueError("a business-day schedule must name its business_day (1-10)")
        return self


class StartIgnored(BaseModel):
    """A start that was not a run: the sentence says why (logged, counted, the output)."""

    ignored: str
    kind: Literal["schedule", "milestone"]


def local_month(moment: datetime, timezone: str) -> str:
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{local.year}-{local.month:02d}"


def period_before(moment: datetime, timezone: str) -> str:
    return previous_period(local_month(moment, timezone))


def scheduled_run_scope(period: str) -> str:
    """The lock scope of a period's one scheduled run (never released)."""
    return f"scheduled:{period}"


_DOING = {
    RunStatus.STARTED: "drafting",
    RunStatus.AWAITING_APPROVAL: "awaiting approval",
    RunStatus.APPROVED: "finalizing and sending",
}


def _what_the_holder_does(holder: dict[str, Any], platform: Platform) -> str:
    run = platform.store.get_run(str(holder.get("run_id"))) or {}
    doing = _DOING.get(RunStatus(run["status"]), "active") if "status" in run else "active"
    return f"{doing} since {holder.get('since')}"


def describe_lock_holder(holder: dict[str, Any], period: str, platform: Platform) -> str:
    run_id = str(holder.get("run_id"))
    return (
        f"Run {run_id} for {period} is {_what_the_holder_does(holder, platform)}; nothing was "
        f'done. If that run is gone, start again with "break_lock": "{run_id}".'
    )


def _validated(model: type[_Model], fields: Any) -> _Model:
    try:
        return model.model_validate(fields)
    except ValidationError as error:
        raise InvalidStartInput(describe_validation_error(error)) from error


def _start_fields(
    raw_input: dict[str, Any], platform: Platform
) -> tuple[dict[str, Any], ScheduledFire | None, MilestoneRef | None] | StartIgnored:
    """The run's input fields, from a console input, a scheduled fire or a milestone event."""
    timezone = platform.legal_entity.timezone
    if "schedule" in raw_input:
        fire = _validated(ScheduledFire, raw_input["schedule"])
        if fire.kind == "business-day":
            calendar = platform.legal_entity.holiday_calendar
            not_today = not_the_billing_day(
                fire.scheduled_time.astimezone(ZoneInfo(timezone)).date(),
                fire.business_day or 1,  # never None here: the model requires it
                calendar.country,
                calendar.subdivision,
            )
            if not_today:
                return StartIgnored(ignored=not_today, kind="schedule")
        return {"period": period_before(fire.scheduled_time, timezone)}, fire, None
    if raw_input.get("detail-type") == MILESTONE_COMPLETED:
        event = _validated(MilestoneCompletedEvent, raw_input)
        milestone = event.detail
        fields = {
            "period": local_month(event.time, timezone),
            "account_ids": [milestone.account_id],
        }
        return fields, None, milestone
    return dict(raw_input), None, None


def _take_locks(
    context: RunContext, fire: ScheduledFire | None, started_at: str, platform: Platform
) -> StartIgnored | None:
    """The period's scheduled-run claim (a scheduled fire), then the run's own lock."""
    store = platform.store
    if fire is not None:
        scope = scheduled_run_scope(context.period)
        claimant = store.acquire_period_lock(context.mode, scope, context.run_id, started_at)
        if claimant is not None:
            return StartIgnored(
                ignored=f"The scheduled run for {context.period} was started by run "
                f"{claimant.get('run_id')} at {claimant.get('since')}; this fire starts nothing.",
                kind="schedule",
            )
    holder = store.acquire_period_lock(context.mode, context.lock_scope, context.run_id, started_at)
    if holder is None:
        return None
    if fire is not None:  # the next fire in the window may start it once this run is gone
        store.release_period_lock(context.mode, scheduled_run_scope(context.period), context.run_id)
    if context.milestone is not None:
        return StartIgnored(
            ignored=f"The {context.milestone.describe()} is being billed by run "
            f"{holder.get('run_id')} ({_what_the_holder_does(holder, platform)}); this "
            "delivery of the event started nothing.",
            kind="milestone",
        )
    raise RunAlreadyActive(describe_lock_holder(holder, context.period, platform))


def start_run(
    raw_input: dict[str, Any], execution_name: str, started_at: str, platform: Platform
) -> RunContext | StartIgnored:
    start = _start_fields(raw_input, platform)
    if isinstance(start, StartIgnored):
        return start
    fields, fire, milestone = start
    start_input = _validated(StartRunInput, fields)
    if start_input.mode == "shadow" and not (
        start_input.account_ids or platform.settings.shadow_account_ids
    ):
        raise InvalidStartInput(
            "A shadow run bills a handful of named accounts: give account_ids in the input "
            "or configure SHADOW_ACCOUNT_IDS"
        )
    started = datetime.fromisoformat(started_at.replace("Z", "+00:00"))
    period = start_input.period or period_before(started, platform.legal_entity.timezone)
    context = RunContext(
        run_id=execution_name,
        period=period,
        mode=start_input.mode,
        account_ids=start_input.account_ids,
        currencies=start_input.currencies,
        release_held=start_input.release_held,
        resend_failed_deliveries=start_input.resend_failed_deliveries,
        replay_erp_errors=start_input.replay_erp_errors,
        resume_only=start_input.resume,
        auto_approve=platform.settings.auto_approve,
        approval_timeout_seconds=max(1, round(platform.settings.approval_ttl_hours * 3600)),
        milestone=milestone,
        scheduled=fire is not None,
    )
    try:
        platform.thresholds  # noqa: B018  (an unknown hold code stops the run here)
    except PermanentError as error:
        raise InvalidStartInput(str(error)) from error
    if platform.settings.erp_adapter != "none" and context.mode == "live":
        try:
            platform.erp_mapping  # noqa: B018  (validated at load: a bad mapping stops the run here)
        except ValueError as error:
            raise InvalidStartInput(f"The ERP mapping is not valid: {error}") from error
    if start_input.break_lock:
        platform.store.release_period_lock(context.mode, period, start_input.break_lock)
    ignored = _take_locks(context, fire, started_at, platform)
    if ignored is not None:
        return ignored
    platform.store.create_run(context, started_at)
    return context
