"""Synthetic accounts for scale runs are the same for a seed and look like a real month."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from invoice_dispatch.billing import billing_period, load_catalog, screen_account
from tools.synthetic_accounts import synthetic_accounts, write_accounts


def test_the_same_seed_gives_the_same_accounts_and_another_seed_others() -> None:
    assert synthetic_accounts(300) == synthetic_accounts(300)
    assert synthetic_accounts(300, seed=1) != synthetic_accounts(300)
    assert synthetic_accounts(300)[:100] == synthetic_accounts(100), "a prefix of a larger set"


def test_the_mix_has_currencies_plans_usage_exclusions_and_invalid_accounts() -> None:
    accounts = synthetic_accounts(2_000)
    period = billing_period("2026-11")
    catalog = load_catalog()
    outcomes = Counter(screen_account(raw, period, catalog).outcome for raw in accounts)
    currencies = Counter(raw["currency"] for raw in accounts)
    plans = Counter(raw["subscriptions"][0]["plan"] for raw in accounts)

    assert {"EUR", "USD", "JPY"} <= set(currencies)
    assert currencies["EUR"] > currencies["USD"] > currencies["JPY"]
    assert {"STARTER", "TEAM-SEAT", "BUSINESS", "ENTERPRISE", "STORAGE-PACK"} <= set(plans)
    assert sum("usage" in raw for raw in accounts) > 500
    assert 0.9 < outcomes["eligible"] / len(accounts) < 0.99
    assert outcomes["excluded"] > 20
    assert 4 <= outcomes["quarantined"] <= 20


def test_written_accounts_are_the_json_list_the_local_run_reads(tmp_path: Path) -> None:
    written = write_accounts(tmp_path / "accounts.json", 25)

    assert json.loads(written.read_text(encoding="utf-8")) == synthetic_accounts(25)
