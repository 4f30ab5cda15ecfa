"""The ``PaymentGateway`` port: charge a stored payment means for an invoice, once.

A charge has four outcomes, and only two of them are answers:

* ``succeeded``: the money is taken; it goes to the ledger as a payment.
* ``declined``: the customer's bank or card said no, with a reason (insufficient funds,
  expired card, mandate revoked). It counts as an attempt; the retry schedule decides.
* ``unavailable``: the gateway is down (5xx, connection refused). Whether it took the
  request is not known for a 5xx, so this is handled like ``unknown``.
* ``unknown``: no answer in time. The gateway may have charged the card.

The last two are never "try again with a new request": the next try re-asks with the
*same* idempotency key and amount, and the gateway answers what it did with that key (a
charge it made is answered as made, not made again). That is why the key is a function
of the invoice and the attempt's number alone (``idempotency_key``): a retried Lambda, a
second run the same day or tomorrow's run all send the same key for the same attempt.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field


class ChargeOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    DECLINED = "declined"
    UNAVAILABLE = "unavailable"
    UNKNOWN = "unknown"

    @property
    def is_answer(self) -> bool:
        """Whether the gateway decided; otherwise the same request is asked again later."""
        return self in (ChargeOutcome.SUCCEEDED, ChargeOutcome.DECLINED)


def idempotency_key(number: str, attempt: int) -> str:
    """``autopay-<invoice number>-<attempt>``: the same for every retry of one attempt."""
    return f"autopay-{number}-{attempt}"


class ChargeRequest(BaseModel):
    """What one attempt asks the gateway for: the invoice's open amount at the time."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    idempotency_key: str
    invoice_number: str
    account_id: str
    amount: Decimal = Field(gt=0)
    currency: str
    method_ref: str | None = None
    mandate_ref: str | None = None


class ChargeResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    outcome: ChargeOutcome
    #: The gateway's id of the charge (``pi_...``), when it answered with one.
    charge_id: str = ""
    #: The decline reason or what went wrong, as a sentence for the collections team.
    reason: str = ""


class PaymentGateway(Protocol):
    def charge(self, request: ChargeRequest) -> ChargeResult:
        """Create and confirm a charge; never raises for the outcomes above."""
        ...
