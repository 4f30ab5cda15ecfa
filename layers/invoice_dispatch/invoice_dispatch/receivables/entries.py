"""Ledger entries: what moved an invoice's open amount, written once and never changed.

A finalized invoice is a legal document and is never edited (``invoice.py``); what the
customer paid, what a credit note took off and what finance gave up on are entries beside
it, appended in the order they were recorded. Nothing is ever updated or deleted: a
mistake is corrected by another entry (a refund or a reversal), as an accountant would,
so the ledger always tells how the open amount came to be.

Amounts are ``Decimal`` in the invoice's currency, already at its minor unit: money in is
money that moved, so an entry of 10.005 EUR cannot exist and is refused rather than
rounded (``money.py``: rounding happens once, where an amount is computed, never later).
Every amount is positive; its kind says which way it moves the open amount.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from invoice_dispatch.money import UnknownCurrency, quantum, round_money


class EntryKind(StrEnum):
    PAYMENT = "payment"
    """Money received from the customer (bank transfer, card, webhook)."""
    CREDIT = "credit"
    """A credit note's amount taken off the invoice."""
    WRITE_OFF = "write_off"
    """Finance decided not to collect this part (bad debt)."""
    REFUND = "refund"
    """Money paid back to the customer, e.g. the excess of an overpayment."""
    REVERSAL = "reversal"
    """A payment that came back: a returned transfer or a chargeback."""
    DISPUTE_OPENED = "dispute_opened"
    """The customer contests the invoice: reminders stop, nothing is owed less."""
    DISPUTE_CLOSED = "dispute_closed"
    """The dispute is settled; the open amount is chased again."""


#: +1: the customer owes less; -1: the customer owes more again; 0: no money moves.
_DIRECTION: dict[EntryKind, int] = {
    EntryKind.PAYMENT: 1,
    EntryKind.CREDIT: 1,
    EntryKind.WRITE_OFF: 1,
    EntryKind.REFUND: -1,
    EntryKind.REVERSAL: -1,
    EntryKind.DISPUTE_OPENED: 0,
    EntryKind.DISPUTE_CLOSED: 0,
}


def applied_amount(kind: EntryKind, amount: Decimal) -> Decimal:
    """What an entry of ``kind`` takes off the open amount (negative: adds to it)."""
    return amount * _DIRECTION[kind]


#: The kinds an ERP books as money (``erp/payments.py``); a credit note is booked as its
#: own document by the monthly run, and disputes move no money.
ERP_BOOKED_KINDS = frozenset({EntryKind.PAYMENT, EntryKind.WRITE_OFF})


class InvalidEntry(ValueError):
    """An entry that cannot be on a ledger; the message says why, for a bookkeeper."""


class LedgerEntry(BaseModel):
    """One line of an invoice's ledger.

    ``entry_key`` is the business event's own identity (``bank:<IBAN>:<AcctSvcrRef>``,
    ``webhook:<event id>``, ``credit:<credit note number>``): the store writes an entry
    once per key, so a replayed webhook or a statement imported twice adds nothing.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    entry_key: str = Field(min_length=1, max_length=400)
    kind: EntryKind
    currency: str
    amount: Decimal = Field(ge=0)
    booked_on: date = Field(description="When the money moved (the bank's booking date)")
    note: str = Field(default="", max_length=500, description="A sentence for the bookkeeper")

    @field_validator("amount")
    @classmethod
    def _at_minor_unit(cls, amount: Decimal, info: ValidationInfo) -> Decimal:
        """Stored at the minor unit's exponent, so 10 EUR and 10.00 EUR read back the same."""
        currency = str(info.data.get("currency", ""))
        try:
            unit = quantum(currency)
        except UnknownCurrency as error:
            raise ValueError(str(error)) from None
        if round_money(amount, currency) != amount:
            raise ValueError(
                f"{amount} {currency} has more decimals than {currency} has minor units "
                f"({unit}); money that moved is always whole minor units"
            )
        return amount.quantize(unit)

    @model_validator(mode="after")
    def _moves_money_as_its_kind_says(self) -> LedgerEntry:
        if _DIRECTION[self.kind] == 0 and self.amount:
            raise ValueError(f"A {self.kind.value} entry moves no money; its amount must be 0")
        if _DIRECTION[self.kind] != 0 and not self.amount:
            raise ValueError(f"A {self.kind.value} entry of 0 {self.currency} changes nothing")
        return self

    @property
    def applied(self) -> Decimal:
        return applied_amount(self.kind, self.amount)
