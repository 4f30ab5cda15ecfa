"""The receivable: one finalized invoice as collections sees it, its open amount and status.

The open amount is always the invoice's gross total minus what its ledger entries applied
(``entries.py``), to the minor unit: the receivable keeps, per kind of entry, the sum of
the amounts it recorded, and nothing else moves it. Sums of ``Decimal`` amounts that are
each at the minor unit are exact, so no rounding ever happens here and the open amount
cannot drift by a cent however many entries arrive.

Status, in order of precedence (the first rule that holds wins):

1. ``overpaid``: the open amount is below zero. Money must go back to the customer (or
   be kept as a credit), whatever else happened; finance must act on it first.
2. Settled (open amount exactly zero):
   ``written_off`` if any amount was written off (the loss must stay visible),
   else ``credited`` if credit notes settled it and no payment remains,
   else ``paid`` (payments, possibly with a credit note, settled it; a zero invoice too).
3. Something is still owed:
   ``disputed`` while a dispute is open (the customer contests it: no reminder, but it
   still counts in aging), else ``overdue`` once the day is after the due date, else
   ``partially_paid`` if anything was applied, else ``open``.

``overdue`` is a matter of the day asked about, so ``status`` takes it (``as_of``) rather
than storing it: the same receivable is ``open`` on its due date and ``overdue`` the next.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import reduce

from pydantic import BaseModel, ConfigDict, Field, model_validator

from invoice_dispatch.invoice import Invoice, InvoiceStatus
from invoice_dispatch.money import round_money, zero
from invoice_dispatch.receivables.entries import (
    EntryKind,
    InvalidEntry,
    LedgerEntry,
    applied_amount,
)


class ReceivableStatus(StrEnum):
    OPEN = "open"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    OVERPAID = "overpaid"
    OVERDUE = "overdue"
    DISPUTED = "disputed"
    CREDITED = "credited"
    WRITTEN_OFF = "written_off"


#: Nothing is owed and nothing is owed back: collections leaves these alone.
SETTLED = frozenset(
    {ReceivableStatus.PAID, ReceivableStatus.CREDITED, ReceivableStatus.WRITTEN_OFF}
)


class NotReceivable(ValueError):
    """An invoice that cannot be collected: not finalized, or a credit note."""


class Receivable(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    number: str
    invoice_id: str
    account_id: str
    customer_name: str
    currency: str
    gross: Decimal
    issue_date: date
    due_date: date
    #: Per money-moving kind, the sum of its entries' amounts (all positive).
    totals: dict[EntryKind, Decimal] = Field(default_factory=dict)
    dispute_open: bool = False
    #: How many entries the ledger holds: the store's version and the next entry's number.
    entry_count: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _amounts_at_minor_unit(self) -> Receivable:
        for amount in (self.gross, *self.totals.values()):
            if round_money(amount, self.currency) != amount:
                raise ValueError(f"{amount} is not a whole amount of {self.currency}")
        return self

    @classmethod
    def opened_for(cls, invoice: Invoice) -> Receivable:
        """The receivable of a finalized invoice, before any entry."""
        if invoice.status is not InvoiceStatus.FINALIZED or not (
            invoice.number and invoice.issue_date and invoice.due_date
        ):
            raise NotReceivable(
                f"Invoice {invoice.number or invoice.invoice_id} is {invoice.status.value}: "
                "only a finalized invoice with its number and dates is collected"
            )
        if invoice.credited_invoice_number is not None:
            raise NotReceivable(
                f"{invoice.number} is a credit note for {invoice.credited_invoice_number}: "
                "it is applied to that invoice, not collected"
            )
        return cls(
            number=invoice.number,
            invoice_id=invoice.invoice_id,
            account_id=invoice.account_id,
            customer_name=invoice.customer.name,
            currency=invoice.currency,
            gross=invoice.gross_total,
            issue_date=invoice.issue_date,
            due_date=invoice.due_date,
        )

    # ------------------------------------------------------------------ amounts
    @property
    def applied(self) -> Decimal:
        """What the entries took off, net: payments, credits and write-offs less refunds
        and reversals."""
        signed = (applied_amount(kind, amount) for kind, amount in self.totals.items())
        return sum(signed, zero(self.currency))

    @property
    def open_amount(self) -> Decimal:
        """Gross minus applied: what the customer still owes (negative: owed to them)."""
        return self.gross - self.applied

    def total(self, kind: EntryKind) -> Decimal:
        return self.totals.get(kind, zero(self.currency))

    # ------------------------------------------------------------------ entries
    def record(self, entry: LedgerEntry) -> Receivable:
        """This receivable with ``entry`` appended; the receivable itself is never changed."""
        if entry.currency != self.currency:
            raise InvalidEntry(
                f"{entry.amount} {entry.currency} cannot be applied to {self.number}, "
                f"which is billed in {self.currency}"
            )
        totals = dict(self.totals)
        dispute_open = self.dispute_open
        if entry.kind is EntryKind.DISPUTE_OPENED:
            dispute_open = True
        elif entry.kind is EntryKind.DISPUTE_CLOSED:
            dispute_open = False
        else:
            totals[entry.kind] = self.total(entry.kind) + entry.amount
        return self.model_copy(
            update={
                "totals": totals,
                "dispute_open": dispute_open,
                "entry_count": self.entry_count + 1,
            }
        )

    def replayed(self, entries: Iterable[LedgerEntry]) -> Receivable:
        """This receivable with every entry recorded, in order."""
        return reduce(Receivable.record, entries, self)

    # ------------------------------------------------------------------- status
    def days_past_due(self, as_of: date) -> int:
        """Days after the due date (0 on the due date, negative before it)."""
        return (as_of - self.due_date).days

    def status(self, as_of: date) -> ReceivableStatus:
        """See the module docstring for the precedence of these rules."""
        open_amount = self.open_amount
        if open_amount < 0:
            return ReceivableStatus.OVERPAID
        if open_amount == 0:
            if self.total(EntryKind.WRITE_OFF) > 0:
                return ReceivableStatus.WRITTEN_OFF
            net_paid = self.total(EntryKind.PAYMENT) - self.total(EntryKind.REVERSAL)
            if self.total(EntryKind.CREDIT) > 0 and net_paid <= 0:
                return ReceivableStatus.CREDITED
            return ReceivableStatus.PAID
        if self.dispute_open:
            return ReceivableStatus.DISPUTED
        if self.days_past_due(as_of) > 0:
            return ReceivableStatus.OVERDUE
        if self.applied != 0:
            return ReceivableStatus.PARTIALLY_PAID
        return ReceivableStatus.OPEN
