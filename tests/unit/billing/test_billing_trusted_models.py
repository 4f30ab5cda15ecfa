"""Drafts assembled without re-validation are exactly what validation would have built.

The engine builds invoice models with ``trusted_factory`` constructors and reuses per-run results
(``RunMemo``); these tests are the guard that replaces the skipped validation.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from billing_factories import context, customer, raw_account, screened

from invoice_dispatch.billing import (
    account_schema,
    billing_period,
    generate_draft,
    load_catalog,
    screen_account,
)
from invoice_dispatch.billing.account import SCHEMAS, Account
from invoice_dispatch.billing.struct_validation import record_from_model
from invoice_dispatch.billing.trusted import trusted_factory
from invoice_dispatch.invoice import AnomalyFlag, Invoice

SAMPLES = Path(__file__).resolve().parents[3] / "events" / "accounts" / "sample-accounts.json"


def _drafts(period_label: str) -> list[Invoice]:
    period = billing_period(period_label, timezone="Europe/Berlin")
    run_context = context(period_label)
    invoices = []
    for raw in json.loads(SAMPLES.read_text(encoding="utf-8")):
        screening = screen_account(raw, period, load_catalog())
        if screening.account is None:
            continue
        result = generate_draft(screening.account, run_context, screening.account.history)
        if result.invoice is not None:
            invoices.append(result.invoice)
    return invoices


@pytest.mark.parametrize("period_label", ["2026-10", "2026-11", "2026-12", "2027-01"])
def test_every_sample_draft_survives_full_validation_unchanged(period_label: str) -> None:
    invoices = _drafts(period_label)
    assert invoices
    for invoice in invoices:
        revalidated = Invoice.model_validate(invoice.model_dump())
        assert revalidated == invoice
        assert repr(revalidated) == repr(invoice)
        assert revalidated.model_dump_json() == invoice.model_dump_json()
        assert list(invoice.__dict__) == list(Invoice.model_fields)


def test_eligible_screening_carries_the_record_the_schema_would_read() -> None:
    raw = raw_account()
    screening = screen_account(raw, billing_period("2026-11", "Europe/Berlin"), load_catalog())
    assert (screening.account_id, screening.outcome, screening.reason) == (
        raw["account_id"],
        "eligible",
        None,
    )
    assert screening.account == record_from_model(
        account_schema.Account.model_validate(raw), Account, SCHEMAS
    )


def test_trusted_constructor_refuses_a_missing_or_unknown_field() -> None:
    new_flag = trusted_factory(AnomalyFlag)
    with pytest.raises(TypeError):
        new_flag(code="X", message="m")
    with pytest.raises(TypeError):
        new_flag(code="X", message="m", holds_invoice=False, severity="high")


def test_quantities_that_are_equal_but_print_differently_keep_their_own_lines() -> None:
    run_context = context()
    plain = screened(raw_account(account_id="ACC-A"))
    written_out = screened(
        raw_account(
            account_id="ACC-B",
            subscriptions=[
                {
                    "subscription_id": "S",
                    "plan": "STARTER",
                    "quantity": "1.0",
                    "start": "2025-01-01",
                }
            ],
        )
    )
    first = generate_draft(plain, run_context).invoice
    second = generate_draft(written_out, run_context).invoice
    assert first is not None and second is not None
    assert str(first.lines[0].quantity) == "1"
    assert str(second.lines[0].quantity) == "1.0"


def test_tax_rates_that_are_equal_but_print_differently_are_not_shared() -> None:
    run_context = context()
    invoices = [
        generate_draft(
            screened(raw_account(account_id=f"ACC-{rate}", tax_rate_override=rate)), run_context
        ).invoice
        for rate in ("19", "19.0")
    ]
    assert [str(invoice.lines[0].tax_rate) for invoice in invoices if invoice] == ["19", "19.0"]


def test_a_new_context_starts_without_the_previous_runs_results() -> None:
    first, second = context(), context()
    generate_draft(screened(raw_account(customer=customer("FR"))), first)
    assert first.memo.treatments
    assert not second.memo.treatments


def test_trusted_factory_builds_what_validation_builds_and_refuses_unknown_fields() -> None:
    build_flag = trusted_factory(AnomalyFlag)
    flag = build_flag(code="X", message="m", holds_invoice=True)
    validated = AnomalyFlag(code="X", message="m", holds_invoice=True)
    assert flag == validated
    assert repr(flag) == repr(validated)
    assert flag.model_fields_set == validated.model_fields_set
    assert (
        flag.model_fields_set
        is not build_flag(code="Y", message="m", holds_invoice=False).model_fields_set
    )
    with pytest.raises(TypeError):
        build_flag(code="X", message="m")
    with pytest.raises(TypeError):
        build_flag(code="X", message="m", holds_invoice=False, extra="no")


def _three_plan_account(account_id: str, first_start: str = "2025-01-01") -> dict:
    return raw_account(
        account_id=account_id,
        subscriptions=[
            {"subscription_id": f"{account_id}-1", "plan": "STARTER", "start": first_start},
            {
                "subscription_id": f"{account_id}-2",
                "plan": "TEAM-SEAT",
                "quantity": "4",
                "start": "2025-01-01",
                "unit_price": "10.00",
            },
            {"subscription_id": f"{account_id}-3", "plan": "BUSINESS", "start": "2025-01-01"},
        ],
    )


@pytest.mark.parametrize("first_start", ["2025-01-01", "2026-11-10"])
def test_subscriptions_reused_within_a_run_give_the_same_draft_as_a_fresh_run(
    first_start: str,
) -> None:
    shared_context = context()
    generate_draft(screened(_three_plan_account("ACC-WARM", first_start)), shared_context)
    account = screened(_three_plan_account("ACC-COLD", first_start))
    reused = generate_draft(account, shared_context).invoice
    fresh = generate_draft(account, context()).invoice
    assert reused is not None and fresh is not None
    assert reused.model_dump_json() == fresh.model_dump_json()
    assert reused.anomalies == fresh.anomalies
    assert [flag.code for flag in fresh.anomalies] == ["PRICE_OFF_CATALOG"]


def test_reused_subscription_lines_keep_their_position_on_each_invoice() -> None:
    run_context = context()
    one_plan = screened(raw_account(account_id="ACC-ONE"))
    two_plans = screened(
        raw_account(
            account_id="ACC-TWO",
            subscriptions=[
                {"subscription_id": "A", "plan": "BUSINESS", "start": "2025-01-01"},
                {"subscription_id": "B", "plan": "STARTER", "start": "2025-01-01"},
            ],
        )
    )
    first = generate_draft(one_plan, run_context).invoice
    second = generate_draft(two_plans, run_context).invoice
    assert first is not None and second is not None
    assert [line.line_id for line in second.lines] == ["L001", "L002"]
    assert second.lines[1].description == first.lines[0].description
    assert Invoice.model_validate(second.model_dump()) == second


def test_a_steady_subscription_and_a_changed_one_on_the_same_terms_bill_apart() -> None:
    run_context = context()
    steady = generate_draft(screened(raw_account(account_id="ACC-S")), run_context).invoice
    changed_raw = raw_account(account_id="ACC-C")
    changed_raw["subscriptions"][0]["changes"] = [{"effective": "2026-11-16", "plan": "BUSINESS"}]
    changed = generate_draft(screened(changed_raw), run_context).invoice
    assert steady is not None and changed is not None
    assert [line.kind for line in steady.lines] == ["recurring"]
    assert [line.kind for line in changed.lines] == [
        "recurring",
        "proration_credit",
        "proration_charge",
    ]


def test_coupons_equal_in_value_share_their_wording_and_match_a_fresh_run() -> None:
    """Discount wording is memoized by the coupon record, which compares 10 and 10.0 equal."""
    shared_context = context()
    invoices = []
    for percent in ("10", "10.0", "1E+1"):
        raw = raw_account(
            account_id=f"ACC-{percent}",
            discounts=[{"discount_id": "TEN", "kind": "percentage", "percent": percent}],
        )
        reused = generate_draft(screened(raw), shared_context).invoice
        fresh = generate_draft(screened(raw), context()).invoice
        assert reused is not None and fresh is not None
        assert reused.model_dump_json() == fresh.model_dump_json()
        invoices.append(reused)
    assert {invoice.lines[-1].description for invoice in invoices} == {"TEN: 10 % off the invoice"}
