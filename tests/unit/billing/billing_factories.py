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
