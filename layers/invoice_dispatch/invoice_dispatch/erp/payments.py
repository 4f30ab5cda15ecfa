"""Payments and write-offs into the ERP, each exactly once: the second half of the ERP port.

An invoice booked in the ERP stays open there until the money is booked against it;
finance closes the month on the ERP's receivables, not on ours. So each ledger entry that
moves money on the customer's account in the ERP (a payment, a write-off) is posted as
a payment document that settles (reconciles) the invoice, by the same rule as invoices
(``posting.py``): look up by external id, then create, so a retry after a timeout finds
the first one. The external id is the ledger entry's own identity (its key and the
invoice number): one bank transfer that paid two invoices is two ERP payments.

Credit notes are not posted here: they are documents of their own, booked as invoices.
Refunds and reversals stay in our ledger only for now: the ERP learns of them from the
bank statement it imports itself.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict

from invoice_dispatch.erp.booking import ErpReceipt
from invoice_dispatch.erp.errors import MissingMapping
from invoice_dispatch.erp.mapping import ErpMapping
from invoice_dispatch.receivables import EntryKind, LedgerEntry, Receivable


class ErpPayment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    external_id: str
    invoice_number: str
    customer_account_id: str
    kind: Literal["payment", "write_off"]
    amount: Decimal
    currency: str
    booked_on: date
    #: The GL account the money goes to: the bank for a payment, an expense for a write-off.
    offset_account: str
    receivable_account: str
    note: str = ""


class ErpPaymentClient(Protocol):
    """Implemented by the same adapters as ``ErpClient`` (Tryton, generic HTTP)."""

    def find_payment(self, external_id: str) -> ErpReceipt | None:
        """The payment booked under this external id, or None."""
        ...

    def record_payment(self, payment: ErpPayment) -> ErpReceipt:
        """Book the payment against its invoice; ErpTransientError or ErpPermanentError."""
        ...


def build_payment(receivable: Receivable, entry: LedgerEntry, mapping: ErpMapping) -> ErpPayment:
    if entry.kind not in (EntryKind.PAYMENT, EntryKind.WRITE_OFF):
        raise ValueError(f"A {entry.kind.value} entry is not posted to the ERP")
    if mapping.payments is None:
        raise MissingMapping(
            f"ERP mapping v{mapping.version} has no payments section (bank_account, "
            f"write_off_account): the {entry.kind.value} on {receivable.number} cannot be "
            "booked; add it to the mapping."
        )
    is_payment = entry.kind is EntryKind.PAYMENT
    return ErpPayment(
        external_id=f"{entry.entry_key}#{receivable.number}",
        invoice_number=receivable.number,
        customer_account_id=receivable.account_id,
        kind="payment" if is_payment else "write_off",
        amount=entry.amount,
        currency=entry.currency,
        booked_on=entry.booked_on,
        offset_account=(
            mapping.payments.bank_account if is_payment else mapping.payments.write_off_account
        ),
        receivable_account=mapping.receivable_account,
        note=entry.note,
    )


def post_payment_once(payment: ErpPayment, client: ErpPaymentClient) -> ErpReceipt:
    existing = client.find_payment(payment.external_id)
    if existing is not None:
        return existing
    return client.record_payment(payment)
