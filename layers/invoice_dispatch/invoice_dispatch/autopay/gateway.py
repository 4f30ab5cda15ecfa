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

The same port hosts a customer's own payment (the portal's "Pay online"): a **checkout**
is a page at the gateway where the customer enters a card, for one invoice's open
amount. Creating one takes no money, so it has only two outcomes: a session with the
hosted page's address, or ``CheckoutUnavailable``. Its key is a function of the invoice
and the amount open (``checkout_key``), so a customer who clicks twice, or comes back
after a reload, is sent to the same page and can pay only once; after a partial payment
the amount changes and so does the key. The payment itself reaches the ledger as any
other card payment does, through the signed payments webhook (``payments/webhook.py``).
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


class InvoiceAmountRequest(BaseModel):
    """What every request to the gateway carries: one invoice's open amount at the time,
    under a key that makes asking again the same request."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    idempotency_key: str
    invoice_number: str
    account_id: str
    amount: Decimal = Field(gt=0)
    currency: str


class ChargeRequest(InvoiceAmountRequest):
    """What one attempt asks the gateway for: the stored means to charge."""

    method_ref: str | None = None
    mandate_ref: str | None = None


class ChargeResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    outcome: ChargeOutcome
    #: The gateway's id of the charge (``pi_...``), when it answered with one.
    charge_id: str = ""
    #: The decline reason or what went wrong, as a sentence for the collections team.
    reason: str = ""


def checkout_key(number: str, amount_open: Decimal) -> str:
    """``checkout-<invoice number>-<amount open>``: one hosted page per amount owed."""
    return f"checkout-{number}-{amount_open}"


class CheckoutRequest(InvoiceAmountRequest):
    """A hosted payment page for what is open on one invoice, and where it sends the
    customer back to (the portal page, both when paid and when abandoned)."""

    #: The invoice's ISO 11649 creditor reference, as the bank transfer would quote it.
    reference: str
    success_url: str
    cancel_url: str


class CheckoutSession(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    #: The gateway's id of the session (``cs_...``).
    session_id: str
    #: The gateway's hosted page the customer is sent to.
    url: str = Field(pattern=r"^https?://")


class CheckoutUnavailable(Exception):
    """No checkout now (the gateway is down, slow or refused us); nothing was recorded.

    The message is a sentence for the operator's log; the customer sees the portal's own.
    """


class PaymentGateway(Protocol):
    def charge(self, request: ChargeRequest) -> ChargeResult:
        """Create and confirm a charge; never raises for the outcomes above."""
        ...

    def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        """A hosted page for the customer to pay; raises ``CheckoutUnavailable``."""
        ...
