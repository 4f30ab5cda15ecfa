"""The payments webhook as a plain function of (headers, body, platform, now) -> answer.

Every answer is JSON with a sentence: 4xx for a request we refuse (``payments/webhook.py``
says which and why), 200 for an event we took, whatever became of it (applied, on the
exception list, a replay, an event type that is no payment): the provider must not retry
those, and a bookkeeper resolves an exception without the provider.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from invoice_dispatch.payments.webhook import (
    SIGNATURE_HEADER,
    WebhookRejected,
    incoming_payment,
    parse_payment_event,
    verify_signature,
)
from invoice_dispatch.platform import Platform
from invoice_dispatch.workflow.payments_in import receive_payment


@dataclass(frozen=True)
class WebhookAnswer:
    status_code: int
    body: dict[str, str] = field(default_factory=dict)


def answer_payment_event(
    headers: Mapping[str, str], body: bytes, platform: Platform, now: datetime
) -> WebhookAnswer:
    """Verify, parse, apply once (header names in any case)."""
    try:
        verify_signature(
            platform.payments_webhook_secret(),
            {name.lower(): value for name, value in headers.items()}.get(SIGNATURE_HEADER),
            body,
            now,
        )
        event = parse_payment_event(body)
        payment = incoming_payment(event)
    except WebhookRejected as rejected:
        return WebhookAnswer(rejected.status_code, {"status": "refused", "reason": rejected.reason})
    if payment is None:
        return WebhookAnswer(
            200,
            {
                "status": "ignored",
                "message": f"Event type {event.type} is not a payment; nothing was done",
            },
        )
    result = receive_payment(payment, platform)
    return WebhookAnswer(200, {"status": result.outcome, "message": result.explanation})
