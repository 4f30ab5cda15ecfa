"""Proration and splits: the published worked examples, and their properties."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invoice_dispatch.billing.proration import allocate, prorate, split_by_shares
from invoice_dispatch.money import quantum, round_money

D = Decimal


@pytest.mark.parametrize(
    ("source", "price", "days", "total_days", "currency", "expected"),
    [
        # Kill Bill subscription docs (docs.killbill.io, "Subscription Billing", pro-ration)
        ("Kill Bill, 10 of 31 days", D("249.95"), 10, 31, "EUR", D("80.63")),
        ("Kill Bill, 30 of 31 days", D("249.95"), 30, 31, "EUR", D("241.89")),
        # Lago trial docs (doc.getlago.com, "Plans > Trial period"): 5 free days of 30
        ("Lago trial, 25 of 30 days", D("50.00"), 25, 30, "EUR", D("41.67")),
        # Stripe proration guide (docs.stripe.com/billing/subscriptions/prorations)
        ("Stripe, unused half of 10.00", D("10.00"), 15, 30, "USD", D("5.00")),
        ("Stripe, remaining half of 20.00", D("20.00"), 15, 30, "USD", D("10.00")),
        # EN 16931 rounding example of issue 5: 200.00 for 29 of 30 days
        ("EN 16931, 29 of 30 days", D("200.00"), 29, 30, "EUR", D("193.33")),
        ("JPY has no minor unit", D("4500"), 21, 30, "JPY", D("3150")),
        ("BHD rounds to three decimals", D("12.500"), 10, 31, "BHD", D("4.032")),
    ],
)
def test_prorated_amount_matches_published_example(
    source: str, price: Decimal, days: int, total_days: int, currency: str, expected: Decimal
) -> None:
    assert prorate(price, days, total_days, currency) == expected, source


@pytest.mark.parametrize(
    ("source", "total", "shares", "currency", "expected"),
    [
        (
            "33/33/34 contract split",
            D("1000.00"),
            [33, 33, 34],
            "EUR",
            ["330.00", "330.00", "340.00"],
        ),
        ("thirds of 100.00", D("100.00"), [1, 1, 1], "EUR", ["33.33", "33.33", "33.34"]),
        ("thirds of JPY 10,000", D("10000"), [1, 1, 1], "JPY", ["3333", "3333", "3334"]),
        ("50/50 split", D("999.99"), [50, 50], "EUR", ["499.99", "500.00"]),
        ("thirds of BHD 1.000", D("1.000"), [1, 1, 1], "BHD", ["0.333", "0.333", "0.334"]),
    ],
)
def test_milestone_split_matches_contract_to_the_minor_unit(
    source: str, total: Decimal, shares: list[int], currency: str, expected: list[str]
) -> None:
    parts = split_by_shares(total, [D(share) for share in shares], currency)
    assert parts == [D(value) for value in expected], source
    assert sum(parts) == total


amounts = st.decimals(min_value=D("0.01"), max_value=D("1000000"), places=2)
currencies = st.sampled_from(["EUR", "USD", "JPY", "BHD"])


@given(
    price=amounts,
    total_days=st.sampled_from([28, 29, 30, 31, 90, 92, 365, 366]),
    currency=currencies,
)
def test_full_period_proration_equals_full_price(
    price: Decimal, total_days: int, currency: str
) -> None:
    assert prorate(price, total_days, total_days, currency) == round_money(price, currency)


@given(
    price=amounts,
    total_days=st.sampled_from([28, 29, 30, 31]),
    cuts=st.lists(st.integers(min_value=1, max_value=27), max_size=5, unique=True),
    currency=currencies,
)
def test_splitting_a_period_loses_at_most_one_minor_unit_per_part(
    price: Decimal, total_days: int, cuts: list[int], currency: str
) -> None:
    edges = [0, *sorted(cuts), total_days]
    parts = [prorate(price, b - a, total_days, currency) for a, b in itertools.pairwise(edges)]
    whole = prorate(price, total_days, total_days, currency)
    assert abs(sum(parts) - whole) <= quantum(currency) * len(parts)


@given(
    total=amounts,
    shares=st.lists(st.integers(min_value=1, max_value=100), min_size=1, max_size=8),
    currency=currencies,
)
def test_milestone_parts_always_sum_to_the_contract(
    total: Decimal, shares: list[int], currency: str
) -> None:
    rounded_total = round_money(total, currency)
    parts = split_by_shares(total, [D(s) for s in shares], currency)
    assert sum(parts) == rounded_total
    assert all(part >= 0 for part in parts)


@given(
    total=amounts,
    weights=st.lists(st.integers(min_value=1, max_value=10_000), min_size=1, max_size=6),
)
def test_allocation_spreads_a_total_without_creating_money(
    total: Decimal, weights: list[int]
) -> None:
    assert sum(allocate(total, [D(w) for w in weights], "EUR")) == total
