"""StartRun on a schedule's fire and on a MilestoneCompleted event: start once, or say why not.

The business-day schedule fires every morning of its window; the scheduler and
EventBridge deliver at least once. Each test plays the fires in order against one store.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from invoice_dispatch.errors import InvalidStartInput, RunAlreadyActive
from invoice_dispatch.platform import Platform
from invoice_dispatch.run import RunContext
from invoice_dispatch.workflow.start import StartIgnored, start_run
from tools.local_run.wiring import REPO_ROOT

MILESTONE_EVENT = REPO_ROOT / "events" / "milestones" / "milestone-completed.json"


def business_day_fire(day: str, business_day: int = 3) -> dict[str, Any]:
    """The input the BusinessDaySchedule sends at 06:00 Berlin (05:00 UTC in November)."""
    return {
        "schedule": {
            "kind": "business-day",
            "business_day": business_day,
            "scheduled_time": f"{day}T05:00:00Z",
        }
    }


def fire(raw: dict[str, Any], execution: str, platform: Platform) -> RunContext | StartIgnored:
    return start_run(raw, execution, "2026-11-04T05:00:01Z", platform)


def test_a_fire_before_the_billing_day_starts_nothing_and_names_the_day(
    platform: Platform,
) -> None:
    outcome = fire(business_day_fire("2026-11-02"), "fire-monday", platform)

    assert outcome == StartIgnored(
        ignored="Not the billing day: the 3rd business day of 2026-11 is 2026-11-04.",
        kind="schedule",
    )
    assert platform.store.get_run("fire-monday") is None
    assert platform.store.period_lock_holder("live", "2026-10") is None


def test_the_billing_day_starts_the_month_that_ended_once_whatever_fires_again(
    platform: Platform,
) -> None:
    run = fire(business_day_fire("2026-11-04"), "fire-wednesday", platform)
    again = fire(business_day_fire("2026-11-04"), "fire-wednesday-again", platform)
    next_day = fire(business_day_fire("2026-11-05"), "fire-thursday", platform)

    assert isinstance(run, RunContext) and run.period == "2026-10"
    assert platform.store.period_lock_holder("live", "2026-10") == "fire-wednesday"
    for ignored in (again, next_day):
        assert isinstance(ignored, StartIgnored)
        assert ignored.ignored.startswith(
            "The scheduled run for 2026-10 was started by run fire-wednesday at "
        )
    assert platform.store.get_run("fire-wednesday-again") is None
    assert platform.store.get_run("fire-thursday") is None


def test_a_retried_start_of_the_same_execution_keeps_its_run(platform: Platform) -> None:
    first = fire(business_day_fire("2026-11-04"), "fire-retried", platform)
    retried = fire(business_day_fire("2026-11-04"), "fire-retried", platform)

    assert isinstance(first, RunContext) and retried == first


def test_a_fire_that_finds_a_console_run_on_the_period_leaves_the_next_fire_free(
    platform: Platform,
) -> None:
    console = start_run({"period": "2026-10"}, "console-run", "2026-11-04T04:00:00Z", platform)
    assert isinstance(console, RunContext)

    with pytest.raises(RunAlreadyActive, match="Run console-run for 2026-10 is drafting"):
        fire(business_day_fire("2026-11-04"), "fire-blocked", platform)
    platform.store.release_period_lock("live", "2026-10", "console-run")  # its summary
    caught_up = fire(business_day_fire("2026-11-05"), "fire-catch-up", platform)

    assert isinstance(caught_up, RunContext) and caught_up.period == "2026-10"


def test_a_business_day_fire_must_name_its_day(platform: Platform) -> None:
    raw = business_day_fire("2026-11-04")
    del raw["schedule"]["business_day"]

    with pytest.raises(InvalidStartInput, match="must name its business_day"):
        fire(raw, "fire-unnamed", platform)


def test_a_milestone_event_starts_a_run_for_its_part_beside_the_monthly_run(
    platform: Platform,
) -> None:
    event = json.loads(MILESTONE_EVENT.read_text())
    monthly = start_run({"period": "2026-11"}, "monthly", "2026-12-01T06:00:00Z", platform)

    run = start_run(event, "milestone-run", "2026-11-20T14:05:01Z", platform)
    delivered_again = start_run(event, "milestone-again", "2026-11-20T14:05:09Z", platform)

    assert isinstance(monthly, RunContext) and isinstance(run, RunContext)
    assert (run.period, run.account_ids, run.lock_scope) == (
        "2026-11",
        ["ACC-1010"],
        "milestone:ACC-1010:MS-1010-SHOP:1",
    )
    assert isinstance(delivered_again, StartIgnored) and delivered_again.kind == "milestone"
    assert delivered_again.ignored.startswith(
        "The milestone MS-1010-SHOP part 1 of account ACC-1010 is being billed by run "
        "milestone-run (drafting since 2026-11-20T14:05:01Z)"
    )
    assert platform.store.get_run("milestone-again") is None


def test_a_milestone_event_without_a_part_is_refused_at_once(platform: Platform) -> None:
    event = json.loads(MILESTONE_EVENT.read_text())
    del event["detail"]["part"]

    with pytest.raises(InvalidStartInput, match=r"detail\.part is required"):
        start_run(event, "milestone-bad", "2026-11-20T14:05:01Z", platform)
