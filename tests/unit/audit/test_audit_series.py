"""Gapless series: numbers read back into their series, and gaps named in a sentence."""

from __future__ import annotations

import pytest

from invoice_dispatch.audit.series import NumberFormat, continuity_breaks

INVOICES = NumberFormat("INV-{year}-{sequence:06d}", "NORTHWIND-EU")


def nothing_elsewhere(wanted: set[int]) -> set[int]:
    return set()


def sentences(sequences: list[int], counter: int, elsewhere=nothing_elsewhere) -> list[str]:
    return [b.sentence for b in continuity_breaks(INVOICES, 2026, sequences, counter, elsewhere)]


def test_a_number_reads_back_into_its_year_and_sequence() -> None:
    assert INVOICES.parse("INV-2026-000012") == (2026, 12)
    assert INVOICES.parse("CN-2026-000012") is None
    assert INVOICES.label(2026) == "INV-2026"
    assert NumberFormat("{entity}/{year}/{sequence}", "ACME").parse("ACME/2027/7") == (2027, 7)


def test_a_gapless_period_that_starts_the_series_has_no_break() -> None:
    assert sentences(list(range(1, 29)), counter=28) == []


def test_a_number_missing_inside_the_period_is_named() -> None:
    assert sentences([*range(1, 12), *range(13, 29)], counter=28) == [
        "The INV-2026 series jumps from INV-2026-000011 to INV-2026-000013: "
        "INV-2026-000012 is missing."
    ]


def test_a_long_stretch_names_its_first_and_last_number() -> None:
    assert sentences([1, 2, 10], counter=10) == [
        "The INV-2026 series jumps from INV-2026-000002 to INV-2026-000010: "
        "INV-2026-000003 to INV-2026-000009 (7 numbers) are missing."
    ]


def test_numbers_the_counter_handed_out_after_the_last_invoice_are_missing() -> None:
    assert sentences([1, 2, 3], counter=5) == [
        "The INV-2026 counter has handed out numbers up to INV-2026-000005, but the series "
        "stops at INV-2026-000003: INV-2026-000004 is missing."
    ]


def test_a_number_above_the_counter_is_a_break() -> None:
    assert sentences([1, 2], counter=1) == [
        "INV-2026-000002 is above the INV-2026 counter, which has handed out numbers up to "
        "INV-2026-000001 only."
    ]


def test_a_period_continues_the_previous_periods_last_number() -> None:
    """November starts at 41: 40 is October's last, and is found there."""
    asked: list[set[int]] = []

    def october_holds_up_to_40(wanted: set[int]) -> set[int]:
        asked.append(wanted)
        return {n for n in wanted if n <= 40}

    assert sentences(list(range(41, 61)), counter=60, elsewhere=october_holds_up_to_40) == []
    assert asked == [{40}]


def test_numbers_interleaved_with_another_periods_are_not_gaps() -> None:
    """A held October invoice released mid-run took 45: it is October's, not a gap."""
    assert sentences([41, 42, 43, 44, 46], counter=46, elsewhere=lambda w: w) == []


@pytest.mark.parametrize(
    ("sequences", "first_missing"),
    [([2, 3], "INV-2026-000001"), ([1, 3], "INV-2026-000002")],
)
def test_a_period_whose_previous_number_exists_nowhere_breaks(
    sequences: list[int], first_missing: str
) -> None:
    breaks = continuity_breaks(INVOICES, 2026, sequences, 3, nothing_elsewhere)
    assert [b.first_missing for b in breaks] == [first_missing]
    assert breaks[0].sentence.endswith(f"{first_missing} is missing.")
