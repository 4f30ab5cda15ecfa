"""Incoming payments as the sources would hand them over, for the payments tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from invoice_dispatch.payments.incoming import IncomingPayment
from invoice_dispatch.receivables import EntryKind


def bank_payment(
    amount: str,
    reference: str,
    *,
    key: str = "bank:DE89370400440532013000:REF-1",
    currency: str = "EUR",
    payer: str = "Acme Analytics GmbH",
    kind: EntryKind = EntryKind.PAYMENT,
) -> IncomingPayment:
    return IncomingPayment(
        key=key,
        source="bank statement",
        kind=kind,
        received_on=date(2026, 12, 10),
        currency=currency,
        amount=Decimal(amount),
        payer=payer,
        reference=reference,
    )
