"""What a day's run does for one receivable: the reminder schedule's rules, without AWS."""

from __future__ import annotations

from datetime import timedelta

import pytest

from invoice_dispatch.collections.stages import (
    Action,
    CollectionState,
    ReminderSchedule,
    Tone,
    next_step,
)
from invoice_dispatch.receivables import EntryKind
from tests.unit.receivables.receivable_factories import DUE, entry, receivable

SCHEDULE = ReminderSchedule([14, -7, 0, 7], escalation_grace_days=3)


def _day(offset: int):  # type: ignore[no-untyped-def]
    return DUE + timedelta(days=offset)


def test_stages_are_in_day_order_with_a_tone_from_gentle_to_firm() -> None:
    assert [(s.label, s.tone) for s in SCHEDULE.stages] == [
        ("-7", Tone.UPCOMING),
        ("+0", Tone.DUE_TODAY),
        ("+7", Tone.OVERDUE),
        ("+14", Tone.FINAL),
    ]


@pytest.mark.parametrize(
    ("offset", "expected"),
    [(-8, None), (-7, "-7"), (-1, "-7"), (0, "+0"), (6, "+0"), (7, "+7"), (14, "+14")],
)
def test_the_most_recent_stage_whose_day_has_come(offset: int, expected: str | None) -> None:
    step = next_step(receivable(), CollectionState(), _day(offset), SCHEDULE)
    assert (step.stage.label if step.stage else None) == expected


def test_a_run_after_missed_days_sends_only_the_latest_stage_never_the_skipped_ones() -> None:
    state = CollectionState(last_stage=-7, last_reminded_on=_day(-7))
    step = next_step(receivable(), state, _day(8), SCHEDULE)  # stages 0 and +7 both passed
    assert (step.action, step.stage and step.stage.label) == (Action.REMIND, "+7")
    sent = CollectionState(last_stage=7, last_reminded_on=_day(8))
    assert next_step(receivable(), sent, _day(9), SCHEDULE).reason == "reminded already"


def test_escalation_comes_the_grace_days_after_the_last_stage_and_only_then() -> None:
    state = CollectionState(last_stage=14, last_reminded_on=_day(14))
    assert next_step(receivable(), state, _day(16), SCHEDULE).action is Action.SKIP
    assert next_step(receivable(), state, _day(17), SCHEDULE).action is Action.ESCALATE
    late = CollectionState(last_stage=14, last_reminded_on=_day(20))  # sent late
    assert next_step(receivable(), late, _day(22), SCHEDULE).action is Action.SKIP


@pytest.mark.parametrize(
    ("ledger", "state", "reason"),
    [
        ([entry(EntryKind.PAYMENT, "119.00")], CollectionState(), "paid"),
        ([entry(EntryKind.CREDIT, "119.00")], CollectionState(), "credited"),
        ([entry(EntryKind.WRITE_OFF, "119.00")], CollectionState(), "written_off"),
        ([entry(EntryKind.PAYMENT, "120.00")], CollectionState(), "overpaid"),
        ([entry(EntryKind.DISPUTE_OPENED, "0")], CollectionState(), "disputed"),
        ([], CollectionState(escalation_id="ACC-1:2027-01-17"), "with a person"),
        ([], CollectionState(paused_until=_day(10)), "promised to pay"),
    ],
)
def test_nothing_is_sent_when_paid_credited_written_off_disputed_escalated_or_promised(
    ledger: list,
    state: CollectionState,
    reason: str,  # type: ignore[type-arg]
) -> None:
    step = next_step(receivable().replayed(ledger), state, _day(7), SCHEDULE)
    assert (step.action, step.reason) == (Action.SKIP, reason)


def test_a_broken_promise_escalates_the_day_after_the_promised_date() -> None:
    state = CollectionState(last_stage=14, last_reminded_on=_day(14), paused_until=_day(25))
    assert next_step(receivable(), state, _day(25), SCHEDULE).action is Action.SKIP
    assert next_step(receivable(), state, _day(26), SCHEDULE).action is Action.ESCALATE
