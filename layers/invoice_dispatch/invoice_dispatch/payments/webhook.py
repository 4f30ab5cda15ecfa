"""The payments webhook: a signed JSON payment event, checked before anything is read.

The signature follows Stripe's scheme, which payment providers and middleware already
implement: header ``Webhook-Signature: t=<unix seconds>,v1=<hex>``, where ``v1`` is
HMAC-SHA256 over ``"<t>.<raw body>"`` with the endpoint's secret. Several ``v1`` values
may be sent while a secret is rotated; one matching is enough. The timestamp must be
within ``TOLERANCE`` of our clock, so a captured request cannot be replayed later; within
the window a replay carries the same event id, and the ledger applies an id once.

This is not ``approval/_signing.py``'s signer on purpose: there the product signs its own
links and derives one key per purpose, while here the *sender* computes the signature
with the secret it was given, in a format fixed by that convention. The secret is its
own (Secrets Manager, ``PAYMENTS_WEBHOOK_SECRET_ID``), so rotating it never touches the
approval links. The comparison is constant-time (``hmac.compare_digest``).

Every refusal is a ``WebhookRejected`` with an HTTP status and a sentence: the sender's
operator reads it in their delivery log, so it says what was wrong, never a trace.
Order matters: size first (nothing large is hashed), then the signature (nothing
unauthenticated is parsed), then the body.

The event::

    {"id": "evt_…", "type": "payment.succeeded", "created": 1767225600,
     "data": {"invoice_number": "INV-2026-000003", "amount_minor": 11900,
              "currency": "EUR", "paid_on": "2026-12-10", "payer": "…", "reference": "…"}}

``amount_minor`` is an integer of the currency's minor units, as Stripe sends amounts:
no float ever carries money. ``payment.succeeded`` is a payment, ``payment.refunded``
money paid back; any other type is acknowledged and ignored, so a provider that sends
every event type does not retry forever.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from invoice_dispatch.billing.quoting import quote
from invoice_dispatch.money import MINOR_UNITS
from invoice_dispatch.payments.incoming import IncomingPayment
from invoice_dispatch.receivables import EntryKind

SIGNATURE_HEADER = "webhook-signature"
#: Stripe's default; clocks of both sides may drift a little, a replay a day later may not.
TOLERANCE = timedelta(seconds=300)
#: A payment event is well under 2 KB; 64 KB leaves room for metadata and refuses floods.
MAX_BODY_BYTES = 64 * 1024
#: Event type -> what it is on the ledger.
EVENT_KINDS = {"payment.succeeded": EntryKind.PAYMENT, "payment.refunded": EntryKind.REFUND}


@dataclass(frozen=True)
class WebhookRejected(Exception):
    status_code: int
    reason: str

    def __str__(self) -> str:
        return self.reason


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The ``v1`` value for ``body`` sent at ``timestamp`` (what the sender computes)."""
    return hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def _parse_header(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1" and value:
            signatures.append(value.strip())
    if timestamp is None or not signatures:
        raise WebhookRejected(
            400,
            f"The {SIGNATURE_HEADER} header must look like t=<unix seconds>,v1=<hex "
            "HMAC-SHA256 of '<t>.<body>'>",
        )
    return timestamp, signatures


def verify_signature(secret: bytes, header: str | None, body: bytes, now: datetime) -> None:
    """Raise ``WebhookRejected`` unless ``body`` is signed with ``secret`` recently enough."""
    if len(body) > MAX_BODY_BYTES:
        raise WebhookRejected(
            413, f"The body is {len(body)} bytes; a payment event may be at most {MAX_BODY_BYTES}"
        )
    if not header:
        raise WebhookRejected(400, f"The request has no {SIGNATURE_HEADER} header")
    timestamp, signatures = _parse_header(header)
    expected = sign(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise WebhookRejected(
            401, "The signature does not match the body: check the endpoint's signing secret"
        )
    sent_at = datetime.fromtimestamp(timestamp, UTC)
    if abs(now - sent_at) > TOLERANCE:
        raise WebhookRejected(
            401,
            f"The signature's timestamp {sent_at.isoformat()} is more than "
            f"{int(TOLERANCE.total_seconds())} s away from our clock ({now.isoformat()}); "
            "a replayed or delayed request is refused",
        )


class PaymentData(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    invoice_number: str = Field(min_length=1, max_length=100)
    amount_minor: StrictInt = Field(gt=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    paid_on: date | None = None
    payer: str = ""
    reference: str = ""


class PaymentEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.:-]+$")
    type: str = Field(min_length=1, max_length=100)
    created: StrictInt = Field(ge=0)
    data: dict[str, object] = Field(default_factory=dict)


def _describe(error: ValidationError) -> str:
    """One sentence per wrong field, quoting (a glimpse of) what was sent."""
    problems = [
        f"{'.'.join(str(part) for part in problem['loc']) or 'the event'}: {problem['msg']}"
        f" (got {quote(problem['input'])})"
        for problem in error.errors(include_url=False)
    ]
    return "The payment event is not valid: " + "; ".join(problems)


def parse_payment_event(body: bytes) -> PaymentEvent:
    try:
        return PaymentEvent.model_validate_json(body)
    except ValidationError as error:
        if any(problem["type"] == "json_invalid" for problem in error.errors()):
            raise WebhookRejected(400, "The body is not valid JSON") from None
        raise WebhookRejected(422, _describe(error)) from None


def incoming_payment(event: PaymentEvent) -> IncomingPayment | None:
    """The payment an event reports, or None for an event type that is not one."""
    kind = EVENT_KINDS.get(event.type)
    if kind is None:
        return None
    try:
        data = PaymentData.model_validate(event.data)
        if data.currency not in MINOR_UNITS:
            raise WebhookRejected(422, f"Currency {data.currency} is not one we bill in")
        amount = Decimal(data.amount_minor).scaleb(-MINOR_UNITS[data.currency])
        return IncomingPayment(
            key=f"webhook:{event.id}",
            source="payments webhook",
            kind=kind,
            received_on=data.paid_on or datetime.fromtimestamp(event.created, UTC).date(),
            currency=data.currency,
            amount=amount,
            payer=data.payer,
            reference=" ".join(part for part in (data.invoice_number, data.reference) if part),
        )
    except ValidationError as error:
        raise WebhookRejected(422, _describe(error)) from None
