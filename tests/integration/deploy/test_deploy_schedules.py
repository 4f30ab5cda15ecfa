"""Each ScheduleKind makes exactly one schedule, and what it sends is what StartRun expects.

The template is read as the local stack reads it (its conditions evaluated with the
parameters given), and the chosen schedule's input, with the time EventBridge Scheduler
puts in it, goes through the real StartRun.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from invoice_dispatch.platform import Platform
from invoice_dispatch.run import RunContext
from invoice_dispatch.workflow.start import StartIgnored, start_run
from tools.local_run.stack import LocalStack
from tools.local_run.wiring import MONTHLY_RUN, REPO_ROOT, Template

SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"


def monthly_schedules(parameters: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The monthly run's schedules a stack with these parameters creates, resolved."""
    stack = LocalStack(Template(), parameters=parameters)
    chosen = {}
    for name, resource in stack.template.resources_of_type("AWS::Scheduler::Schedule").items():
        if stack.condition(resource["Condition"]):
            properties = resource["Properties"]
            chosen[name] = {
                "expression": stack.resolve(properties["ScheduleExpression"]),
                "timezone": stack.resolve(properties["ScheduleExpressionTimezone"]),
                "target": properties["Target"]["Arn"],
                "input": stack.resolve(properties["Target"]["Input"]),
            }
    return chosen


def fire_at(schedule: dict[str, Any], moment: str) -> dict[str, Any]:
    return dict(json.loads(schedule["input"].replace(SCHEDULED_TIME, moment)))


@pytest.mark.parametrize(
    ("parameters", "name", "expression"),
    [
        ({}, "FirstOfMonthSchedule", "cron(0 6 1 * ? *)"),
        ({"ScheduleKind": "business-day"}, "BusinessDaySchedule", "cron(0 6 1-20 * ? *)"),
        (
            {"ScheduleKind": "custom", "ScheduleExpression": "cron(30 7 2 * ? *)"},
            "CustomSchedule",
            "cron(30 7 2 * ? *)",
        ),
    ],
)
def test_each_kind_creates_its_one_schedule_in_the_entitys_morning(
    parameters: dict[str, Any], name: str, expression: str
) -> None:
    schedules = monthly_schedules(parameters)

    assert list(schedules) == [name]
    assert schedules[name]["expression"] == expression
    assert schedules[name]["timezone"] == "Europe/Berlin"
    assert schedules[name]["target"] == {"Ref": MONTHLY_RUN}


def test_the_first_of_month_fire_bills_the_month_that_ended(platform: Platform) -> None:
    schedule = monthly_schedules({})["FirstOfMonthSchedule"]

    run = start_run(
        fire_at(schedule, "2026-12-01T05:00:00Z"), "first", "2026-12-01T05:00:01Z", platform
    )

    assert isinstance(run, RunContext) and run.period == "2026-11"


def test_the_business_day_fire_carries_its_day_and_starts_only_on_it(platform: Platform) -> None:
    schedule = monthly_schedules({"ScheduleKind": "business-day", "BillingBusinessDay": 5})[
        "BusinessDaySchedule"
    ]
    tuesday, monday = "2026-12-01T05:00:00Z", "2026-12-07T05:00:00Z"

    early = start_run(fire_at(schedule, tuesday), "bd-tuesday", tuesday, platform)
    on_the_day = start_run(fire_at(schedule, monday), "bd-monday", monday, platform)

    assert early == StartIgnored(
        ignored="Not the billing day: the 5th business day of 2026-12 is 2026-12-07.",
        kind="schedule",
    )
    assert isinstance(on_the_day, RunContext) and on_the_day.period == "2026-11"


def test_the_custom_fire_bills_the_month_that_ended(platform: Platform) -> None:
    schedule = monthly_schedules({"ScheduleKind": "custom"})["CustomSchedule"]

    run = start_run(
        fire_at(schedule, "2026-12-02T06:30:00Z"), "custom", "2026-12-02T06:30:01Z", platform
    )

    assert isinstance(run, RunContext) and run.period == "2026-11"


def test_milestone_events_from_the_configured_source_start_the_monthly_run_state_machine() -> None:
    template = Template()
    events = template.resources[MONTHLY_RUN]["Properties"]["Events"]

    assert events["MilestoneCompleted"] == {
        "Type": "EventBridgeRule",
        "Properties": {
            "Pattern": {
                "source": [{"Ref": "MilestoneEventSource"}],
                "detail-type": ["MilestoneCompleted"],
            }
        },
    }
    source = template.parameter_default("MilestoneEventSource")
    for sample in sorted((REPO_ROOT / "events" / "milestones").glob("*.json")):
        event = json.loads(sample.read_text())
        assert (event["source"], event["detail-type"]) == (source, "MilestoneCompleted"), sample
