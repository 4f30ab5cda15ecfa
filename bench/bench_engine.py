"""Drafts per second of the billing engine on one core, beside a naive baseline.

``make bench`` imports this module and calls ``run_benchmark()``. Both loops start from the
same raw dicts (what an account source yields), so validation is part of each figure:
issue 5 asks for at least 25,000 drafts/s, and the baseline shows how far the engine's
structure is from a minimal validate-and-compute loop on the same machine. The two loops
run alternately in the same process, so a busy machine slows both and the ratio stays
comparable between runs even when the absolute figures move.

Honesty checks: every engine iteration screens the raw dict and builds the full draft
(all lines, tax breakdown, anomaly checks); every account must come out as a draft; and
because the engine reuses per-run results within one ``BillingContext``, a second figure
builds a fresh context for every chunk of ``CHUNK_SIZE`` accounts, as ``draft_chunk`` does
in the state machine, so per-run reuse cannot flatter the result.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, TypeAdapter

import bench  # noqa: F401  (puts the layer on the path)
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
CHUNK_SIZE = 100
TARGET_DRAFTS_PER_SECOND = 25_000
#: Issue 5 sets its target on machines where the naive loop does about this many per second.
REFERENCE_BASELINE_PER_SECOND = 100_000
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


def _context() -> BillingContext:
    return BillingContext(
        period=billing_period("2026-11"),
        run_id="bench",
        mode="shadow",
        legal_entity=load_legal_entity(),
        catalog=load_catalog(),
        tax_table=load_tax_table(),
        thresholds=AnomalyThresholds(),
    )


def _engine_loop(accounts: list[dict[str, Any]], context: BillingContext) -> int:
    """Screen each raw dict and build its full draft; every account must yield a draft."""
    drafts = 0
    for raw in accounts:
        screening = screen_account(raw, context.period, context.catalog)
        if screening.account is None:
            raise AssertionError(f"Synthetic account rejected: {screening.reason}")
        result = generate_draft(screening.account, context)
        invoice = result.invoice
        if invoice is None or not invoice.lines or not invoice.tax_breakdown:
            raise AssertionError(f"No complete draft for {raw['account_id']}: {result}")
        drafts += 1
    return drafts


def _chunked_engine_loop(accounts: list[dict[str, Any]]) -> int:
    """The engine as the state machine runs it: a new context for every chunk."""
    drafts = 0
    for first in range(0, len(accounts), CHUNK_SIZE):
        drafts += _engine_loop(accounts[first : first + CHUNK_SIZE], _context())
    return drafts


def _best_seconds(timings: list[float], run: Any) -> Any:
    started = time.perf_counter()
    result = run()
    timings.append(time.perf_counter() - started)
    return result


def run_benchmark(count: int = ACCOUNT_COUNT, repeats: int = 5) -> dict[str, float | str]:
    """Best of ``repeats`` for each loop, the loops alternating (less noise on a shared machine).

    ``drafts_per_second`` is the figure issue 5 asks for (one context for the run);
    ``chunked_drafts_per_second`` starts a new context every ``CHUNK_SIZE`` accounts.
    ``drafts_per_second_at_reference`` scales the ratio to the machine issue 5 describes
    (naive loop at ``REFERENCE_BASELINE_PER_SECOND``): the figure to compare between runs,
    since the same code has measured 94,000 to 155,000 naive drafts/s on these machines.
    """
    accounts = synthetic_accounts(count)
    context = _context()
    _engine_loop(accounts[:200], context)
    _naive_loop(accounts[:200])
    engine_times: list[float] = []
    chunked_times: list[float] = []
    naive_times: list[float] = []
    for _ in range(repeats):
        drafts = _best_seconds(engine_times, lambda: _engine_loop(accounts, _context()))
        chunked_drafts = _best_seconds(chunked_times, lambda: _chunked_engine_loop(accounts))
        _best_seconds(naive_times, lambda: _naive_loop(accounts))
    if drafts != count or chunked_drafts != count:
        raise AssertionError(f"Expected {count} drafts, got {drafts} and {chunked_drafts}")
    engine_rate = drafts / min(engine_times)
    chunked_rate = chunked_drafts / min(chunked_times)
    naive_rate = count / min(naive_times)
    ratio = round(engine_rate / naive_rate, 3)
    at_reference = engine_rate / naive_rate * REFERENCE_BASELINE_PER_SECOND
    return {
        "accounts": float(count),
        "drafts_per_second": round(engine_rate, 1),
        "chunked_drafts_per_second": round(chunked_rate, 1),
        "baseline_drafts_per_second": round(naive_rate, 1),
        "ratio_to_baseline": ratio,
        "chunked_ratio_to_baseline": round(chunked_rate / naive_rate, 3),
        "drafts_per_second_at_reference": round(at_reference, 1),
        "target_drafts_per_second": float(TARGET_DRAFTS_PER_SECOND),
        "meets_target": "yes" if engine_rate >= TARGET_DRAFTS_PER_SECOND else "no",
        "meets_target_at_reference": "yes" if at_reference >= TARGET_DRAFTS_PER_SECOND else "no",
    }


if __name__ == "__main__":
    for name, value in run_benchmark().items():
        print(f"{name}: {value}")
