"""Drafts for every contract shape of issue 5, asserted on what the customer reads."""

from __future__ import annotations

from decimal import Decimal

import pytest
from babel.numbers import format_decimal
from billing_factories import (
    PERIOD,
    context,
    customer,
    draft_for,
    invoice_for,
    raw_account,
    screened,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from invoice_dispatch.billing import (
    AnomalyThresholds,
    billing_period,
    generate_draft,
    load_catalog,
    screen_account,
)
from invoice_dispatch.billing.anomalies import NON_POSITIVE_TOTAL
from invoice_dispatch.billing.catalog import PRODUCT_CODES
from invoice_dispatch.billing.credit_note import NotCreditable, create_credit_note
from invoice_dispatch.billing.wording import wording
from invoice_dispatch.invoice import Invoice, InvoiceStatus, TaxCategory, invoice_id_for
from invoice_dispatch.money import round_money

D = Decimal


def sub(plan: str = "STARTER", start: str = "2025-01-01", **fields: object) -> dict[str, object]:
    return {"subscription_id": "SUB-1", "plan": plan, "start": start, **fields}


def lines_of(invoice: Invoice) -> list[tuple[str, str, Decimal]]:
    return [(line.kind, line.product_code, line.net_amount) for line in invoice.lines]


def assert_totals_add_up(invoice: Invoice) -> None:
    assert invoice.net_total == sum(line.net_amount for line in invoice.lines)
    assert invoice.tax_total == sum(row.tax_amount for row in invoice.tax_breakdown)
    assert invoice.gross_total == invoice.net_total + invoice.tax_total
    assert_lines_multiply_out(invoice)


def assert_lines_multiply_out(invoice: Invoice) -> None:
    """Peppol R120: quantity x price / base quantity, rounded half up, is the line amount."""
    for line in invoice.lines:
        product = line.quantity * line.unit_price / line.base_quantity
        assert round_money(product, invoice.currency) == line.net_amount, line


def test_draft_is_identified_by_account_period_and_mode() -> None:
    live = invoice_for(raw_account())
    shadow = invoice_for(raw_account(), mode="shadow")
    assert live.invoice_id == invoice_id_for("ACC-TEST", "2026-11", "live")
    assert shadow.invoice_id == invoice_id_for("ACC-TEST", "2026-11", "shadow")
    assert live.status == InvoiceStatus.DRAFT and live.number is None
    assert live.customer.name == "Test Kunde GmbH" and live.legal_entity == "NORTHWIND-EU"


@pytest.mark.parametrize(
    ("case", "subscription", "expected_lines", "expected_description"),
    [
        (
            "flat monthly in advance",
            sub(),
            [("recurring", "STARTER", D("29.00"))],
            "Starter plan, 2026-11-01 to 2026-11-30",
        ),
        (
            "per seat",
            sub("TEAM-SEAT", quantity="7"),
            [("recurring", "TEAM-SEAT", D("84.00"))],
            "Team plan, 7 seats, 2026-11-01 to 2026-11-30",
        ),
        (
            "package plan bills started packs",
            sub("STORAGE-PACK", quantity="250"),
            [("recurring", "STORAGE-PACK", D("30.00"))],
            "Storage pack, 3 x 100 GB (250 GB used), 2026-11-01 to 2026-11-30",
        ),
        (
            "quarterly in advance bills the quarter in its first month",
            sub("BUSINESS", start="2026-08-01", cadence="quarterly"),
            [("recurring", "BUSINESS", D("749.85"))],
            "Business plan, quarterly, 2026-11-01 to 2027-01-31",
        ),
        (
            "annual plan bills its year",
            sub("ENTERPRISE", start="2025-11-01"),
            [("recurring", "ENTERPRISE", D("12000.00"))],
            "Enterprise plan, annual, 2026-11-01 to 2027-10-31",
        ),
        (
            "custom 6-month term in arrears bills in its last month",
            sub(
                "TEAM-SEAT",
                start="2026-06-01",
                quantity="3",
                cadence="custom",
                interval_months=6,
                billing_timing="arrears",
            ),
            [("recurring", "TEAM-SEAT", D("216.00"))],
            "Team plan, 3 seats, every 6 months, in arrears, 2026-06-01 to 2026-11-30",
        ),
        (
            "start mid-month",
            sub("TEAM-SEAT", start="2026-11-19", quantity="1"),
            [("recurring", "TEAM-SEAT", D("4.80"))],
            "Team plan, 1 seat, 12 of 30 days, 2026-11-19 to 2026-11-30",
        ),
        (
            "cancel mid-month",
            sub(end="2026-11-15"),
            [("recurring", "STARTER", D("14.50"))],
            "Starter plan, 15 of 30 days, 2026-11-01 to 2026-11-15",
        ),
        # Lago trial docs: 50.00/month, first 5 days of a 30-day month free -> 41.67
        (
            "Lago trial example",
            sub(start="2026-11-01", trial_end="2026-11-05", unit_price="50.00"),
            [("recurring", "STARTER", D("41.67"))],
            "Starter plan, 25 of 30 days, 2026-11-06 to 2026-11-30 (free trial until 2026-11-05)",
        ),
        # a subscription starting 00:30 on 1 November in Berlin is 31 October in UTC
        (
            "start at 00:30 local on the 1st bills the whole month",
            sub("BUSINESS", start="2026-10-31T23:30:00Z"),
            [("recurring", "BUSINESS", D("249.95"))],
            "Business plan, 2026-11-01 to 2026-11-30",
        ),
    ],
)
def test_recurring_charge_for_each_contract_shape(
    case: str,
    subscription: dict[str, object],
    expected_lines: list[tuple[str, str, Decimal]],
    expected_description: str,
) -> None:
    invoice = invoice_for(raw_account(subscriptions=[subscription]))
    assert lines_of(invoice) == expected_lines, case
    assert invoice.lines[0].description == expected_description
    assert_totals_add_up(invoice)


def test_quarterly_plan_is_not_billed_in_the_middle_month_of_its_term() -> None:
    raw = raw_account(subscriptions=[sub("BUSINESS", start="2026-10-01", cadence="quarterly")])
    result = draft_for(raw, "2026-10")
    assert result.invoice is not None
    from invoice_dispatch.billing import billing_period, load_catalog, screen_account

    screening = screen_account(raw, billing_period("2026-11", "Europe/Berlin"), load_catalog())
    assert screening.outcome == "excluded"
    assert "another month of its term" in (screening.reason or "")


def test_account_timezone_override_moves_the_start_day() -> None:
    raw = raw_account(
        timezone="America/Los_Angeles",
        subscriptions=[sub(start="2026-12-01T06:00:00Z")],
    )
    invoice = invoice_for(raw)
    assert invoice.lines[0].description == "Starter plan, 1 of 30 days, 2026-11-30 to 2026-11-30"


def test_stripe_upgrade_halfway_credits_unused_time_and_charges_the_rest() -> None:
    # Stripe proration guide: 10.00 -> 20.00 halfway: credit -5.00, charge 10.00, net +5.00
    raw = raw_account(
        currency="USD",
        customer=customer("US"),
        subscriptions=[
            sub(unit_price="10.00", changes=[{"effective": "2026-11-16", "unit_price": "20.00"}])
        ],
    )
    invoice = invoice_for(raw)
    credit, charge = invoice.lines[1], invoice.lines[2]
    assert (credit.kind, credit.net_amount) == ("proration_credit", D("-5.00"))
    assert (charge.kind, charge.net_amount) == ("proration_charge", D("10.00"))
    assert credit.net_amount + charge.net_amount == D("5.00")
    assert (
        credit.description == "Unused time on Starter plan, 15 of 30 days, 2026-11-16 to 2026-11-30"
    )


def test_prorated_lines_state_days_of_the_term_so_quantity_times_price_is_the_amount() -> None:
    """Issue 16: "Unused time on Starter plan" printed 1 x 29.00 beside -14.50."""
    raw = raw_account(
        subscriptions=[sub(changes=[{"effective": "2026-11-16", "plan": "BUSINESS"}])]
    )
    invoice = invoice_for(raw)
    recurring, credit, charge = invoice.lines

    assert (recurring.quantity, recurring.unit_price, recurring.base_quantity) == (
        D(1),
        D("29.00"),
        D(1),
    )
    assert (credit.quantity, credit.unit_price, credit.base_quantity, credit.net_amount) == (
        D(-15),
        D("29.00"),
        D(30),
        D("-14.50"),
    )
    assert (charge.quantity, charge.unit_price, charge.base_quantity, charge.net_amount) == (
        D(15),
        D("249.95"),
        D(30),
        D("124.98"),
    )
    assert_totals_add_up(invoice)


def test_graduated_usage_is_one_line_per_tier_at_the_tier_price() -> None:
    """Issue 16: 85,000 calls printed at an average 0.000882 made 74.97, not 75.00."""
    invoice = invoice_for(raw_account(usage=[{"metric": "API-CALLS", "quantity": "85000"}]))
    tiers = [line for line in invoice.lines if line.kind == "usage"]

    assert [(line.quantity, line.unit_price, line.net_amount) for line in tiers] == [
        (D(10000), D(0), D("0.00")),
        (D(75000), D("0.0010"), D("75.00")),
    ]
    assert [line.description for line in tiers] == [
        "API calls 1 to 10,000 (graduated tier 1 of 3), 2026-11-01 to 2026-11-30",
        "API calls 10,001 to 85,000 (graduated tier 2 of 3), 2026-11-01 to 2026-11-30",
    ]
    assert_totals_add_up(invoice)


def test_tax_inclusive_line_states_a_net_price() -> None:
    """EN 16931 prices are net; the line's net amount comes from its gross price."""
    invoice = invoice_for(
        raw_account(prices_include_tax=True, subscriptions=[sub("TEAM-SEAT", quantity="7")])
    )
    (line,) = invoice.lines

    assert line.net_amount == D("70.59")  # 7 x 12.00 gross at 19 %
    assert line.unit_price < D("12.00")
    assert_totals_add_up(invoice)


@pytest.mark.parametrize(
    ("case", "change", "timing", "expected"),
    [
        (
            "upgrade in advance",
            {"effective": "2026-11-16", "plan": "BUSINESS"},
            "advance",
            [
                ("recurring", "STARTER", D("29.00")),
                ("proration_credit", "STARTER", D("-14.50")),
                ("proration_charge", "BUSINESS", D("124.98")),
            ],
        ),
        (
            "downgrade in advance",
            {"effective": "2026-11-21", "plan": "STARTER"},
            "advance",
            [
                ("recurring", "BUSINESS", D("249.95")),
                ("proration_credit", "BUSINESS", D("-83.32")),
                ("proration_charge", "STARTER", D("9.67")),
            ],
        ),
        (
            "seat change in arrears",
            {"effective": "2026-11-21", "quantity": "15"},
            "arrears",
            [("recurring", "TEAM-SEAT", D("80.00")), ("recurring", "TEAM-SEAT", D("60.00"))],
        ),
    ],
)
def test_mid_period_change_is_prorated_by_calendar_day(
    case: str, change: dict[str, str], timing: str, expected: list[tuple[str, str, Decimal]]
) -> None:
    plan = {"upgrade in advance": "STARTER", "downgrade in advance": "BUSINESS"}.get(
        case, "TEAM-SEAT"
    )
    quantity = "10" if plan == "TEAM-SEAT" else "1"
    raw = raw_account(
        subscriptions=[sub(plan, quantity=quantity, billing_timing=timing, changes=[change])]
    )
    invoice = invoice_for(raw)
    assert lines_of(invoice) == expected, case
    assert_totals_add_up(invoice)


@pytest.mark.parametrize(
    ("case", "usage", "expected_amount"),
    [
        (
            "graduated: first 10,000 free, then 0.0010",
            {"metric": "API-CALLS", "quantity": "85000"},
            D("75.00"),
        ),
        (
            "graduated across three tiers",
            {"metric": "API-CALLS", "quantity": "250000"},
            D("165.00"),
        ),
        (
            "volume: the whole quantity at the reached tier",
            {"metric": "API-CALLS", "quantity": "450000", "pricing": "volume"},
            D("360.00"),
        ),
        ("volume storage", {"metric": "STORAGE-GB", "quantity": "1250"}, D("62.50")),
        ("per unit", {"metric": "SMS", "quantity": "1800"}, D("90.00")),
        (
            "package: started packages of 1,000",
            {"metric": "SMS", "quantity": "2500", "pricing": "package"},
            D("120.00"),
        ),
        ("no usage bills nothing", {"metric": "SMS", "quantity": "0"}, D("0.00")),
    ],
)
def test_usage_is_priced_by_its_tier_model(
    case: str, usage: dict[str, str], expected_amount: Decimal
) -> None:
    """Graduated usage is one line per tier it reaches; the usage amount is their sum."""
    invoice = invoice_for(raw_account(usage=[usage]))
    usage_lines = [line for line in invoice.lines if line.kind == "usage"]
    assert usage_lines, case
    assert sum(line.net_amount for line in usage_lines) == expected_amount, case


def test_minimum_commitment_tops_usage_up_with_a_true_up_line() -> None:
    raw = raw_account(
        usage=[{"metric": "API-CALLS", "quantity": "40000"}],
        minimum_commitment={"amount": "150.00"},
    )
    true_up = invoice_for(raw).lines[-1]
    assert (true_up.product_code, true_up.net_amount) == ("MIN-COMMIT", D("120.00"))
    assert true_up.description == (
        "Minimum usage commitment of 150.00 EUR per month; usage came to 30.00 EUR"
    )


def test_minimum_commitment_met_adds_no_line() -> None:
    raw = raw_account(
        usage=[{"metric": "API-CALLS", "quantity": "400000"}], minimum_commitment={"amount": "50"}
    )
    assert "MIN-COMMIT" not in {line.product_code for line in invoice_for(raw).lines}


def test_milestone_bills_only_its_due_part_and_names_it() -> None:
    raw = raw_account(
        subscriptions=[],
        milestones=[
            {
                "milestone_id": "M1",
                "description": "Migration project",
                "contract_amount": "1000.00",
                "parts": [
                    {"share": "33", "due_period": "2026-10"},
                    {"share": "33", "label": "Cut-over", "due_period": "2026-11"},
                    {"share": "34", "due_period": "2026-12"},
                ],
            }
        ],
    )
    invoice = invoice_for(raw)
    assert lines_of(invoice) == [("milestone", "MILESTONE", D("330.00"))]
    assert invoice.lines[0].description == (
        "Migration project: milestone 2 of 3 'Cut-over', 33 % of 1,000.00 EUR"
    )
    assert invoice_for(raw, "2026-12").lines[0].net_amount == D("340.00")


def test_one_off_is_billed_in_its_period_only() -> None:
    raw = raw_account(one_offs=[{"product": "ONBOARDING", "bill_in": "2026-12"}])
    assert "ONBOARDING" not in {line.product_code for line in invoice_for(raw).lines}
    assert invoice_for(raw, "2026-12").lines[-1].net_amount == D("500.00")


@pytest.mark.parametrize(
    ("case", "discounts", "period", "expected_discounts"),
    [
        (
            "percentage on invoice",
            [{"discount_id": "P10", "kind": "percentage", "percent": "10"}],
            "2026-11",
            [D("-27.90")],
        ),
        (
            "fixed on one line",
            [{"discount_id": "F5", "kind": "fixed", "amount": "5.00", "applies_to": "STARTER"}],
            "2026-11",
            [D("-5.00")],
        ),
        (
            "fixed larger than its line is capped at the line",
            [{"discount_id": "F99", "kind": "fixed", "amount": "99.00", "applies_to": "STARTER"}],
            "2026-11",
            [D("-29.00")],
        ),
        (
            "coupon in its last period",
            [
                {
                    "discount_id": "C3",
                    "kind": "percentage",
                    "percent": "50",
                    "first_period": "2026-09",
                    "periods": 3,
                }
            ],
            "2026-11",
            [D("-139.48")],
        ),
        (
            "coupon after its periods",
            [
                {
                    "discount_id": "C3",
                    "kind": "percentage",
                    "percent": "50",
                    "first_period": "2026-09",
                    "periods": 2,
                }
            ],
            "2026-11",
            [],
        ),
        (
            "line then invoice discount never below zero",
            [
                {"discount_id": "ALL", "kind": "fixed", "amount": "10000", "applies_to": "invoice"},
                {
                    "discount_id": "L",
                    "kind": "percentage",
                    "percent": "100",
                    "applies_to": "BUSINESS",
                },
            ],
            "2026-11",
            [D("-249.95"), D("-29.00")],
        ),
    ],
)
def test_discounts(
    case: str, discounts: list[dict[str, str]], period: str, expected_discounts: list[Decimal]
) -> None:
    raw = raw_account(
        subscriptions=[
            sub(),
            {"subscription_id": "SUB-2", "plan": "BUSINESS", "start": "2025-01-01"},
        ],
        discounts=discounts,
    )
    invoice = invoice_for(raw, period)
    discount_amounts = [line.net_amount for line in invoice.lines if line.kind == "discount"]
    assert discount_amounts == expected_discounts, case
    assert invoice.gross_total >= 0


def test_coupon_line_says_which_period_of_the_coupon_it_is() -> None:
    raw = raw_account(
        discounts=[
            {
                "discount_id": "WELCOME",
                "description": "Welcome offer",
                "kind": "percentage",
                "percent": "20",
                "first_period": "2026-10",
                "periods": 3,
            }
        ]
    )
    assert invoice_for(raw).lines[-1].description == (
        "Welcome offer: 20 % off the invoice, period 2 of 3"
    )


@pytest.mark.parametrize(
    ("case", "customer_fields", "category", "rate", "reason_contains"),
    [
        ("domestic German VAT", customer("DE"), TaxCategory.STANDARD, D("19"), None),
        (
            "French customer without VAT id pays French VAT",
            customer("FR"),
            TaxCategory.STANDARD,
            D("20"),
            None,
        ),
        (
            "EU B2B with valid VAT id: reverse charge",
            customer("NL", vat_id="NL004495445B01"),
            TaxCategory.REVERSE_CHARGE,
            D("0"),
            "Reverse charge",
        ),
        (
            "invalid VAT id: no reverse charge",
            customer("NL", vat_id="NL123456789B01"),
            TaxCategory.STANDARD,
            D("21"),
            None,
        ),
        (
            "same country as seller: no reverse charge",
            customer("DE", vat_id="DE136695976"),
            TaxCategory.STANDARD,
            D("19"),
            None,
        ),
        (
            "exempt customer",
            customer("DE", tax_exempt=True, exemption_reason="§ 4 Nr. 22 UStG"),
            TaxCategory.EXEMPT,
            D("0"),
            "§ 4 Nr. 22 UStG",
        ),
        ("US state rate", customer("US", region="CA"), TaxCategory.STANDARD, D("7.25"), None),
        (
            "US without a state rate",
            customer("US", region="OR"),
            TaxCategory.ZERO_RATED,
            D("0"),
            None,
        ),
        ("Japan consumption tax", customer("JP"), TaxCategory.STANDARD, D("10"), None),
        ("United Kingdom", customer("GB"), TaxCategory.STANDARD, D("20"), None),
    ],
)
def test_tax_treatment_follows_customer_country_and_status(
    case: str,
    customer_fields: dict[str, object],
    category: TaxCategory,
    rate: Decimal,
    reason_contains: str | None,
) -> None:
    invoice = invoice_for(raw_account(customer=customer_fields))
    (row,) = invoice.tax_breakdown
    assert (row.tax_category, row.tax_rate) == (category, rate), case
    if reason_contains:
        assert reason_contains in (row.exemption_reason or "")
    assert_totals_add_up(invoice)


def test_en16931_rounds_per_line_then_per_rate() -> None:
    # Issue 5: 200.00/month for 29 of 30 days at 25 % VAT -> 193.33 + 48.33 = 241.66
    # (Lago rounds only the total and gets 241.67).
    from invoice_dispatch.billing import load_tax_table

    table = load_tax_table().model_copy(update={"rates": {**load_tax_table().rates, "SE": D(25)}})
    raw = raw_account(
        customer=customer("SE"),
        subscriptions=[sub(start="2026-11-02", unit_price="200.00")],
    )
    invoice = invoice_for(raw, tax_table=table)
    assert (invoice.net_total, invoice.tax_total, invoice.gross_total) == (
        D("193.33"),
        D("48.33"),
        D("241.66"),
    )


def test_tax_inclusive_prices_keep_the_advertised_gross() -> None:
    invoice = invoice_for(raw_account(customer=customer("FR"), prices_include_tax=True))
    assert (invoice.net_total, invoice.tax_total, invoice.gross_total) == (
        D("24.17"),
        D("4.83"),
        D("29.00"),
    )
    assert invoice.prices_include_tax
    assert_totals_add_up(invoice)


def test_bhd_invoice_uses_three_decimals() -> None:
    raw = raw_account(
        currency="BHD", customer=customer("BH"), subscriptions=[sub(start="2026-11-21")]
    )
    invoice = invoice_for(raw)
    assert invoice.lines[0].net_amount == D("4.167")
    assert invoice.tax_total == D("0.417")
    assert invoice.gross_total == D("4.584")


def test_country_missing_from_tax_table_quarantines_the_draft() -> None:
    result = draft_for(raw_account(customer=customer("ZA")))
    assert result.invoice is None
    assert result.quarantine_reason == "No tax rate for country 'ZA' in tax table 2026-07-01"


def test_every_line_uses_a_product_code_the_erp_knows() -> None:
    raw = raw_account(
        subscriptions=[sub(changes=[{"effective": "2026-11-10", "plan": "BUSINESS"}])],
        usage=[{"metric": "SMS", "quantity": "10"}],
        minimum_commitment={"amount": "100"},
        one_offs=[{"product": "ONBOARDING"}],
        discounts=[{"discount_id": "X", "kind": "fixed", "amount": "1"}],
    )
    assert {line.product_code for line in invoice_for(raw).lines} <= PRODUCT_CODES


@pytest.mark.parametrize(
    ("code", "overrides", "holds"),
    [
        ("TOTAL_CHANGE", {"history": {"previous_gross_total": "10.00"}}, False),
        (
            "USAGE_SPIKE",
            {
                "usage": [{"metric": "SMS", "quantity": "5000"}],
                "history": {"trailing_usage_average": {"SMS": "1000"}},
            },
            False,
        ),
        (
            "NON_POSITIVE_TOTAL",
            {"discounts": [{"discount_id": "FREE", "kind": "percentage", "percent": "100"}]},
            True,
        ),
        (
            "DUPLICATE_LINE",
            {"one_offs": [{"product": "ONBOARDING"}, {"product": "ONBOARDING"}]},
            False,
        ),
        ("TAX_RATE_MISMATCH", {"tax_rate_override": "16"}, True),
        ("PRICE_OFF_CATALOG", {"subscriptions": [sub(unit_price="25.00")]}, False),
    ],
)
def test_anomaly_is_flagged_with_a_sentence(
    code: str, overrides: dict[str, object], holds: bool
) -> None:
    invoice = invoice_for(raw_account(**overrides))
    flags = [flag for flag in invoice.anomalies if flag.code == code]
    assert len(flags) == 1
    assert flags[0].holds_invoice is holds
    assert flags[0].message[0].isupper() and len(flags[0].message) > 30


def test_thresholds_decide_flags_and_holds() -> None:
    thresholds = AnomalyThresholds(total_change_percent=D(500), hold_codes=frozenset())
    raw = raw_account(
        history={"previous_gross_total": "10.00"},
        discounts=[{"discount_id": "FREE", "kind": "percentage", "percent": "100"}],
    )
    invoice = invoice_for(raw, thresholds=thresholds)
    assert [flag.code for flag in invoice.anomalies] == [NON_POSITIVE_TOTAL]
    assert not invoice.is_held_by_rule


def test_steady_account_raises_no_flags() -> None:
    raw = raw_account(
        usage=[{"metric": "SMS", "quantity": "1100"}],
        history={"previous_gross_total": "95.00", "trailing_usage_average": {"SMS": "1000"}},
    )
    assert invoice_for(raw).anomalies == ()


def _finalized(invoice: Invoice) -> Invoice:
    return invoice.model_copy(
        update={"status": InvoiceStatus.FINALIZED, "number": "INV-2026-000042"}
    )


def test_credit_note_negates_a_finalized_invoice_and_references_it() -> None:
    original = _finalized(invoice_for(raw_account(usage=[{"metric": "SMS", "quantity": "100"}])))
    credit = create_credit_note(original, "Service outage in November")
    assert credit.credited_invoice_number == "INV-2026-000042"
    assert [line.net_amount for line in credit.lines] == [
        -line.net_amount for line in original.lines
    ]
    assert credit.gross_total == -original.gross_total
    assert credit.status == InvoiceStatus.DRAFT and credit.number is None
    assert "Service outage in November" in credit.lines[0].description
    assert_totals_add_up(credit)


def test_partial_credit_note_taxes_only_the_credited_lines() -> None:
    original = _finalized(invoice_for(raw_account(usage=[{"metric": "SMS", "quantity": "100"}])))
    credit = create_credit_note(original, "SMS billed twice", line_ids=["L002"])
    assert credit.net_total == D("-5.00") and credit.tax_total == D("-0.95")


def test_draft_cannot_be_credited() -> None:
    with pytest.raises(NotCreditable, match="only a finalized"):
        create_credit_note(invoice_for(raw_account()), "wrong")


@settings(max_examples=60, deadline=None)
@given(
    seats=st.integers(min_value=0, max_value=500),
    start_day=st.integers(min_value=1, max_value=30),
    calls=st.integers(min_value=0, max_value=3_000_000),
    percent=st.integers(min_value=1, max_value=100),
    fixed=st.integers(min_value=1, max_value=5_000),
    inclusive=st.booleans(),
    country=st.sampled_from(["DE", "FR", "GB", "JP", "IE"]),
)
def test_totals_equal_sum_of_lines_and_discounts_never_go_negative(
    seats: int, start_day: int, calls: int, percent: int, fixed: int, inclusive: bool, country: str
) -> None:
    raw = raw_account(
        customer=customer(country),
        prices_include_tax=inclusive,
        subscriptions=[sub("TEAM-SEAT", start=f"2026-11-{start_day:02d}", quantity=str(seats))],
        usage=[{"metric": "API-CALLS", "quantity": str(calls)}],
        discounts=[
            {"discount_id": "P", "kind": "percentage", "percent": str(percent)},
            {"discount_id": "F", "kind": "fixed", "amount": str(fixed)},
        ],
    )
    account = screened(raw)
    invoice = generate_draft(account, context()).invoice
    assert invoice is not None
    assert_totals_add_up(invoice)  # and every line multiplies out (R120)
    assert invoice.gross_total >= 0
    assert invoice.tax_breakdown[0].taxable_amount == invoice.net_total


def _enterprise_downgrade(**overrides: object) -> dict[str, object]:
    """ENTERPRISE x10 (annual, EUR 12,000 a seat) down to x4 from 16 November."""
    return raw_account(
        subscriptions=[
            sub(
                "ENTERPRISE",
                start="2026-01-01",
                quantity="10",
                changes=[{"effective": "2026-11-16", "quantity": "4"}],
            )
        ],
        **overrides,
    )


def test_downgrade_leaving_a_credit_issues_no_invoice_and_says_how_it_is_carried() -> None:
    """Issue 16: the downgrade made a -10,977.54 "invoice"; a negative total is no document.

    Unused time of 10 seats, 46 of 365 days (-15,123.29) against 4 seats (+6,049.32).
    """
    result = draft_for(_enterprise_downgrade())

    assert result.invoice is None
    assert result.credit is not None
    assert (result.credit.net_amount, result.credit.gross_amount) == (D("9073.97"), D("10798.02"))
    assert result.credit.account_record() == {
        "credit_id": "CREDIT-2026-11",
        "from_period": "2026-11",
        "amount": "9073.97",
    }
    assert result.skipped_reason == (
        "No invoice for 2026-11: the period's charges and credits leave the customer a credit "
        "of 10,798.02 EUR (9,073.97 EUR before tax). A negative total is not an invoice; the "
        'credit is carried to the 2026-12 invoice by adding {"credit_id": "CREDIT-2026-11", '
        '"from_period": "2026-11", "amount": "9073.97"} to the account\'s "credits" (or '
        "settle it with a credit note)."
    )


def test_carried_credit_is_a_taxed_line_on_the_next_invoice_only() -> None:
    credit = {"credit_id": "CREDIT-2026-11", "from_period": "2026-11", "amount": "20.00"}
    december = invoice_for(raw_account(credits=[credit]), "2026-12")
    january = invoice_for(raw_account(credits=[credit]), "2027-01")

    assert lines_of(december) == [
        ("recurring", "STARTER", D("29.00")),
        ("credit", "CREDIT", D("-20.00")),
    ]
    assert december.lines[1].description == "Credit carried from November 2026 (CREDIT-2026-11)"
    assert (december.net_total, december.tax_total, december.gross_total) == (
        D("9.00"),
        D("1.71"),
        D("10.71"),
    )
    assert_totals_add_up(december)
    assert lines_of(january) == [("recurring", "STARTER", D("29.00"))]


def test_credit_larger_than_the_next_period_is_carried_on_whole() -> None:
    """December bills nothing else (the annual plan is paid): the credit moves to January."""
    record = {"credit_id": "CREDIT-2026-11", "from_period": "2026-11", "amount": "9073.97"}
    result = draft_for(_enterprise_downgrade(credits=[record]), "2026-12")

    assert result.invoice is None and result.credit is not None
    assert result.credit.account_record() == {
        "credit_id": "CREDIT-2026-12",
        "from_period": "2026-12",
        "amount": "9073.97",
    }


def test_annual_to_monthly_mid_term_credits_unused_annual_time_then_bills_monthly() -> None:
    """Issue 16: a plan change could not change cadence. Now: BUSINESS at 2,999.40 a year
    (249.95 a month), paid for 2026; monthly from 16 November."""
    raw = raw_account(
        subscriptions=[
            sub(
                "BUSINESS",
                start="2026-01-01",
                cadence="annual",
                changes=[{"effective": "2026-11-16", "cadence": "monthly", "plan": "STARTER"}],
            )
        ],
        one_offs=[{"description": "Migration", "quantity": "1", "unit_price": "500.00"}],
    )
    november = invoice_for(raw)
    december = invoice_for(raw, "2026-12")

    assert lines_of(november) == [
        ("proration_credit", "BUSINESS", D("-378.01")),  # 2,999.40 x 46 / 365
        ("proration_charge", "STARTER", D("14.50")),  # 29.00 x 15 / 30
        ("one_off", "ONBOARDING", D("500.00")),
    ]
    assert november.lines[0].description == (
        "Unused time on Business plan, annual, 46 of 365 days, 2026-11-16 to 2026-12-31"
    )
    assert november.lines[1].description == (
        "Remaining time on Starter plan, 15 of 30 days, 2026-11-16 to 2026-11-30"
    )
    assert lines_of(december) == [
        ("recurring", "STARTER", D("29.00")),
        ("one_off", "ONBOARDING", D("500.00")),
    ]
    assert_totals_add_up(november)


def test_monthly_to_annual_starts_a_year_on_the_change_month() -> None:
    raw = raw_account(
        subscriptions=[
            sub(
                "BUSINESS",
                start="2026-01-01",
                changes=[{"effective": "2026-11-16", "cadence": "annual"}],
            )
        ]
    )
    november = invoice_for(raw)

    assert lines_of(november) == [
        ("recurring", "BUSINESS", D("249.95")),
        ("proration_credit", "BUSINESS", D("-124.98")),
        ("proration_charge", "BUSINESS", D("2876.14")),  # 2,999.40 x 350 / 365
    ]
    assert november.lines[2].description == (
        "Remaining time on Business plan, annual, 350 of 365 days, 2026-11-16 to 2027-10-31"
    )
    december = screen_account(raw, billing_period("2026-12", "Europe/Berlin"), load_catalog())
    assert december.outcome == "excluded"  # the year runs November to October
    assert lines_of(invoice_for(raw, "2027-11")) == [("recurring", "BUSINESS", D("2999.40"))]


def test_quarterly_in_arrears_to_monthly_bills_the_short_quarter_then_months() -> None:
    raw = raw_account(
        subscriptions=[
            sub(
                "TEAM-SEAT",
                start="2026-08-01",
                quantity="10",
                cadence="quarterly",
                billing_timing="arrears",
                changes=[{"effective": "2026-11-16", "cadence": "monthly"}],
            )
        ]
    )
    november = invoice_for(raw)

    assert lines_of(november) == [
        ("recurring", "TEAM-SEAT", D("58.70")),  # 360.00 x 15 / 92, the quarter cut short
        ("recurring", "TEAM-SEAT", D("60.00")),  # 120.00 x 15 / 30
    ]
    assert lines_of(invoice_for(raw, "2026-12")) == [("recurring", "TEAM-SEAT", D("120.00"))]


def test_change_to_a_custom_cadence_needs_its_interval() -> None:
    raw = raw_account(
        subscriptions=[sub(changes=[{"effective": "2026-11-16", "cadence": "custom"}])]
    )
    screening = screen_account(raw, PERIOD, load_catalog())

    assert screening.reason == (
        "Subscription 'SUB-1': a change to a custom cadence needs 'interval_months'"
    )


def test_change_on_the_first_day_of_a_term_bills_the_new_plan_once() -> None:
    """It used to bill the new plan for the month, credit the old one and charge the new
    one again (470.90 instead of 249.95)."""
    raw = raw_account(
        subscriptions=[sub(changes=[{"effective": "2026-11-01", "plan": "BUSINESS"}])]
    )

    assert lines_of(invoice_for(raw)) == [("recurring", "BUSINESS", D("249.95"))]


def _in_language(locale: str, **fields: object) -> Invoice:
    return invoice_for(raw_account(customer={**customer("DE"), "locale": locale}, **fields))


def test_lines_are_worded_in_the_customers_language_with_its_numbers() -> None:
    """Issue 16: German and French invoices had English lines, and "85,000 calls" reads as
    85 calls to a German reader."""
    fields: dict[str, object] = {
        "subscriptions": [
            sub(
                "TEAM-SEAT",
                quantity="1200",
                changes=[{"effective": "2026-11-16", "quantity": "1250"}],
            )
        ],
        "usage": [{"metric": "API-CALLS", "quantity": "85000"}],
        "discounts": [{"discount_id": "WELCOME", "kind": "percentage", "percent": "12.5"}],
    }
    german = [line.description for line in _in_language("de", **fields).lines]
    french = [line.description for line in _in_language("fr", **fields).lines]

    assert german == [
        "Team-Tarif, 1.200 Nutzer, 01.11.2026 bis 30.11.2026",
        "Nicht genutzte Zeit: Team-Tarif, 1.200 Nutzer, 15 von 30 Tagen, 16.11.2026 bis 30.11.2026",
        "Verbleibende Zeit: Team-Tarif, 1.250 Nutzer, 15 von 30 Tagen, 16.11.2026 bis 30.11.2026",
        "API-Aufrufe 1 bis 10.000 (Staffel 1 von 3), 01.11.2026 bis 30.11.2026",
        "API-Aufrufe 10.001 bis 85.000 (Staffel 2 von 3), 01.11.2026 bis 30.11.2026",
        "WELCOME: 12,5 % Rabatt auf die Rechnung",
    ]
    assert french == [
        "Offre Team, 1\u202f200 sièges, du 1 nov. 2026 au 30 nov. 2026",
        "Temps non utilisé\u00a0: Offre Team, 1\u202f200 sièges, 15 jours sur 30, "
        "du 16 nov. 2026 au 30 nov. 2026",
        "Temps restant\u00a0: Offre Team, 1\u202f250 sièges, 15 jours sur 30, "
        "du 16 nov. 2026 au 30 nov. 2026",
        "Appels API 1 à 10\u202f000 (palier 1 sur 3), du 1 nov. 2026 au 30 nov. 2026",
        "Appels API 10\u202f001 à 85\u202f000 (palier 2 sur 3), du 1 nov. 2026 au 30 nov. 2026",
        "WELCOME\u00a0: remise de 12,5 % sur la facture",
    ]


def test_german_one_offs_minimum_commitment_and_carried_credit_are_german() -> None:
    invoice = _in_language(
        "de",
        usage=[{"metric": "SMS", "quantity": "100"}],
        minimum_commitment={"amount": "1000"},
        one_offs=[{"quantity": "1"}],
        credits=[{"credit_id": "CREDIT-2026-10", "from_period": "2026-10", "amount": "5.00"}],
    )

    assert [line.description for line in invoice.lines[1:]] == [
        "SMS-Nachrichten: 100 Nachrichten (pro Einheit), 01.11.2026 bis 30.11.2026",
        "Mindestumsatz von 1.000,00 EUR pro Monat; die Nutzung betrug 5,00 EUR",
        "Onboarding-Paket",
        "Guthaben übertragen aus Oktober 2026 (CREDIT-2026-10)",
    ]


@settings(max_examples=300, deadline=None)
@given(
    value=st.decimals(min_value=0, max_value=10**12, places=4, allow_nan=False),
    language=st.sampled_from(["en", "de", "fr"]),
)
def test_line_numbers_are_written_as_babel_writes_them(value: Decimal, language: str) -> None:
    """The engine formats numbers itself for speed; babel (CLDR) is the reference."""
    expected = format_decimal(
        value, locale=language, decimal_quantization=False, format="#,##0.####"
    )

    assert wording(language).number(value) == expected


def test_credit_note_lines_are_in_the_invoice_language() -> None:
    german = _in_language("de").model_copy(
        update={"status": InvoiceStatus.FINALIZED, "number": "INV-2026-000001"}
    )
    credit = create_credit_note(german, "Doppelt berechnet")

    assert credit.lines[0].description == (
        "Gutschrift zu INV-2026-000001, Position L001: Starter-Tarif, 01.11.2026 bis "
        "30.11.2026 (Doppelt berechnet)"
    )
