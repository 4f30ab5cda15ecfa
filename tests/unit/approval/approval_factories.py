"""Factories for approval tests: a run summary and its drafts, built the way the run would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from invoice_dispatch.approval import (
    ApprovalSummary,
    CurrencyTotal,
    DraftRow,
    ExcludedAccount,
    FlaggedInvoice,
    QuarantinedAccount,
)

NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
KEY = b"k" * 32
RUN_ID = "run-2026-10-live-01"
APPROVER = "ceo@example.com"
HOSTILE_NAME = '<script>alert(1)</script> & "Co"'


def make_draft_row(index: int, **overrides: object) -> DraftRow:
    currency = ("EUR", "GBP", "JPY")[index % 3]
    net = Decimal(100 + (index * 37) % 900) if currency == "JPY" else Decimal(f"{index % 997}.50")
    tax = (net * Decimal("0.2")).quantize(Decimal(1) if currency == "JPY" else Decimal("0.01"))
    fields: dict[str, object] = {
        "invoice_id": f"2026-10:acct-{index:05d}",
        "account_id": f"acct-{index:05d}",
        "customer_name": f"Customer {(index * 7919) % 10007:05d}",
        "currency": currency,
        "net_total": net,
        "tax_total": tax,
        "gross_total": net + tax,
        "flag_count": 1 if index % 50 == 0 else 0,
        "held_by_rule": index % 500 == 0,
    }
    fields.update(overrides)
    return DraftRow.model_validate(fields)


def make_summary(**overrides: object) -> ApprovalSummary:
    fields: dict[str, object] = {
        "run_id": RUN_ID,
        "period": "2026-10",
        "mode": "live",
        "legal_entity_name": "Acme Cloud GmbH",
        "totals": [
            CurrencyTotal(
                currency="EUR",
                net=Decimal("12345.60"),
                tax=Decimal("2345.66"),
                gross=Decimal("14691.26"),
                invoice_count=40,
            ),
            CurrencyTotal(
                currency="JPY",
                net=Decimal("500000"),
                tax=Decimal("50000"),
                gross=Decimal("550000"),
                invoice_count=2,
            ),
        ],
        "eligible_count": 42,
        "excluded": [
            ExcludedAccount(account_id="acct-p1", reason="paused"),
            ExcludedAccount(account_id="acct-p2", reason="paused"),
            ExcludedAccount(account_id="acct-c1", reason="cancelled before the period"),
        ],
        "quarantined": [
            QuarantinedAccount(account_id="acct-q1", reason="Currency 'XXX' is not supported"),
        ],
        "flagged": [
            FlaggedInvoice(
                invoice_id="2026-10:acct-00001",
                account_id="acct-00001",
                customer_name=HOSTILE_NAME,
                gross_total=Decimal("9800.00"),
                currency="EUR",
                messages=["Total is 4.2 times last month's (2,333.00 €)"],
                held_by_rule=True,
            ),
        ],
        "held_by_rule_count": 1,
        "expires_at": NOW + timedelta(hours=72),
    }
    fields.update(overrides)
    return ApprovalSummary.model_validate(fields)
