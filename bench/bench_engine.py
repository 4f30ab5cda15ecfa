"""Drafts per second of the billing engine on one core, beside a naive baseline.

``make bench`` imports this module and calls ``run_benchmark()``. Both loops start from the
same raw dicts (what an account source yields), so validation is part of each figure:
issue 5 asks for at least 25,000 drafts/s, and the baseline shows how far the engine's
structure is from a minimal validate-and-compute loop on the same machine.
"""

from __future__ import annotations

import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "layers" / "invoice_dispatch"))

from invoice_dispatch.billing import (
    AnomalyThresholds,
    BillingContext,
    billing_period,
    generate_draft,
    load_catalog,
    load_tax_table,
    screen_account,
)
from invoice_dispatch.legal_entity import load_legal_entity
from invoice_dispatch.money import round_money

ACCOUNT_COUNT = 10_000
TARGET_DRAFTS_PER_SECOND = 25_000
_COUNTRIES = ("DE", "FR", "NL", "IE", "GB")
_PLANS = ("STARTER", "TEAM-SEAT", "BUSINESS")


def synthetic_accounts(count: int = ACCOUNT_COUNT) -> list[dict[str, Any]]:
    """Accounts with 3 subscriptions, one usage metric and one discount each (issue 5)."""
    accounts = []
    for index in range(count):
        accounts.append(
            {
                "account_id": f"BENCH-{index:06d}",
                "currency": "EUR",
                "customer": {
                    "name": f"Bench Customer {index}",
                    "email": f"billing{index}@example.com",
                    "address": {
                        "line1": f"{index} Example Street",
                        "city": "Example City",
                        "country": _COUNTRIES[index % len(_COUNTRIES)],
                    },
                },
                "subscriptions": [
                    {
                        "subscription_id": f"S{index}-{position}",
                        "plan": plan,
                        "quantity": str(1 + index % 20) if plan == "TEAM-SEAT" else "1",
                        "start": "2026-11-10" if position == 0 and index % 4 == 0 else "2025-01-01",
                    }
                    for position, plan in enumerate(_PLANS)
                ],
                "usage": [{"metric": "API-CALLS", "quantity": str(5_000 + index * 37)}],
                "discounts": [{"discount_id": "BENCH10", "kind": "percentage", "percent": "10"}],
            }
        )
    return accounts


class _NaiveSubscription(BaseModel):
    plan: str
    quantity: Decimal


class _NaiveAccount(BaseModel):
    account_id: str
    currency: str
    subscriptions: list[_NaiveSubscription]


_NAIVE_PRICES = {
    "STARTER": Decimal("29.00"),
    "TEAM-SEAT": Decimal("12.00"),
    "BUSINESS": Decimal("249.95"),
}


def _naive_loop(accounts: list[dict[str, Any]]) -> Decimal:
    """The floor: validate a flat model and sum price x quantity plus 19 % tax."""
    adapter = TypeAdapter(_NaiveAccount)
    grand_total = Decimal(0)
    for raw in accounts:
        account = adapter.validate_python(
            {key: raw[key] for key in ("account_id", "currency", "subscriptions")},
            strict=False,
        )
        net = sum(
            (
                round_money(_NAIVE_PRICES[sub.plan] * sub.quantity, "EUR")
                for sub in account.subscriptions
            ),
            Decimal(0),
        )
        grand_total += net + round_money(net * Decimal("0.19"), "EUR")
    return grand_total


def _engine_loop(accounts: list[dict[str, Any]], context: BillingContext) -> int:
    drafts = 0
    for raw in accounts:
        screening = screen_account(raw, context.period, context.catalog)
        if screening.account is None:
            raise AssertionError(f"Synthetic account rejected: {screening.reason}")
        result = generate_draft(screening.account, context)
        if result.invoice is not None:
            drafts += 1
    return drafts


def run_benchmark(count: int = ACCOUNT_COUNT, repeats: int = 3) -> dict[str, float | str]:
    """Best of ``repeats`` for each loop (less noise from a shared machine)."""
    accounts = synthetic_accounts(count)
    period = billing_period("2026-11")
    context = BillingContext(
        period=period,
        run_id="bench",
        mode="shadow",
        legal_entity=load_legal_entity(),
        catalog=load_catalog(),
        tax_table=load_tax_table(),
        thresholds=AnomalyThresholds(),
    )
    _engine_loop(accounts[:200], context)
    _naive_loop(accounts[:200])
    engine_seconds = naive_seconds = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        drafts = _engine_loop(accounts, context)
        engine_seconds = min(engine_seconds, time.perf_counter() - started)
        started = time.perf_counter()
        _naive_loop(accounts)
        naive_seconds = min(naive_seconds, time.perf_counter() - started)
    engine_rate = drafts / engine_seconds
    naive_rate = count / naive_seconds
    return {
        "accounts": float(count),
        "engine_drafts_per_second": round(engine_rate, 1),
        "naive_baseline_drafts_per_second": round(naive_rate, 1),
        "engine_to_baseline_ratio": round(engine_rate / naive_rate, 3),
        "target_drafts_per_second": float(TARGET_DRAFTS_PER_SECOND),
        "meets_target": "yes" if engine_rate >= TARGET_DRAFTS_PER_SECOND else "no",
    }


if __name__ == "__main__":
    for name, value in run_benchmark().items():
        print(f"{name}: {value}")
