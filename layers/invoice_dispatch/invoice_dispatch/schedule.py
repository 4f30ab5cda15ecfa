"""When a scheduled run bills: the 1st of the month, the Nth business day, or a custom cron.

A business day is a weekday that is not a public holiday of the legal entity's country
(and subdivision: Berlin keeps 8 March, Bavaria does not), counted in the entity's time
zone. EventBridge Scheduler cannot express "the 3rd business day", so the business-day
schedule fires every morning of a window at the start of the month and StartRun asks
``not_the_billing_day`` whether this morning is the one; the calendar itself comes from
the ``holidays`` package, which tracks each country's legislation (moveable feasts,
holidays moved by law) better than a table kept here would.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from functools import lru_cache
from typing import Literal

ScheduleKind = Literal["first-of-month", "business-day", "custom"]

#: Saturday and Sunday (``date.weekday()`` numbers them 5 and 6).
_WEEKEND = (5, 6)


def check_calendar(country: str, subdivision: str | None) -> None:
    """Raise ``ValueError`` with a readable sentence if no such calendar is known."""
    import holidays  # here, not at import: only StartRun's business-day check needs it

    try:
        holidays.country_holidays(country, subdiv=subdivision)
    except NotImplementedError as error:
        place = f"{country}-{subdivision}" if subdivision else country
        raise ValueError(f"No public-holiday calendar is known for {place}: {error}") from error


@lru_cache(maxsize=32)
def public_holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    import holidays

    check_calendar(country, subdivision)
    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year))


def is_business_day(day: date, country: str, subdivision: str | None = None) -> bool:
    return day.weekday() not in _WEEKEND and day not in public_holidays(
        country, subdivision, day.year
    )


def nth_business_day(
    year: int, month: int, n: int, country: str, subdivision: str | None = None
) -> date:
    """The ``n``-th business day (1-based) of the month; ``ValueError`` if it has fewer."""
    if n < 1:
        raise ValueError(f"A business day is counted from 1 (got {n})")
    counted = 0
    day = date(year, month, 1)
    for _ in range(calendar.monthrange(year, month)[1]):
        if is_business_day(day, country, subdivision):
            counted += 1
            if counted == n:
                return day
        day += timedelta(days=1)
    raise ValueError(f"{year}-{month:02d} has only {counted} business days, fewer than {n}")


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th ... 11th, 12th, 13th ... 21st."""
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def not_the_billing_day(
    today: date, business_day: int, country: str, subdivision: str | None = None
) -> str | None:
    """Why a daily fire before the month's billing day starts nothing, or ``None`` to bill.

    A day *after* the billing day bills too: a fire the scheduler missed (or one that
    failed) is caught up by the next one in the window, and the period's scheduled-run
    claim keeps the catch-up from ever being a second run.
    """
    billing_day = nth_business_day(today.year, today.month, business_day, country, subdivision)
    if today >= billing_day:
        return None
    return (
        f"Not the billing day: the {ordinal(business_day)} business day of "
        f"{today:%Y-%m} is {billing_day.isoformat()}."
    )
