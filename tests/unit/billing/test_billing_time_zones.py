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
from billing_factories import invoice_for, raw_account
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
