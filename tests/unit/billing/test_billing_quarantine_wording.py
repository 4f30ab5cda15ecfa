"""A quarantine reason quotes at most 60 characters of any input value (issue 16, item 6).

A 10 MB customer name once made a 10,000,073-character reason and a 10 MB run.json.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from billing_factories import PERIOD, customer, draft_for, raw_account, rich_account

from invoice_dispatch.billing import load_catalog, screen_account
from invoice_dispatch.workflow.gather import merge_usage_file

HUGE = "x" * 100_000
QUOTE_LIMIT = 60  # characters of one quoted value, the "…" included
#: What a reason may hold besides its quoted values: the sentence, a location, a count.
SENTENCE_ROOM = 300


def _leaf_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    else:
        return [prefix]
    return [path for key, child in items for path in _leaf_paths(child, (*prefix, key))]


def _with(raw: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(raw)
    parent = changed
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return changed


def _assert_quotes_are_cut(text: str) -> None:
    assert "x" * QUOTE_LIMIT not in text, text[:200]
    assert len(text) < SENTENCE_ROOM, text[:200]


def test_a_ten_megabyte_customer_name_gives_a_short_reason() -> None:
    raw = raw_account(customer=customer(name="N" * 10_000_000))

    screening = screen_account(raw, PERIOD, load_catalog())

    assert screening.outcome == "quarantined"
    assert screening.reason == (
        "Field 'customer name': String should have at most 200 characters "
        f"(got '{'N' * (QUOTE_LIMIT - 1)}…')"
    )


@pytest.mark.parametrize("path", _leaf_paths(rich_account()), ids=str)
def test_a_huge_value_anywhere_is_quoted_cut_to_sixty_characters(path: tuple[Any, ...]) -> None:
    screening = screen_account(_with(rich_account(), path, HUGE), PERIOD, load_catalog())

    _assert_quotes_are_cut(screening.account_id)
    if screening.reason is not None:
        _assert_quotes_are_cut(screening.reason)


@pytest.mark.parametrize(
    "raw",
    [
        raw_account(**{HUGE: "1"}),
        raw_account(history={"trailing_usage_average": {HUGE: "x"}}),
        raw_account(account_id=HUGE, currency="XYZ"),
        raw_account(subscriptions=[{"subscription_id": HUGE, "plan": HUGE, "start": "2025-01-01"}]),
        raw_account(usage=[{"metric": HUGE, "quantity": "1"}]),
        raw_account(discounts=[{"discount_id": HUGE, "kind": "fixed", "applies_to": HUGE}]),
        {"_label": HUGE},
        raw_account(customer={"name": "N", "email": [HUGE] * 1000, "address": {}}),
    ],
    ids=["unknown key", "metric key", "id", "plan", "metric", "discount", "label", "list"],
)
def test_made_up_keys_ids_and_codes_are_cut_too(raw: dict[str, Any]) -> None:
    screening = screen_account(raw, PERIOD, load_catalog())

    assert screening.outcome == "quarantined"
    _assert_quotes_are_cut(screening.account_id)
    _assert_quotes_are_cut(screening.reason or "")


def test_a_valid_account_id_is_reported_whole() -> None:
    account_id = "A" * 100
    screening = screen_account(
        raw_account(account_id=account_id, currency="XYZ"), PERIOD, load_catalog()
    )
    assert screening.account_id == account_id


def test_engine_quarantine_quotes_the_region_cut() -> None:
    result = draft_for(raw_account(customer=customer("XX", region=HUGE)))

    assert result.invoice is None
    assert result.quarantine_reason is not None
    assert result.quarantine_reason.startswith("No tax rate for country 'XX' region 'xxx")
    _assert_quotes_are_cut(result.quarantine_reason)


def test_usage_for_an_unknown_huge_account_id_is_reported_cut() -> None:
    body = f'[{{"account_id": "{HUGE}", "metric": "SMS", "quantity": "1"}}]'.encode()

    (orphan,) = merge_usage_file([raw_account()], "s3://bucket/usage.json", body)

    _assert_quotes_are_cut(orphan.account_id)


@pytest.mark.parametrize(
    ("value", "quoted"),
    [
        ("ACC-1", "'ACC-1'"),
        ("y" * 60, f"'{'y' * 60}'"),
        ("y" * 61, f"'{'y' * 59}…'"),
        (-3, "-3"),
    ],
)
def test_quote_keeps_short_values_and_cuts_long_ones_with_an_ellipsis(
    value: object, quoted: str
) -> None:
    from invoice_dispatch.billing.quoting import quote

    assert quote(value) == quoted


def test_quote_cuts_a_long_container_without_writing_it_whole() -> None:
    from invoice_dispatch.billing.quoting import quote, shorten

    quoted = quote({"a": "z" * 10_000_000})

    assert quoted.startswith("{'a': 'zzz") and quoted.endswith("…")
    assert len(quoted) == QUOTE_LIMIT == len(shorten("w" * 1000))
