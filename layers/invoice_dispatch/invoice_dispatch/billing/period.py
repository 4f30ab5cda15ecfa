"""Billing periods, billing terms and local calendar dates.

A period is a calendar month *in the seller's time zone* (an account may override it):
Lago #879 and Kill Bill's PST-vs-UTC usage bug both came from cutting periods in UTC, so
every timestamp is turned into a local calendar date before any day is counted.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

_PERIOD_LABEL = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True, slots=True)
class BillingPeriod:
    """One calendar month to bill; ``end`` is inclusive and ``days`` counts calendar days."""

    label: str
    start: date
    end: date
    days: int
    timezone: str = "Europe/Berlin"

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


def _default_timezone() -> str:
    """The bundled legal entity's zone, so ``billing_period("2026-11")`` matches the seller."""
    from invoice_dispatch.legal_entity import load_legal_entity

    return load_legal_entity().timezone


def billing_period(label: str, timezone: str | None = None) -> BillingPeriod:
    """The period named ``YYYY-MM``; raises ``ValueError`` with a readable message otherwise."""
    match = _PERIOD_LABEL.match(label)
    if match is None:
        raise ValueError(f"Billing period '{label}' is not of the form YYYY-MM")
    year, month = int(match.group(1)), int(match.group(2))
    days = calendar.monthrange(year, month)[1]
    return BillingPeriod(
        label=label,
        start=date(year, month, 1),
        end=date(year, month, days),
        days=days,
        timezone=timezone or _default_timezone(),
    )


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months, clamped to the month's last day (Jan 31 + 1 = Feb 28)."""
    month_index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(month_index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def month_start(day: date) -> date:
    return day.replace(day=1)


def months_between(earlier_label: str, later_label: str) -> int:
    """Whole months from one ``YYYY-MM`` label to another (negative if reversed)."""
    y1, m1 = int(earlier_label[:4]), int(earlier_label[5:7])
    y2, m2 = int(later_label[:4]), int(later_label[5:7])
    return (y2 - y1) * 12 + (m2 - m1)


@dataclass(frozen=True, slots=True)
class BillingTerm:
    """The span one recurring charge pays for: a month, quarter, year or N months."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@lru_cache(maxsize=4096)
def term_containing(day: date, anchor: date, interval_months: int) -> BillingTerm:
    """The term of ``interval_months`` aligned on ``anchor``'s month that holds ``day``.

    Terms always begin on the 1st of a month so that a quarterly or annual term lines up with
    the monthly runs; calendar days of the actual term are counted (28 to 366).
    """
    anchor_month = month_start(anchor)
    offset = (day.year - anchor_month.year) * 12 + (day.month - anchor_month.month)
    start = add_months(anchor_month, (offset // interval_months) * interval_months)
    end = add_months(start, interval_months) - timedelta(days=1)
    return BillingTerm(start=start, end=end)


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def is_known_timezone(name: str) -> bool:
    try:
        _zone(name)
    except (KeyError, ValueError):
        return False
    return True


def _local(moment: datetime, timezone: str) -> datetime:
    return moment if moment.tzinfo is None else moment.astimezone(_zone(timezone))


def local_date(moment: date | datetime, timezone: str) -> date:
    """The calendar date of ``moment`` in ``timezone``.

    A naive datetime is read as local time already; an aware one is converted, so
    ``2026-10-31T23:30:00Z`` is 1 November in Berlin and bills in November, and
    ``2026-11-01T00:00:00+09:00`` is 31 October (16:00) and bills in October.
    """
    if type(moment) is date:
        return moment
    assert isinstance(moment, datetime)
    return _local(moment, timezone).date()


def last_local_day(end: date | datetime, timezone: str) -> date:
    """The last day of service an ``end`` names, in ``timezone``.

    A date is that day, inclusive. A timestamp is the instant service stops, so the last
    day is the local day that holds the moment before it: an end at
    ``2026-12-01T00:00:00+09:00`` (30 November, 16:00 in Berlin) and one at Berlin's own
    midnight, ``2026-12-01T00:00:00+01:00``, both bill no day of December.
    """
    if type(end) is date:
        return end
    assert isinstance(end, datetime)
    local = _local(end, timezone)
    if (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0):
        return local.date() - timedelta(days=1)
    return local.date()
