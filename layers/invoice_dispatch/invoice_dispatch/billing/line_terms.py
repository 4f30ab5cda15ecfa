"""Quantity, price and base quantity of a line, so that they multiply out to its amount.

EN 16931 states a line as quantity (BT-129), net price (BT-146) per base quantity (BT-149)
and net amount (BT-131); Peppol's rule R120, and every accountant reading the PDF, check
that quantity x price / base quantity is the amount. A prorated charge used to print its
seats and the full price beside the prorated amount (29 x 1 = -14.50) and a graduated
usage charge an average price rounded to six places (85,000 x 0.000882 = 74.97, not
75.00). Here the amount a line is billed stays exactly what it was (the engine's one
rounding of the exact product); only the way the line states it changes:

* a charge for part of a term bills the days used of the term's days: quantity = units x
  days used, base quantity = days in the term, price = the term's price per unit
  ("15/30 x 29.00 = 14.50");
* when a term is not the plan's own cadence (an annual plan billed quarterly), the price is
  scaled to the term if that is an exact decimal, else the months go into quantity and base
  ("1/12 x 10,000.00");
* graduated usage is one line per tier it reaches, each at its tier's price
  (``graduated_tier_uses``), so each line is quantity x price, rounded once.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from invoice_dispatch.billing.catalog import UsagePricing

_ONE = Decimal(1)
#: A scaled term price is used only when it is exact in this many places.
_PRICE_PLACES = Decimal("0.000001")


def charge_terms(
    units: Decimal,
    unit_price: Decimal,
    plan_months: int,
    term_months: int,
    days: int,
    term_days: int,
) -> tuple[Decimal, Decimal, Decimal]:
    """(quantity, price, base quantity) of ``units`` x ``unit_price`` (per ``plan_months``)
    for ``days`` of a ``term_days``-day term of ``term_months`` months.

    quantity x price / base is exactly ``units x unit_price x term_months x days /
    (plan_months x term_days)``, the amount the engine rounds once, so the line's rounded
    product is its amount to the minor unit.
    """
    quantity, base = units, _ONE
    price = unit_price
    if term_months != plan_months:
        exact = unit_price * term_months
        for places in (unit_price, _PRICE_PLACES):  # 249.95 x 12 is 2999.40, not 2999.400000
            scaled = (exact / plan_months).quantize(places)
            if scaled * plan_months == exact:
                price = scaled
                break
        else:
            quantity, base = quantity * term_months, base * plan_months
    if days != term_days:
        quantity, base = quantity * days, base * term_days
    return quantity, price, base


#: Per graduated tier: (lower bound, inclusive upper bound or None, unit price, flat fee).
GraduatedTiers = tuple[tuple[Decimal, Decimal | None, Decimal, Decimal], ...]
#: The part of a quantity in one tier: (position from 1, first unit, last unit, units,
#: unit price, flat fee).
TierUse = tuple[int, Decimal, Decimal, Decimal, Decimal, Decimal]
_ZERO = Decimal(0)


def graduated_tiers(pricing: UsagePricing) -> GraduatedTiers:
    """The tiers with their lower bounds, worked out once per run (tiers as in ``price_usage``)."""
    tiers = []
    lower = _ZERO
    for tier in pricing.tiers:
        tiers.append((lower, tier.up_to, tier.unit_price, tier.flat_fee))
        if tier.up_to is None:
            break
        lower = tier.up_to
    return tuple(tiers)


def graduated_tier_uses(tiers: GraduatedTiers, quantity: Decimal) -> list[TierUse]:
    """Each tier ``quantity`` reaches, with the units that fall in it.

    A zero quantity reaches the first tier with nothing in it, so the line still says
    what was measured.
    """
    if quantity <= 0:
        return [(1, _ZERO, _ZERO, _ZERO, tiers[0][2], _ZERO)]
    uses = []
    for position, (lower, up_to, unit_price, flat_fee) in enumerate(tiers, start=1):
        upper = quantity if up_to is None or quantity <= up_to else up_to
        if upper > lower:
            uses.append((position, lower + 1, upper, upper - lower, unit_price, flat_fee))
        if upper == quantity:
            break
    return uses


def restated_for_net(
    quantity: Decimal, price: Decimal, base: Decimal, net_amount: Decimal, quantum: Decimal
) -> tuple[Decimal, Decimal]:
    """(price, base quantity) at which ``quantity`` multiplies out to ``net_amount``.

    For a line whose amount is not simply its quantity times its price: a tax-inclusive
    line (its net is derived from a gross price, EN 16931 prices are net) or a tier with a
    flat fee. The price is the net per unit when six places state it closely enough that
    the product rounds to the amount; otherwise the line is "quantity / quantity x amount".
    """
    if quantity == 0 or _rounded(quantity * price / base, quantum) == net_amount:
        return price, base
    for places in (quantum, _PRICE_PLACES):  # 24.17 rather than 24.170000 where it is exact
        per_unit = (net_amount * base / quantity).quantize(places)
        if per_unit >= 0 and _rounded(quantity * per_unit / base, quantum) == net_amount:
            return per_unit, base
    return (net_amount if quantity > 0 else -net_amount), abs(quantity)


def _rounded(amount: Decimal, quantum: Decimal) -> Decimal:
    return amount.quantize(quantum, ROUND_HALF_UP)
