"""Day proration and exact splits.

Every function here returns amounts already rounded to the currency's minor unit with the
project's one rule (``money.round_money``, half up), because that is the moment an amount
becomes an invoice line. Splits give the remainder to the last part so that the parts
always add up to the contract amount to the minor unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from invoice_dispatch.money import quantum, round_money


def prorate(full_amount: Decimal, active_days: int, total_days: int, currency: str) -> Decimal:
    """``full_amount`` for ``active_days`` of a ``total_days`` term, rounded once.

    Multiplying before dividing keeps 249.95 x 10 / 31 = 80.63 (Kill Bill) exact to the cent;
    dividing first would compound the error of a repeating fraction.
    """
    if active_days == total_days:
        return round_money(full_amount, currency)
    return round_money(full_amount * active_days / total_days, currency)


def split_by_shares(total: Decimal, shares: Sequence[Decimal], currency: str) -> list[Decimal]:
    """Split ``total`` by ``shares`` (weights, e.g. 33/33/34 or 1/1/1) so the parts sum exactly.

    Largest remainder on whole minor units, ties going to the later part: 100.00 in thirds is
    33.33, 33.33, 33.34 as milestone contracts expect. Rounding each part half up and giving
    the last part what is left can make that last part negative (JPY 3 split 9/9/27/1), so
    it is not used.
    """
    if not shares:
        raise ValueError("A split needs at least one share")
    if sum(shares, Decimal(0)) <= 0:
        raise ValueError("Split shares must add up to more than zero")
    return allocate(round_money(total, currency), shares, currency)


def allocate(total: Decimal, weights: Sequence[Decimal], currency: str) -> list[Decimal]:
    """Distribute ``total`` over ``weights`` by largest remainder, parts summing exactly.

    Weights must not be negative; ties in the remainder go to the later part.
    """
    weight_total = sum(weights, Decimal(0))
    if not weights:
        return []
    if weight_total == 0:
        return [total, *[Decimal(0) * total for _ in weights[1:]]]
    unit = quantum(currency)
    units_total = int((total / unit).to_integral_value())
    raw_units = [units_total * weight / weight_total for weight in weights]
    floors = [int(value // 1) for value in raw_units]
    shortfall = units_total - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (raw_units[i] - floors[i], i), reverse=True)
    for index in order[:shortfall]:
        floors[index] += 1
    return [Decimal(units) * unit for units in floors]
