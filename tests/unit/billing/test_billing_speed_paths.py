"""The shortcuts taken for issue 5's drafts/s give exactly what the plain rules give."""

from __future__ import annotations

from decimal import Decimal

import pytest
from billing_factories import PERIOD, raw_account, screened
from hypothesis import given
from hypothesis import strategies as st

from invoice_dispatch.billing import load_catalog, screen_account
from invoice_dispatch.billing.catalog import Tier, UsagePricing, price_usage
from invoice_dispatch.billing.line_terms import graduated_tier_uses, graduated_tiers
from invoice_dispatch.money import round_money

D = Decimal


def _graduated_pricings() -> list[UsagePricing]:
    catalog = load_catalog()
    return [
        pricing
        for metric in catalog.metrics.values()
        for by_currency in metric.models.values()
        for pricing in by_currency.values()
        if pricing.model == "graduated"
    ]


def _tier_amounts(pricing: UsagePricing, quantity: Decimal, currency: str) -> list[Decimal]:
    """What the engine bills: one line per tier, each rounded once."""
    return [
        round_money(units * price + fee, currency)
        for _, _, _, units, price, fee in graduated_tier_uses(graduated_tiers(pricing), quantity)
    ]


@pytest.mark.parametrize("pricing", _graduated_pricings())
def test_tier_lines_add_up_to_price_usage_around_every_catalog_tier_boundary(
    pricing: UsagePricing,
) -> None:
    """The catalog's lower tiers come to whole minor units, so rounding per tier line is
    the one rounding of ``price_usage``: the worked examples keep their amounts."""
    quantities = [D(0), D(-1), D("0.5"), D(1), D(10**9)]
    for tier in pricing.tiers:
        if tier.up_to is not None:
            quantities += [tier.up_to - 1, tier.up_to, tier.up_to + D("0.001"), tier.up_to + 1]
    for quantity in quantities:
        for currency in ("EUR", "JPY", "BHD"):
            expected = price_usage(pricing, quantity, currency)
            assert sum(_tier_amounts(pricing, quantity, currency), D(0)) == expected, quantity


@given(
    bounds=st.lists(st.integers(min_value=0, max_value=10_000), max_size=4),
    prices=st.lists(st.decimals(min_value=0, max_value=100, places=4), min_size=5, max_size=5),
    fees=st.lists(st.sampled_from([D(0), D("1.50"), D(10)]), min_size=5, max_size=5),
    open_last=st.booleans(),
    quantity=st.decimals(min_value=-5, max_value=20_000, places=3),
)
def test_tier_split_prices_each_unit_by_its_tier_for_any_tiers(
    bounds: list[int],
    prices: list[Decimal],
    fees: list[Decimal],
    open_last: bool,
    quantity: Decimal,
) -> None:
    """Also tiers out of order, repeated bounds and a last tier that is not open: the tier
    lines' exact amounts sum to the amount ``price_usage`` rounds once."""
    up_tos: list[Decimal | None] = [D(bound) for bound in bounds]
    if open_last or not up_tos:
        up_tos.append(None)
    tiers = tuple(
        Tier(up_to=up_to, unit_price=price, flat_fee=fee)
        for up_to, price, fee in zip(up_tos, prices, fees, strict=False)
    )
    pricing = UsagePricing(model="graduated", tiers=tiers)
    uses = graduated_tier_uses(graduated_tiers(pricing), quantity)
    exact = sum((units * price + fee for _, _, _, units, price, fee in uses), D(0))

    assert round_money(exact, "EUR") == price_usage(pricing, quantity, "EUR")
    assert all(units >= 0 for _, _, _, units, _, _ in uses)


def test_source_metadata_keys_do_not_change_a_valid_account() -> None:
    """Records are validated as they come; ``_`` keys are dropped only when that fails."""
    plain = raw_account()
    with_metadata = raw_account(_label="<row 3>", _source="s3://bucket/accounts.json")
    assert screened(with_metadata) == screened(plain)


def test_source_metadata_keys_do_not_change_a_quarantine_reason() -> None:
    plain = raw_account(currency="XYZ")
    with_metadata = raw_account(currency="XYZ", _label="<row 3>")
    plain_screening = screen_account(plain, PERIOD, load_catalog())
    metadata_screening = screen_account(with_metadata, PERIOD, load_catalog())
    assert plain_screening.outcome == metadata_screening.outcome == "quarantined"
    assert metadata_screening.reason == plain_screening.reason
    assert plain_screening.reason == "Field 'currency': 'XYZ' is not a supported ISO 4217 currency"


def test_start_timestamp_that_cannot_be_placed_in_the_zone_is_quarantined_at_screening() -> None:
    """A steady subscription skips the date checks only when its start is a plain date."""
    raw = raw_account(
        subscriptions=[
            {"subscription_id": "SUB-1", "plan": "STARTER", "start": "0001-01-01T00:30:00+05:00"}
        ],
        usage=[{"metric": "API-CALLS", "quantity": "10"}],
    )
    screening = screen_account(raw, PERIOD, load_catalog())
    assert screening.outcome == "quarantined"
    assert screening.reason is not None
    assert screening.reason.startswith("Account could not be read: ")
