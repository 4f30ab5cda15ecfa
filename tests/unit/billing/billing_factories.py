"""Factories for billing tests: a raw account as a source would send it, and a run context."""

from __future__ import annotations

import copy
from typing import Any

from invoice_dispatch.billing import (
    Account,
    AnomalyThresholds,
    BillingContext,
    DraftResult,
    billing_period,
    generate_draft,
    load_catalog,
    load_tax_table,
    screen_account,
)
from invoice_dispatch.invoice import Invoice
from invoice_dispatch.legal_entity import load_legal_entity

PERIOD = billing_period("2026-11", timezone="Europe/Berlin")


def raw_account(**overrides: Any) -> dict[str, Any]:
    """A valid German customer on the Starter plan since 2025; override any top-level key."""
    account: dict[str, Any] = {
        "account_id": "ACC-TEST",
        "currency": "EUR",
        "customer": {
            "name": "Test Kunde GmbH",
            "email": "billing@test-kunde.example.com",
            "address": {"line1": "Teststraße 1", "city": "Berlin", "country": "DE"},
        },
        "subscriptions": [{"subscription_id": "SUB-1", "plan": "STARTER", "start": "2025-01-01"}],
    }
    account.update(copy.deepcopy(overrides))
    return account


def customer(country: str = "DE", **fields: Any) -> dict[str, Any]:
    address = {"line1": "1 Test Road", "city": "Test City", "country": country}
    if "region" in fields:
        address["region"] = fields.pop("region")
    return {"name": "Test Customer", "email": "ap@test.example.org", "address": address, **fields}


def rich_account() -> dict[str, Any]:
    """Every optional part of the schema at least once."""
    return raw_account(
        account_id="ACC-RICH",
        timezone="America/New_York",
        prices_include_tax=True,
        payment_terms_days=14,
        tax_rate_override="19.0",
        customer=customer("DE", vat_id="DE811907980", locale="de", tax_exempt=False),
        subscriptions=[
            {
                "subscription_id": "SUB-1",
                "plan": "TEAM-SEAT",
                "quantity": "4",
                "start": "2025-01-01",
                "end": "2027-01-31",
                "cadence": "custom",
                "interval_months": 2,
                "billing_timing": "arrears",
                "anchor": "2025-01-01",
                "unit_price": "10.50",
                "trial_end": "2025-01-14",
                "changes": [
                    {
                        "effective": "2026-11-16",
                        "plan": "BUSINESS",
                        "quantity": 5,
                        "cadence": "custom",
                        "interval_months": 3,
                    }
                ],
            }
        ],
        usage=[{"metric": "API-CALLS", "quantity": 1234.5, "pricing": "volume", "source": "s3"}],
        minimum_commitment={"amount": "100", "metrics": ["API-CALLS"]},
        one_offs=[
            {"description": "Setup", "quantity": 2, "unit_price": "99.90", "bill_in": "2026-11"}
        ],
        milestones=[
            {
                "milestone_id": "M1",
                "description": "Project",
                "contract_amount": "1000",
                "parts": [{"share": "1", "label": "Kick-off", "due_period": "2026-11"}],
            }
        ],
        discounts=[
            {
                "discount_id": "D1",
                "kind": "fixed",
                "amount": "5",
                "applies_to": "TEAM-SEAT",
                "first_period": "2026-10",
                "periods": 3,
            }
        ],
        credits=[
            {
                "credit_id": "CREDIT-2026-10",
                "amount": "12.50",
                "from_period": "2026-10",
                "apply_in": "2026-11",
                "description": "Outage",
            }
        ],
        history={"previous_gross_total": "120.00", "trailing_usage_average": {"API-CALLS": "900"}},
    )


def context(period_label: str = "2026-11", **overrides: Any) -> BillingContext:
    values: dict[str, Any] = {
        "period": billing_period(period_label, timezone="Europe/Berlin"),
        "run_id": "run-test",
        "mode": "live",
        "legal_entity": load_legal_entity(),
        "catalog": load_catalog(),
        "tax_table": load_tax_table(),
        "thresholds": AnomalyThresholds(),
    }
    values.update(overrides)
    return BillingContext(**values)


def screened(raw: dict[str, Any], period_label: str = "2026-11") -> Account:
    screening = screen_account(raw, billing_period(period_label, "Europe/Berlin"), load_catalog())
    assert screening.account is not None, screening.reason
    return screening.account


def draft_for(raw: dict[str, Any], period_label: str = "2026-11", **ctx: Any) -> DraftResult:
    account = screened(raw, period_label)
    return generate_draft(account, context(period_label, **ctx), account.history)


def invoice_for(raw: dict[str, Any], period_label: str = "2026-11", **ctx: Any) -> Invoice:
    result = draft_for(raw, period_label, **ctx)
    assert result.invoice is not None, result
    return result.invoice
