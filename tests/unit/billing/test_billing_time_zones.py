"""Every timestamp becomes a date in the zone periods are cut in, never before (issue 16, item 4).

Periods are calendar months in the legal entity's zone (Europe/Berlin), or in the account's
``timezone``. ``2026-11-01T00:00:00+09:00`` used to be read as the bare date 2026-11-01,
which in Berlin is 31 October, 16:00.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from billing_factories import draft_for, invoice_for, raw_account
from hypothesis import given, settings
from hypothesis import strategies as st

from invoice_dispatch.billing import AccountScreening, billing_period, load_catalog, screen_account

D = Decimal


def _screen(raw: dict[str, object], period_label: str) -> AccountScreening:
    return screen_account(raw, billing_period(period_label, "Europe/Berlin"), load_catalog())


def _starter(**fields: object) -> dict[str, object]:
    return {"subscription_id": "SUB-1", "plan": "STARTER", **fields}


def test_a_start_on_31_october_in_berlin_bills_in_october() -> None:
    raw = raw_account(subscriptions=[_starter(start="2026-11-01T00:00:00+09:00")])

    invoice = invoice_for(raw, "2026-10")

    assert invoice.lines[0].description == "Starter plan, 1 of 31 days, 2026-10-31 to 2026-10-31"
    assert invoice.lines[0].net_amount == D("0.94")


def test_an_end_on_30_november_in_berlin_bills_no_day_of_december() -> None:
    raw = raw_account(subscriptions=[_starter(start="2025-01-01", end="2026-12-01T00:00:00+09:00")])

    december = _screen(raw, "2026-12")
    november = invoice_for(raw, "2026-11")

    assert (december.outcome, december.reason) == (
        "excluded",
        "Account was cancelled: its last subscription ended on 2026-11-30, before this period",
    )
    assert november.lines[0].description == "Starter plan, 2026-11-01 to 2026-11-30"


def test_an_end_at_local_midnight_is_the_instant_service_stops() -> None:
    raw = raw_account(subscriptions=[_starter(start="2025-01-01", end="2026-12-01T00:00:00+01:00")])

    assert _screen(raw, "2026-12").outcome == "excluded"


def test_the_account_s_zone_decides_the_day_of_a_utc_start() -> None:
    raw = raw_account(
        timezone="America/New_York", subscriptions=[_starter(start="2026-11-01T00:00:00Z")]
    )

    invoice = invoice_for(raw, "2026-10")

    assert invoice.lines[0].description == "Starter plan, 1 of 31 days, 2026-10-31 to 2026-10-31"


def test_a_timestamp_without_an_offset_is_read_as_local_time() -> None:
    raw = raw_account(subscriptions=[_starter(start="2026-11-01T00:00:00")])

    october = _screen(raw, "2026-10")

    assert (october.outcome, october.reason) == (
        "excluded",
        "Subscription starts on 2026-11-01, after this period",
    )


def test_a_change_takes_effect_on_the_local_day_of_its_timestamp() -> None:
    raw = raw_account(
        subscriptions=[
            _starter(
                start="2025-01-01",
                changes=[{"effective": "2026-11-16T00:00:00+09:00", "plan": "BUSINESS"}],
            )
        ]
    )

    invoice = invoice_for(raw)

    assert invoice.lines[2].description == (
        "Remaining time on Business plan, 16 of 30 days, 2026-11-15 to 2026-11-30"
    )


@pytest.mark.parametrize("field", ["trial_end", "anchor"])
def test_a_day_field_refuses_a_timestamp_rather_than_guess_its_zone(field: str) -> None:
    raw = raw_account(
        subscriptions=[_starter(start="2025-01-01", **{field: "2026-11-05T00:00:00Z"})]
    )

    screening = _screen(raw, "2026-11")

    assert (screening.outcome, screening.reason) == (
        "quarantined",
        f"Field 'subscriptions #1 {field}': '2026-11-05T00:00:00Z' is a timestamp, but this "
        "field is a calendar day (write YYYY-MM-DD)",
    )


BERLIN = ZoneInfo("Europe/Berlin")
NOVEMBER = billing_period("2026-11", "Europe/Berlin")


@settings(max_examples=200, deadline=None)
@given(
    day=st.dates(min_value=date(2026, 10, 29), max_value=date(2026, 12, 3)),
    clock=st.one_of(st.just(time(0)), st.times()),  # midnight is where the offset got lost
    offset_minutes=st.integers(min_value=-12 * 60, max_value=14 * 60).map(lambda m: m - m % 15),
)
def test_a_start_bills_from_the_berlin_day_of_its_instant(
    day: date, clock: time, offset_minutes: int
) -> None:
    offset = timezone(timedelta(minutes=offset_minutes))
    instant = datetime.combine(day, clock, tzinfo=offset)
    berlin_day = instant.astimezone(BERLIN).date()
    raw = raw_account(subscriptions=[_starter(start=instant.isoformat())])

    screening = _screen(raw, "2026-11")

    if berlin_day > NOVEMBER.end:
        assert screening.outcome == "excluded"
        return
    invoice = invoice_for(raw)
    assert invoice.lines[0].service_start == max(berlin_day, NOVEMBER.start)


def test_utc_instants_at_berlin_month_edges() -> None:
    last_october_hour = datetime(2026, 10, 31, 22, 59, tzinfo=UTC)  # 23:59 in Berlin (CET)
    assert last_october_hour.astimezone(BERLIN).date() == date(2026, 10, 31)
    raw = raw_account(subscriptions=[_starter(start=last_october_hour.isoformat())])

    assert invoice_for(raw, "2026-10").lines[0].service_start == date(2026, 10, 31)


def _cadence_change(effective: str, **fields: object) -> dict[str, object]:
    """BUSINESS monthly since January, annual from ``effective`` (terms on the change's month)."""
    return raw_account(
        subscriptions=[
            _starter(
                plan="BUSINESS",
                start="2026-01-01",
                changes=[{"effective": effective, "cadence": "annual"}],
                **fields,
            )
        ]
    )


def test_a_cadence_change_at_a_timestamp_takes_effect_on_its_local_day() -> None:
    """Both branches of issue 16 meet here: the change's instant is 15 November, 16:00 in
    Berlin, so the month is credited and the new year charged from the 15th."""
    at_instant = invoice_for(_cadence_change("2026-11-16T00:00:00+09:00"))
    on_the_day = invoice_for(_cadence_change("2026-11-15"))

    assert at_instant.lines == on_the_day.lines
    assert [(line.description, line.net_amount) for line in at_instant.lines[1:]] == [
        ("Unused time on Business plan, 16 of 30 days, 2026-11-15 to 2026-11-30", D("-133.31")),
        (
            "Remaining time on Business plan, annual, 351 of 365 days, 2026-11-15 to 2027-10-31",
            D("2884.35"),  # 2,999.40 x 351 / 365
        ),
    ]
    december = _screen(_cadence_change("2026-11-16T00:00:00+09:00"), "2026-12")
    assert december.outcome == "excluded"  # the new year runs November to October


def test_a_cadence_change_in_arrears_splits_the_term_on_the_local_day() -> None:
    raw = raw_account(
        subscriptions=[
            _starter(
                plan="TEAM-SEAT",
                quantity="10",
                start="2026-08-01",
                cadence="quarterly",
                billing_timing="arrears",
                changes=[{"effective": "2026-11-16T00:00:00+09:00", "cadence": "monthly"}],
            )
        ]
    )

    assert [(line.description, line.net_amount) for line in invoice_for(raw).lines] == [
        (
            "Team plan, 10 seats, quarterly, in arrears, 14 of 92 days, 2026-11-01 to 2026-11-14",
            D("54.78"),
        ),
        ("Team plan, 10 seats, in arrears, 16 of 30 days, 2026-11-15 to 2026-11-30", D("64.00")),
    ]


def test_an_end_instant_bounds_the_credit_of_a_cadence_change_and_the_credit_is_carried() -> None:
    """ENTERPRISE (annual) to BUSINESS monthly on 15 November (Berlin), ending at Berlin's
    midnight into December: 16 unused days of the year are credited, 16 of 30 days charged;
    the negative total is a carried credit, and December, with nothing else due, still
    drafts the account to carry it on."""
    subscription = _starter(
        plan="ENTERPRISE",
        start="2026-01-01",
        end="2026-12-01T00:00:00+01:00",
        changes=[
            {"effective": "2026-11-16T00:00:00+09:00", "cadence": "monthly", "plan": "BUSINESS"}
        ],
    )
    november = draft_for(raw_account(subscriptions=[subscription]))

    assert november.invoice is None and november.credit is not None
    assert november.credit.net_amount == D("392.72")  # 12,000 x 16 / 365 - 249.95 x 16 / 30
    cancelled = raw_account(subscriptions=[subscription])
    assert _screen(cancelled, "2026-12").reason == (
        "Account was cancelled: its last subscription ended on 2026-11-30, before this period"
    )
    owed = raw_account(subscriptions=[subscription], credits=[november.credit.account_record()])
    assert _screen(owed, "2026-12").outcome == "eligible"
    carried = draft_for(owed, "2026-12")
    assert carried.credit is not None
    assert carried.credit.account_record()["amount"] == "392.72"
