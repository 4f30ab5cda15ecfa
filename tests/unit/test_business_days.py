"""The business-day calendar of the business-day schedule: DE, FR and US, 2026-2028.

The table was checked by hand against each country's public holidays (and the weekday
of each date); the properties then cover every month of the three years, computed
independently of ``schedule.py`` by walking the month with the ``holidays`` package.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import holidays
import pytest

from invoice_dispatch.schedule import not_the_billing_day, nth_business_day, ordinal

YEARS = (2026, 2027, 2028)
CALENDARS = (("DE", None), ("DE", "BE"), ("FR", None), ("US", None))


@pytest.mark.parametrize(
    ("country", "subdivision", "month", "n", "expected", "why"),
    [
        ("DE", None, "2026-01", 3, "2026-01-06", "1 Jan (Thu) New Year; 2, 5, 6"),
        ("DE", "BY", "2026-01", 3, "2026-01-07", "Bavaria also keeps Epiphany, 6 Jan"),
        ("DE", None, "2026-02", 1, "2026-02-02", "1 Feb is a Sunday"),
        ("DE", None, "2026-05", 1, "2026-05-04", "1 May (Fri) Labour Day, then a weekend"),
        ("DE", None, "2026-08", 1, "2026-08-03", "1 Aug is a Saturday"),
        ("DE", None, "2026-11", 3, "2026-11-04", "1 Nov is a Sunday: 2, 3, 4"),
        ("DE", None, "2027-01", 1, "2027-01-04", "1 Jan (Fri) New Year, then a weekend"),
        ("DE", None, "2027-03", 6, "2027-03-08", "nationally 8 Mar is a working Monday"),
        ("DE", "BE", "2027-03", 6, "2027-03-09", "Berlin keeps Women's Day, 8 Mar"),
        ("DE", None, "2027-05", 1, "2027-05-03", "1 May is a Saturday"),
        ("DE", None, "2028-01", 1, "2028-01-03", "1 Jan is a Saturday"),
        ("DE", None, "2028-05", 1, "2028-05-02", "1 May (Mon) Labour Day"),
        ("DE", None, "2028-10", 2, "2028-10-04", "1 Oct Sunday, 3 Oct (Tue) Unity Day"),
        ("FR", None, "2026-01", 1, "2026-01-02", "1 Jan (Thu) Jour de l'an"),
        ("FR", None, "2026-05", 5, "2026-05-11", "1 May (Fri) and 8 May (Fri) Victoire"),
        ("FR", None, "2026-11", 1, "2026-11-02", "1 Nov Toussaint is a Sunday"),
        ("FR", None, "2027-05", 1, "2027-05-03", "1 May is a Saturday"),
        ("FR", None, "2027-11", 1, "2027-11-02", "1 Nov (Mon) Toussaint"),
        ("FR", None, "2028-05", 5, "2028-05-09", "1 May (Mon) and 8 May (Mon)"),
        ("US", None, "2026-02", 1, "2026-02-02", "1 Feb is a Sunday"),
        ("US", None, "2026-07", 3, "2026-07-06", "4 Jul (Sat) observed on Fri 3 Jul"),
        ("US", None, "2026-09", 5, "2026-09-08", "Labor Day, Mon 7 Sep"),
        ("US", None, "2027-01", 1, "2027-01-04", "1 Jan (Fri) New Year, then a weekend"),
        ("US", None, "2027-07", 3, "2027-07-06", "4 Jul (Sun) observed on Mon 5 Jul"),
        ("US", None, "2028-01", 1, "2028-01-03", "1 Jan Saturday, observed on Fri 31 Dec"),
        ("US", None, "2028-10", 1, "2028-10-02", "1 Oct is a Sunday"),
    ],
)
def test_nth_business_day_matches_the_hand_checked_calendar(
    country: str, subdivision: str | None, month: str, n: int, expected: str, why: str
) -> None:
    year, month_number = (int(part) for part in month.split("-"))
    assert nth_business_day(year, month_number, n, country, subdivision) == date.fromisoformat(
        expected
    ), why


def _days_of(year: int, month: int) -> list[date]:
    first = date(year, month, 1)
    return [
        first + timedelta(days=offset)
        for offset in range(31)
        if (first + timedelta(days=offset)).month == month
    ]


def _holidays(country: str, subdivision: str | None, year: int) -> set[date]:
    return set(holidays.country_holidays(country, subdiv=subdivision, years=year))


@pytest.mark.parametrize(("country", "subdivision"), CALENDARS)
def test_every_month_of_three_years_holds_the_business_day_properties(
    country: str, subdivision: str | None
) -> None:
    for year, month, n in itertools.product(YEARS, range(1, 13), (1, 3, 5, 10)):
        closed = _holidays(country, subdivision, year)

        billing_day = nth_business_day(year, month, n, country, subdivision)

        assert billing_day.weekday() < 5 and billing_day not in closed
        earlier = [d for d in _days_of(year, month) if d < billing_day]
        assert sum(1 for d in earlier if d.weekday() < 5 and d not in closed) == n - 1


@pytest.mark.parametrize(("country", "subdivision"), CALENDARS)
def test_when_the_first_is_a_weekend_or_holiday_the_first_business_day_is_the_next_open_day(
    country: str, subdivision: str | None
) -> None:
    closed_firsts = 0
    for year, month in itertools.product(YEARS, range(1, 13)):
        closed = _holidays(country, subdivision, year)
        first = date(year, month, 1)
        if first.weekday() < 5 and first not in closed:
            continue
        closed_firsts += 1

        first_business_day = nth_business_day(year, month, 1, country, subdivision)

        skipped = [d for d in _days_of(year, month) if d < first_business_day]
        assert skipped and all(d.weekday() >= 5 or d in closed for d in skipped)
    assert closed_firsts >= 12  # every calendar has a dozen such months in three years


def test_a_fire_before_the_billing_day_says_which_day_it_is() -> None:
    assert not_the_billing_day(date(2026, 11, 2), 3, "DE", "BE") == (
        "Not the billing day: the 3rd business day of 2026-11 is 2026-11-04."
    )
    assert not_the_billing_day(date(2026, 11, 4), 3, "DE", "BE") is None
    assert not_the_billing_day(date(2026, 11, 9), 3, "DE", "BE") is None  # a missed fire


def test_ordinals_read_as_english() -> None:
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd"
    ]  # fmt: skip


def test_an_unknown_calendar_is_refused_in_a_sentence() -> None:
    with pytest.raises(ValueError, match="No public-holiday calendar is known for DE-ZZ"):
        nth_business_day(2026, 11, 1, "DE", "ZZ")
