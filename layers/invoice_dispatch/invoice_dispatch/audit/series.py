"""Gapless number series: reading a number back into its series, and finding the gaps.

Invoices and credit notes each count in one series per legal entity and year (EN 16931
BT-1 asks for a unique number; most VAT regimes, e.g. German UStG section 14, expect a
continuous one so that a missing invoice shows). The store keeps one counter per series
(``SERIES#<series>``): the last number handed out. A period's invoices hold only part of
a year's series, and runs of several periods may number side by side (a held invoice of
October released in December lands among November's numbers), so a number the period
lacks is only missing once no other period holds it either: ``continuity_breaks`` asks
its caller to look elsewhere before it calls a number missing.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import pairwise

#: Beyond this many missing numbers in one stretch, the sentence names the first and last.
_LISTED_AT_MOST = 3


@dataclass(frozen=True)
class NumberFormat:
    """One series' number format (``INV-{year}-{sequence:06d}``) for one legal entity."""

    template: str
    entity: str

    def number(self, year: int, sequence: int) -> str:
        return self.template.format(year=year, sequence=sequence, entity=self.entity)

    def label(self, year: int) -> str:
        """What a person calls the series: the number up to its sequence, ``INV-2026``."""
        prefix = ""
        for literal, field, _spec, _conversion in string.Formatter().parse(self.template):
            prefix += literal
            if field == "sequence":
                break
            if field is not None:
                prefix += str({"year": year, "entity": self.entity}[field])
        return prefix.rstrip("-_/. ")

    def parse(self, number: str) -> tuple[int, int] | None:
        """(year, sequence) of a number in this format; None if it is not one."""
        match = self._pattern().fullmatch(number)
        if match is None:
            return None
        return int(match["year"]), int(match["sequence"])

    def _pattern(self) -> re.Pattern[str]:
        parts = []
        for literal, field, _spec, _conversion in string.Formatter().parse(self.template):
            parts.append(re.escape(literal))
            if field == "entity":
                parts.append(re.escape(self.entity))
            elif field in ("year", "sequence"):
                parts.append(f"(?P<{field}>[0-9]+)")
        return re.compile("".join(parts))


@dataclass(frozen=True)
class SeriesBreak:
    """A stretch of numbers the counter handed out that no document carries."""

    sentence: str
    first_missing: str


def continuity_breaks(
    number_format: NumberFormat,
    year: int,
    sequences: Iterable[int],
    counter: int,
    found_elsewhere: Callable[[set[int]], set[int]],
) -> list[SeriesBreak]:
    """Check that ``sequences`` (one period's numbers of one series) sit in a gapless series.

    Every number between the period's first and last must exist, and so must the one
    before its first (unless it is the series' first) and the one after its last (unless
    the counter stopped there). Those the period does not hold are handed to
    ``found_elsewhere`` (other periods' invoices); what it does not find is missing. A
    number above the counter is a break too: the counter is the series' only writer.
    """
    held = sorted(set(sequences))
    if not held:
        return []
    label = number_format.label(year)
    breaks = [
        SeriesBreak(
            f"{number_format.number(year, sequence)} is above the {label} counter, which has "
            f"handed out numbers up to {number_format.number(year, counter)} only.",
            number_format.number(year, sequence),
        )
        for sequence in held
        if sequence > counter
    ]
    wanted = _gaps(held)
    if held[0] > 1:
        wanted.add(held[0] - 1)
    if held[-1] < counter:
        wanted.add(held[-1] + 1)
    found = found_elsewhere(set(wanted)) if wanted else set()
    existing = set(held) | found
    for first, last in _stretches(sorted(wanted - found)):
        breaks.append(_sentence(number_format, year, label, (first, last), counter, existing))
    return breaks


def _gaps(held: list[int]) -> set[int]:
    gaps: set[int] = set()
    for before, after in pairwise(held):
        gaps.update(range(before + 1, after))
    return gaps


def _stretches(missing: list[int]) -> list[tuple[int, int]]:
    """Consecutive missing numbers as (first, last) stretches."""
    stretches: list[tuple[int, int]] = []
    for sequence in missing:
        if stretches and stretches[-1][1] == sequence - 1:
            stretches[-1] = (stretches[-1][0], sequence)
        else:
            stretches.append((sequence, sequence))
    return stretches


def _sentence(
    number_format: NumberFormat,
    year: int,
    label: str,
    stretch: tuple[int, int],
    counter: int,
    existing: set[int],
) -> SeriesBreak:
    """A missing stretch in words: "jumps from A to B" only when B is known to exist (only
    the number after the period's last is looked for, not every later one)."""
    first, last = stretch

    def name(sequence: int) -> str:
        return number_format.number(year, sequence)

    count = last - first + 1
    if count <= _LISTED_AT_MOST:
        names = [name(sequence) for sequence in range(first, last + 1)]
        listed = ", ".join(names[:-1]) + (" and " if count > 1 else "") + names[-1]
        missing = f"{listed} {'is' if count == 1 else 'are'} missing"
    else:
        missing = f"{name(first)} to {name(last)} ({count} numbers) are missing"
    if first == 1:
        opening = f"The {label} series does not start at {name(1)}"
    elif last + 1 in existing:
        opening = f"The {label} series jumps from {name(first - 1)} to {name(last + 1)}"
    else:
        opening = (
            f"The {label} counter has handed out numbers up to {name(counter)}, "
            f"but the series stops at {name(first - 1)}"
        )
    return SeriesBreak(f"{opening}: {missing}.", name(first))
