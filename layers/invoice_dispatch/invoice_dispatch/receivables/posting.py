"""A posting: one business event (a bank entry, a webhook event, a credit note) applied once.

A bank transfer may pay several invoices, so one posting may put an entry on several
ledgers; it may also pay none (no invoice number in its reference, or one that does not
add up), and then it is still recorded, as an exception a bookkeeper resolves. Either
way the posting is written exactly once under its key, in the same transaction as its
entries (``adapters/ledger_store.py``): a replayed webhook or a statement imported twice
finds the posting and changes nothing.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from invoice_dispatch.receivables.entries import LedgerEntry


class PostingOutcome(StrEnum):
    APPLIED = "applied"
    """Every cent went onto one or more invoices."""
    UNMATCHED = "unmatched"
    """No invoice could be found for it: on the payments exception list."""
    AMBIGUOUS = "ambiguous"
    """Invoices were found but the money cannot be split without a person: exception list."""


class Allocation(BaseModel):
    """The entry one posting puts on one invoice's ledger."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    number: str
    entry: LedgerEntry


class Posting(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(min_length=1, max_length=400)
    source: str = Field(description="Where it came from, as a person says it: 'bank statement'")
    received_on: date
    currency: str
    amount: Decimal = Field(ge=0)
    payer: str = ""
    reference: str = Field(default="", description="The remittance text, as the payer wrote it")
    outcome: PostingOutcome
    allocations: tuple[Allocation, ...] = ()
    #: For an exception, the sentence a bookkeeper reads; for an applied posting, a summary.
    explanation: str = ""

    @classmethod
    def applied_to_one(
        cls,
        key: str,
        source: str,
        entry: LedgerEntry,
        number: str,
        explanation: str,
        *,
        payer: str = "",
        reference: str | None = None,
    ) -> Posting:
        """One ledger entry put whole on one invoice (a write-off, a credit note, an
        auto-pay charge): the posting's date, currency and amount are the entry's."""
        return cls(
            key=key,
            source=source,
            received_on=entry.booked_on,
            currency=entry.currency,
            amount=entry.amount,
            payer=payer,
            reference=entry.note if reference is None else reference,
            outcome=PostingOutcome.APPLIED,
            allocations=(Allocation(number=number, entry=entry),),
            explanation=explanation,
        )

    @model_validator(mode="after")
    def _allocations_match_outcome(self) -> Posting:
        if (self.outcome is PostingOutcome.APPLIED) != bool(self.allocations):
            raise ValueError("An applied posting has allocations; an exception has none")
        numbers = [allocation.number for allocation in self.allocations]
        if len(set(numbers)) != len(numbers):
            raise ValueError("A posting puts at most one entry on each invoice")
        return self

    @property
    def is_exception(self) -> bool:
        return self.outcome is not PostingOutcome.APPLIED
