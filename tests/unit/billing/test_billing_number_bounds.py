"""Every number an account states is bounded at screening, with a sentence (issue 16, item 5).

``1e25``, ``"1e30"`` and ``"1e400"`` used to pass screening and fail at drafting with
"Draft could not be computed: InvalidOperation". The bounds (``account_schema.MAX_*``) are far
above any real contract and low enough that a draft at the bounds still computes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from billing_factories import PERIOD, context, raw_account
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from invoice_dispatch.billing import generate_draft, load_catalog, screen_account

HUGE_NUMBERS = [1e25, "1e30", "1e400"]


def _sub(**fields: Any) -> dict[str, Any]:
    return {"subscription_id": "SUB-1", "plan": "TEAM-SEAT", "start": "2025-01-01", **fields}


#: (where, the raw account with a number put there, the field the sentence names, its bound)
PLACES: list[tuple[str, Any, str, str]] = [
    (
        "seats",
        lambda n: {"subscriptions": [_sub(quantity=n)]},
        "subscriptions #1 quantity",
        "1,000,000,000",
    ),
    (
        "price",
        lambda n: {"subscriptions": [_sub(unit_price=n)]},
        "subscriptions #1 unit_price",
        "1,000,000,000,000",
    ),
    (
        "changed seats",
        lambda n: {"subscriptions": [_sub(changes=[{"effective": "2026-11-10", "quantity": n}])]},
        "subscriptions #1 changes #1 quantity",
        "1,000,000,000",
    ),
    (
        "usage",
        lambda n: {"usage": [{"metric": "SMS", "quantity": n}]},
        "usage #1 quantity",
        "1,000,000,000,000",
    ),
    (
        "one-off",
        lambda n: {"one_offs": [{"quantity": n}]},
        "one_offs #1 quantity",
        "1,000,000,000",
    ),
    (
        "discount",
        lambda n: {"discounts": [{"discount_id": "D", "kind": "fixed", "amount": n}]},
        "discounts #1 amount",
        "1,000,000,000,000",
    ),
    (
        "commitment",
        lambda n: {"minimum_commitment": {"amount": n}},
        "minimum_commitment amount",
        "1,000,000,000,000",
    ),
    (
        "milestone",
        lambda n: {
            "milestones": [
                {
                    "milestone_id": "M",
                    "description": "Project",
                    "contract_amount": n,
                    "parts": [{"share": 1, "due_period": "2026-11"}],
                }
            ]
        },
        "milestones #1 contract_amount",
        "1,000,000,000,000",
    ),
    (
        "carried credit",
        lambda n: {"credits": [{"credit_id": "C", "from_period": "2026-10", "amount": n}]},
        "credits #1 amount",
        "1,000,000,000,000",
    ),
    (
        "previous total",
        lambda n: {"history": {"previous_gross_total": n}},
        "history previous_gross_total",
        "1,000,000,000,000",
    ),
]


@pytest.mark.parametrize("number", HUGE_NUMBERS, ids=str)
@pytest.mark.parametrize(("where", "place", "field", "bound"), PLACES, ids=[p[0] for p in PLACES])
def test_a_huge_number_is_quarantined_at_screening_with_its_bound(
    where: str, place: Any, field: str, bound: str, number: object
) -> None:
    screening = screen_account(raw_account(**place(number)), PERIOD, load_catalog())

    assert screening.outcome == "quarantined", where
    assert screening.reason is not None
    assert screening.reason.startswith(f"Field '{field}': must be {bound} or less (got ")


def test_a_huge_trailing_usage_average_is_quarantined_too() -> None:
    raw = raw_account(history={"trailing_usage_average": {"SMS": "1e400"}})

    screening = screen_account(raw, PERIOD, load_catalog())

    assert screening.reason == (
        "Field 'history trailing_usage_average': 'SMS' must be between 0 and "
        "1,000,000,000,000 (got '1E+400')"
    )


def test_a_number_with_more_than_twelve_decimal_places_is_quarantined() -> None:
    raw = raw_account(subscriptions=[_sub(quantity="5." + "0" * 1_000_000)])

    screening = screen_account(raw, PERIOD, load_catalog())

    assert screening.reason is not None
    assert screening.reason.startswith(
        "Field 'subscriptions #1 quantity': must have at most 12 decimal places (got '5.000"
    )
    assert len(screening.reason) < 150


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    currency=st.sampled_from(["EUR", "JPY", "BHD"]),
    plan=st.sampled_from(["TEAM-SEAT", "ENTERPRISE", "STORAGE-PACK"]),
    seats=st.sampled_from(["1000000000", "999999999.999999999999", "0.000000000001", "1"]),
    price=st.sampled_from(["1000000000000", "999999999999.999999999999", "0.000000000001"]),
    usage=st.sampled_from(["1000000000000", "0.000000000001"]),
    prices_include_tax=st.booleans(),
    change=st.booleans(),
)
def test_a_draft_at_the_bounds_still_computes(
    currency: str,
    plan: str,
    seats: str,
    price: str,
    usage: str,
    prices_include_tax: bool,
    change: bool,
) -> None:
    subscription = _sub(plan=plan, quantity=seats, unit_price=price)
    if change:
        subscription["changes"] = [{"effective": "2026-11-16", "quantity": seats}]
    one_off = {"quantity": seats, "unit_price": price}
    raw = raw_account(
        currency=currency,
        prices_include_tax=prices_include_tax,
        subscriptions=[subscription, {**subscription, "subscription_id": "SUB-2"}],
        usage=[{"metric": "API-CALLS", "quantity": usage, "pricing": "volume"}] * 3
        if currency != "BHD"
        else [],
        one_offs=[one_off, one_off],
        minimum_commitment={"amount": "1000000000000"},
        discounts=[{"discount_id": "D", "kind": "percentage", "percent": "99.999999999999"}],
        history={"previous_gross_total": "-1000000000000"},
    )
    screening = screen_account(raw, PERIOD, load_catalog())
    assert screening.account is not None, screening.reason

    result = generate_draft(screening.account, context(), screening.account.history)

    assert result.invoice is not None, result.quarantine_reason
    assert result.invoice.gross_total == result.invoice.net_total + result.invoice.tax_total


def test_bounds_are_exact_one_more_is_refused() -> None:
    at_bound = raw_account(subscriptions=[_sub(quantity="1000000000")])
    beyond = raw_account(subscriptions=[_sub(quantity="1000000000.000000000001")])

    assert screen_account(at_bound, PERIOD, load_catalog()).outcome == "eligible"
    assert screen_account(beyond, PERIOD, load_catalog()).outcome == "quarantined"
    assert Decimal("1000000000.000000000001") > Decimal(10**9)


def test_a_carried_credit_at_the_bound_is_carried_on_whole() -> None:
    """A credit is money like any other (issue 16's bounds meet its carried credits): at the
    bound it still computes, and, larger than the period, is carried on to the next."""
    record = {"credit_id": "C", "from_period": "2026-10", "amount": "1000000000000"}
    screening = screen_account(raw_account(credits=[record]), PERIOD, load_catalog())
    assert screening.account is not None, screening.reason

    result = generate_draft(screening.account, context(), screening.account.history)

    assert result.invoice is None and result.credit is not None
    assert result.credit.net_amount == Decimal("999999999971.00")  # less November's 29.00
