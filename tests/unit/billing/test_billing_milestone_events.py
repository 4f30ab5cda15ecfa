"""Milestones billed on completion: one invoice per completed part, shares that add up.

The event path bills one part per invoice, so the rounding rule is checked where it
matters to the customer: the invoices of every part, each drafted by its own event, sum
exactly to the contract amount in every currency.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from invoice_dispatch.billing import billing_period, generate_draft, load_catalog, screen_account
from invoice_dispatch.invoice import Invoice, InvoiceStatus
from invoice_dispatch.milestone import MilestoneRef
from invoice_dispatch.money import quantum, round_money
from tests.unit.billing.billing_factories import (
    context,
    customer,
    invoice_for,
    raw_account,
    screened,
)

D = Decimal
MONTH = billing_period("2026-11", timezone="Europe/Berlin")


def completion_milestone(
    contract_amount: str, shares: list[str], milestone_id: str = "MS-1"
) -> dict[str, Any]:
    return {
        "milestone_id": milestone_id,
        "description": "Shop launch",
        "contract_amount": contract_amount,
        "billed_on": "completion",
        "parts": [
            {"share": share, "label": f"Phase {index}", "due_period": "2026-11"}
            for index, share in enumerate(shares, start=1)
        ],
    }


def project_account(currency: str = "EUR", **milestone: Any) -> dict[str, Any]:
    return raw_account(
        account_id="ACC-P",
        currency=currency,
        customer=customer("US" if currency != "EUR" else "DE"),
        milestones=[completion_milestone(**milestone)],
    )


def part(number: int, milestone_id: str = "MS-1") -> MilestoneRef:
    return MilestoneRef(account_id="ACC-P", milestone_id=milestone_id, part=number)


def milestone_invoice(raw: dict[str, Any], ref: MilestoneRef) -> Invoice:
    """What the event's run drafts: screened for that part, billed with it alone."""
    screening = screen_account(raw, MONTH, load_catalog(), ref)
    assert screening.account is not None, screening.reason
    result = generate_draft(screening.account, context(completed_milestone=ref))
    assert result.invoice is not None, result
    return result.invoice


def test_the_event_bills_its_part_alone_under_the_milestones_own_invoice_id() -> None:
    raw = project_account(contract_amount="1000.01", shares=["33", "33", "34"])

    invoice = milestone_invoice(raw, part(3))

    assert invoice.invoice_id == "milestone:ACC-P:MS-1:3"
    assert [(line.kind, line.net_amount) for line in invoice.lines] == [("milestone", D("340.01"))]
    assert invoice.net_total == D("340.01") and invoice.status is InvoiceStatus.DRAFT
    assert "milestone 3 of 3 'Phase 3', 34 %" in invoice.lines[0].description


def test_the_monthly_run_never_bills_a_part_that_waits_for_its_completion() -> None:
    raw = project_account(contract_amount="1000.00", shares=["50", "50"])

    monthly = invoice_for(raw)

    assert [line.kind for line in monthly.lines] == ["recurring"]


def test_fifty_fifty_of_an_odd_amount_gives_the_last_share_the_cent() -> None:
    raw = project_account(contract_amount="9999.99", shares=["50", "50"])

    first, last = (milestone_invoice(raw, part(n)).net_total for n in (1, 2))

    assert (first, last) == (D("4999.99"), D("5000.00"))


@settings(max_examples=60, deadline=None)
@given(
    contract=st.decimals(min_value=D("1"), max_value=D("250000"), places=3),
    shares=st.lists(st.integers(min_value=1, max_value=100), min_size=1, max_size=5),
    currency=st.sampled_from(["EUR", "USD", "JPY", "BHD"]),
)
def test_the_invoices_of_every_part_sum_exactly_to_the_contract(
    contract: Decimal, shares: list[int], currency: str
) -> None:
    amount = str(round_money(contract, currency))
    raw = project_account(currency, contract_amount=amount, shares=[str(s) for s in shares])

    nets = [milestone_invoice(raw, part(n)).net_total for n in range(1, len(shares) + 1)]

    assert sum(nets) == D(amount)
    exact = [D(amount) * share / sum(shares) for share in shares]
    assert all(abs(net - share) < quantum(currency) for net, share in zip(nets, exact, strict=True))


def _refusal(raw: dict[str, Any], ref: MilestoneRef) -> str | None:
    return screen_account(raw, MONTH, load_catalog(), ref).reason


def test_an_event_for_an_unknown_milestone_or_part_is_refused_in_a_sentence() -> None:
    raw = project_account(contract_amount="1000.00", shares=["50", "50"])

    assert _refusal(raw, part(1, "MS-404")) == (
        "MilestoneCompleted refused for milestone MS-404 part 1 of account ACC-P: the account "
        "has no milestone MS-404 (its milestones: MS-1); no invoice was made."
    )
    assert _refusal(raw, part(3)) == (
        "MilestoneCompleted refused for milestone MS-1 part 3 of account ACC-P: milestone MS-1 "
        "'Shop launch' has 2 parts, so there is no part 3; no invoice was made."
    )


def test_an_event_for_a_milestone_billed_by_its_due_month_is_refused() -> None:
    raw = project_account(contract_amount="1000.00", shares=["50", "50"])
    raw["milestones"][0]["billed_on"] = "due_period"

    assert _refusal(raw, part(1)) == (
        "MilestoneCompleted refused for milestone MS-1 part 1 of account ACC-P: milestone MS-1 "
        "is billed with the monthly invoice of its due month (2026-11), not on completion; "
        "no invoice was made."
    )
    engine_alone = generate_draft(screened(raw), context(completed_milestone=part(1)))
    assert engine_alone.invoice is None


def test_a_completed_milestone_is_billed_before_the_subscription_starts() -> None:
    raw = project_account(contract_amount="500.00", shares=["1"])
    raw["subscriptions"][0]["start"] = "2027-03-01"

    assert screen_account(raw, MONTH, load_catalog()).outcome == "excluded"
    assert milestone_invoice(raw, part(1)).net_total == D("500.00")
