"""StartRun: turn a schedule tick or a console request into a validated run.

A scheduled run on the 1st bills the month that just ended *in the legal entity's time
zone* (Lago #879 billed the wrong month from UTC); an on-demand run names its period.
Bad input ends the execution at once with a sentence saying what to fix.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from invoice_dispatch.approval.start_input import StartRunInput, describe_validation_error
from invoice_dispatch.errors import InvalidStartInput
from invoice_dispatch.platform import Platform
from invoice_dispatch.run import RunContext
from invoice_dispatch.workflow.drafting import previous_period


def period_before(moment: datetime, timezone: str) -> str:
    local = moment.astimezone(ZoneInfo(timezone))
    return previous_period(f"{local.year}-{local.month:02d}")


def start_run(raw_input: dict[str, Any], execution_name: str, started_at: str, platform: Platform) -> RunContext:
    fields = dict(raw_input)
    scheduled_at = fields.pop("scheduled_at", None)
    if scheduled_at and not fields.get("period"):
        fields["period"] = period_before(
            datetime.fromisoformat(str(scheduled_at).replace("Z", "+00:00")), platform.legal_entity.timezone
        )
    try:
        start_input = StartRunInput.model_validate(fields)
    except ValidationError as error:
        raise InvalidStartInput(describe_validation_error(error)) from error
    context = RunContext(
        run_id=execution_name,
        period=start_input.period,
        mode=start_input.mode,
        account_ids=start_input.account_ids,
        currencies=start_input.currencies,
        release_held=start_input.release_held,
        auto_approve=platform.settings.auto_approve,
        approval_timeout_seconds=platform.settings.approval_ttl_hours * 3600,
    )
    platform.store.create_run(context, started_at)
    return context
