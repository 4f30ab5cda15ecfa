"""The customer's credit balance, merged into the account before its next invoice is drafted.

A credit note for an invoice already paid leaves the customer owed money
(``workflow/corrections.carry_over_credit``). The engine already knows how to carry a
credit to the next invoice as a line at that invoice's tax rate (``billing/credits.py``:
an account's ``credits``); so the balance is handed to it in that shape, and the engine
stays the one place that prices a credit. One batch read per drafting chunk.
"""

from __future__ import annotations

from typing import Any

from invoice_dispatch.platform import Platform


def with_customer_credits(
    raw_accounts: list[dict[str, Any]], platform: Platform
) -> list[dict[str, Any]]:
    """The chunk's accounts, each with the credits its balance holds in its currency."""
    owed = platform.corrections.customer_credits(
        [str(raw.get("account_id")) for raw in raw_accounts]
    )
    if not owed:
        return raw_accounts
    merged = []
    for raw in raw_accounts:
        records = [
            {key: value for key, value in record.items() if key != "currency"}
            for record in owed.get(str(raw.get("account_id")), [])
            if record.get("currency") == raw.get("currency")
        ]
        merged.append(
            {**raw, "credits": [*(raw.get("credits") or []), *records]} if records else raw
        )
    return merged
