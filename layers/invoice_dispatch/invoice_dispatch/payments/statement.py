"""What a bank statement file becomes: the payments in it and what was left out, and why."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from invoice_dispatch.payments.incoming import IncomingPayment


class StatementError(ValueError):
    """A file that cannot be imported as a whole; the message says what to fix."""


class ParsedStatement(BaseModel):
    model_config = ConfigDict(frozen=True)

    #: Credits booked on the account: each is matched to invoices.
    payments: list[IncomingPayment] = Field(default_factory=list)
    #: Entries that are no customer payment (debits, pending, reversals), one sentence each.
    skipped: list[str] = Field(default_factory=list)
