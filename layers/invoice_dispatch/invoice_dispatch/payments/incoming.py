"""A payment as it arrives, whatever brought it: one model for bank entries and webhooks.

Each source (``camt053.py``, ``statement_csv.py``, ``webhook.py``) turns its own format
into this, so matching and the ledger see one shape. ``key`` is the source's own identity
of the payment (the bank's entry reference, the webhook's event id): the ledger records a
key once, which is what makes importing a statement twice or a replayed event harmless.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from invoice_dispatch.billing.quoting import shorten
from invoice_dispatch.money import UnknownCurrency, quantum, round_money
from invoice_dispatch.receivables import EntryKind

#: The longest payer name or remittance text kept: SEPA allows 140 characters of
#: remittance per line and banks join a few; a ledger note is not a document store.
TEXT_LIMIT = 400


class IncomingPayment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(min_length=1, max_length=300)
    source: Literal["bank statement", "payments webhook"]
    kind: Literal[EntryKind.PAYMENT, EntryKind.REFUND] = EntryKind.PAYMENT
    received_on: date
    currency: str
    amount: Decimal = Field(gt=0)
    payer: str = ""
    reference: str = Field(default="", description="Remittance text: where the number is")

    @field_validator("currency")
    @classmethod
    def _supported(cls, currency: str) -> str:
        try:
            quantum(currency)
        except UnknownCurrency as error:
            raise ValueError(str(error)) from None
        return currency

    @field_validator("amount")
    @classmethod
    def _whole_minor_units(cls, amount: Decimal, info: ValidationInfo) -> Decimal:
        currency = str(info.data.get("currency", ""))
        if currency and round_money(amount, currency) != amount:
            raise ValueError(f"{amount} is not a whole amount of {currency}")
        return amount.quantize(quantum(currency)) if currency else amount

    @field_validator("payer", "reference")
    @classmethod
    def _bounded(cls, text: str) -> str:
        return shorten(" ".join(text.split()), TEXT_LIMIT)

    def describe(self) -> str:
        """How a bookkeeper names this payment in a sentence."""
        payer = f" from {self.payer}" if self.payer else ""
        return (
            f"{self.amount} {self.currency}{payer} received on {self.received_on} ({self.source})"
        )
