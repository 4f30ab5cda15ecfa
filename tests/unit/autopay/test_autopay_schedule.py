"""When auto-pay charges, retries and hands over: the schedule's rules, without AWS."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from invoice_dispatch.autopay import AutoPayState, AutoPayStatus, PendingCharge, RetrySchedule
from invoice_dispatch.autopay.schedule import Move, next_move
from invoice_dispatch.billing import load_catalog
from invoice_dispatch.billing.account import screen_account
from invoice_dispatch.billing.period import billing_period
from invoice_dispatch.collections.stages import (
    Action,
    CollectionState,
    ReminderSchedule,
    next_step,
)
from invoice_dispatch.receivables import EntryKind
from invoice_dispatch.settings import Settings
from tests.unit.billing.billing_factories import invoice_for, raw_account
from tests.unit.receivables.receivable_factories import DUE, ISSUED, entry, receivable

SCHEDULE = RetrySchedule([3, 5, 7])


def _state(**fields: Any) -> AutoPayState:
    values: dict[str, Any] = {
        "number": "INV-2026-000001",
        "account_id": "ACC-1001",
        "currency": "EUR",
        "method_ref": "pm_card_visa",
        "next_attempt_on": ISSUED,
    }
    values.update(fields)
    return AutoPayState(**values)


def _day(offset: int) -> date:
    return ISSUED + timedelta(days=offset)


def test_declined_charges_are_retried_3_5_and_7_days_after_the_first_then_handed_over() -> None:
    first_failure = _day(0)
    retries = [SCHEDULE.after_decline(first_failure, declined, _day(0)) for declined in (1, 2, 3)]
    assert retries == [_day(3), _day(5), _day(7)]
    assert SCHEDULE.after_decline(first_failure, 4, _day(7)) is None
    assert SCHEDULE.max_attempts == 4


def test_a_retry_whose_day_was_missed_goes_out_tomorrow_never_today_again() -> None:
    assert SCHEDULE.after_decline(_day(0), 1, _day(6)) == _day(7)


def test_the_first_attempt_is_on_the_issue_date() -> None:
    assert SCHEDULE.first_attempt_on(ISSUED) == ISSUED


@pytest.mark.parametrize("days", [[5, 3], [0, 2], [3, 3]])
def test_a_schedule_that_does_not_increase_is_refused(days: list[int]) -> None:
    with pytest.raises(ValueError, match="increasing"):
        RetrySchedule(days)


def test_the_retry_days_are_a_setting_read_as_comma_separated_days() -> None:
    settings = Settings.model_validate(
        {
            "table_name": "t",
            "documents_bucket": "b",
            "alert_topic_arn": "a",
            "erp_error_queue_url": "q",
            "ses_configuration_set": "c",
            "sender_email": "s@example.com",
            "approval_base_url": "https://x",
            "approval_key_secret_id": "k",
            "account_source_uri": "s3://b/a.json",
            "auto_pay_retry_days": "2,4",
        }
    )
    assert settings.auto_pay_retry_days == [2, 4]


def test_a_due_invoice_is_charged_and_a_later_one_waits() -> None:
    assert next_move(_state(), receivable(), _day(0))[0] is Move.CHARGE
    waiting = _state(next_attempt_on=_day(3), attempts=1)
    assert next_move(waiting, receivable(), _day(2)) == (Move.WAIT, f"next attempt on {_day(3)}")
    assert next_move(waiting, receivable(), _day(3)) == (Move.CHARGE, "attempt 2")


def test_an_unanswered_attempt_is_asked_again_before_anything_else() -> None:
    pending = PendingCharge(
        attempt=1, idempotency_key="autopay-INV-2026-000001-1", amount="119.00", asked_on=_day(0)
    )
    paid = receivable().record(entry(EntryKind.PAYMENT, "119.00"))
    # Even an invoice paid meanwhile: the attempt may have charged, only its answer tells.
    assert next_move(_state(pending=pending), paid, _day(1))[0] is Move.REASK


def test_an_invoice_paid_by_other_means_leaves_auto_pay_uncharged() -> None:
    paid = receivable().record(entry(EntryKind.PAYMENT, "119.00"))
    assert next_move(_state(), paid, _day(0)) == (Move.END, "paid by other means")


def test_a_disputed_invoice_is_never_charged_but_handed_to_people() -> None:
    disputed = receivable().record(entry(EntryKind.DISPUTE_OPENED, "0"))
    assert next_move(_state(), disputed, _day(0)) == (Move.HAND_OVER, "disputed: not charged")


def test_a_collected_or_handed_over_invoice_is_left_alone() -> None:
    for status in (AutoPayStatus.COLLECTED, AutoPayStatus.HANDED_OVER, AutoPayStatus.ENDED):
        assert next_move(_state(status=status), receivable(), _day(9))[0] is Move.WAIT


def test_reminders_are_held_while_auto_pay_collects_and_resume_after_hand_over() -> None:
    schedule = ReminderSchedule([-7, 0, 7, 14], escalation_grace_days=3)
    held = next_step(receivable(), CollectionState(autopay_collecting=True), DUE, schedule)
    assert (held.action, held.reason) == (Action.SKIP, "collected by auto-pay")
    handed_over = next_step(receivable(), CollectionState(), DUE + timedelta(days=8), schedule)
    assert (handed_over.action, handed_over.stage and handed_over.stage.label) == (
        Action.REMIND,
        "+7",
    )


@pytest.mark.parametrize(
    ("auto_pay", "sentence"),
    [
        (
            {"method_ref": "4242424242424242"},
            "Field 'auto_pay method_ref': String should match pattern",
        ),
        ({"mandate_ref": "has spaces in it"}, "Field 'auto_pay mandate_ref'"),
        (
            {"method_ref": "pm_card_visa", "mandate_ref": "NW-1"},
            "Field 'auto_pay' must name exactly one of 'method_ref'",
        ),
        ({}, "Field 'auto_pay' must name exactly one of 'method_ref'"),
        ({"card_number": "4242"}, "Field 'auto_pay card_number': is not a known field"),
    ],
)
def test_a_bad_payment_means_quarantines_the_account_with_a_sentence(
    auto_pay: dict[str, str], sentence: str
) -> None:
    screening = screen_account(
        raw_account(auto_pay=auto_pay), billing_period("2026-11", "Europe/Berlin"), load_catalog()
    )
    assert screening.outcome == "quarantined"
    assert screening.reason is not None and screening.reason.startswith(sentence)


def test_the_stored_means_is_snapshotted_on_the_invoice() -> None:
    invoice = invoice_for(raw_account(auto_pay={"mandate_ref": "NW-SEPA-1024-2026"}))
    assert invoice.auto_pay is not None and invoice.auto_pay.reference == "NW-SEPA-1024-2026"
    assert invoice_for(raw_account()).auto_pay is None
