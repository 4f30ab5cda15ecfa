"""Drafts assembled without re-validation are exactly what validation would have built.

The engine builds invoice models with ``build_trusted`` and reuses per-run results
(``RunMemo``); these tests are the guard that replaces the skipped validation.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from billing_factories import context, customer, raw_account, screened
from invoice_dispatch.billing import billing_period, generate_draft, load_catalog, screen_account
from invoice_dispatch.billing.trusted import build_trusted
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


def test_eligible_screening_is_the_same_as_a_validated_one() -> None:
    screening = screen_account(
        raw_account(), billing_period("2026-11", "Europe/Berlin"), load_catalog()
    )
    assert screening.model_validate(screening.model_dump()) == screening
    assert screening.model_fields_set == {"account_id", "outcome", "reason", "account"}


def test_trusted_build_refuses_a_missing_or_misplaced_field() -> None:
    with pytest.raises(TypeError):
        build_trusted(AnomalyFlag, {"code": "X", "message": "m"})
    with pytest.raises(TypeError):
        build_trusted(AnomalyFlag, {"message": "m", "code": "X", "holds_invoice": False})


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
