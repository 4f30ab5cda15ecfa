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
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from invoice_dispatch.approval.start_input import StartRunInput, describe_validation_error
from invoice_dispatch.errors import InvalidStartInput, PermanentError, RunAlreadyActive
from invoice_dispatch.platform import Platform
from invoice_dispatch.run import RunContext, RunStatus
from invoice_dispatch.workflow.drafting import previous_period


def period_before(moment: datetime, timezone: str) -> str:
    local = moment.astimezone(ZoneInfo(timezone))
    return previous_period(f"{local.year}-{local.month:02d}")


_DOING = {
    RunStatus.STARTED: "drafting",
    RunStatus.AWAITING_APPROVAL: "awaiting approval",
    RunStatus.APPROVED: "finalizing and sending",
}


def describe_lock_holder(holder: dict[str, Any], period: str, platform: Platform) -> str:
    run_id = str(holder.get("run_id"))
    run = platform.store.get_run(run_id) or {}
    doing = _DOING.get(RunStatus(run["status"]), "active") if "status" in run else "active"
    return (
        f"Run {run_id} for {period} is {doing} since {holder.get('since')}; nothing was done. "
        f'If that run is gone, start again with "break_lock": "{run_id}".'
    )


def start_run(
    raw_input: dict[str, Any], execution_name: str, started_at: str, platform: Platform
) -> RunContext:
    fields = dict(raw_input)
    scheduled = fields.get("detail-type") == "Scheduled Event"
    if scheduled:
        # The EventBridge rule passes its whole event: bill the month that just ended.
        scheduled_at = datetime.fromisoformat(str(fields["time"]).replace("Z", "+00:00"))
        fields = {
            "period": period_before(scheduled_at, platform.legal_entity.timezone),
            **(fields.get("detail") or {}),
        }
    try:
        start_input = StartRunInput.model_validate(fields)
    except ValidationError as error:
        raise InvalidStartInput(describe_validation_error(error)) from error
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
        scheduled=scheduled,
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
    holder = platform.store.acquire_period_lock(context.mode, period, context.run_id, started_at)
    if holder is not None:
        raise RunAlreadyActive(describe_lock_holder(holder, period, platform))
    platform.store.create_run(context, started_at)
    return context
