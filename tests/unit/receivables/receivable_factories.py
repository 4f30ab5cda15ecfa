"""Receivables and entries as the ledger would hold them, for the receivables tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from invoice_dispatch.receivables import EntryKind, LedgerEntry, Receivable

ISSUED = date(2026, 12, 1)
DUE = date(2026, 12, 31)


def receivable(
    number: str = "INV-2026-000001",
    gross: str = "119.00",
    currency: str = "EUR",
    *,
    issue_date: date = ISSUED,
    due_date: date = DUE,
    account_id: str = "ACC-1001",
) -> Receivable:
    return Receivable(
        number=number,
        invoice_id=f"2026-11:{account_id}",
        account_id=account_id,
        customer_name="Acme Analytics GmbH",
        currency=currency,
        gross=Decimal(gross),
        issue_date=issue_date,
        due_date=due_date,
    )


def entry(
    kind: EntryKind,
    amount: str,
    currency: str = "EUR",
    *,
    key: str | None = None,
    booked_on: date = date(2026, 12, 10),
) -> LedgerEntry:
    return LedgerEntry(
        entry_key=key or f"test:{kind.value}:{amount}",
        kind=kind,
        currency=currency,
        amount=Decimal(amount),
        booked_on=booked_on,
    )
