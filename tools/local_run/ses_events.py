"""The SES configuration set's event stream, locally: a *Delivery* event for every message.

On AWS the configuration set publishes each message's outcome (with the message's
tags) to SNS, and DeliveryEvents receives it seconds later, after the sender's call
returned. moto publishes nothing, so without this the local stack could never show the
delivery tracking, nor how a message id lost in a crash is recovered. moto delivers
every message it accepts, so each is queued here as delivered, with its tags; the
Lambda router delivers the queue to the real DeliveryEvents handler after the
invocation that sent it has ended (returned or crashed), as the asynchronous stream would.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any

from moto.sesv2.responses import SESV2Response

_pending: list[dict[str, Any]] = []
_lock = threading.Lock()


def _delivery_event(message_id: str, params: dict[str, Any]) -> dict[str, Any]:
    tags = {tag["Name"]: [tag["Value"]] for tag in params.get("EmailTags") or []}
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    recipients = params.get("Destination", {}).get("ToAddresses", [])
    return {
        "eventType": "Delivery",
        "mail": {
            "timestamp": now,
            "messageId": message_id,
            "source": params.get("FromEmailAddress"),
            "destination": recipients,
            "tags": tags,
        },
        "delivery": {
            "timestamp": now,
            "recipients": recipients,
            "smtpResponse": "250 2.0.0 OK (local stack)",
        },
    }


def install() -> None:
    """Queue a Delivery event for every message moto's SES v2 accepts (idempotent)."""
    original = SESV2Response.send_email
    if getattr(original, "_publishes_events", False):
        return

    def send_email(self: SESV2Response) -> str:
        answer = original(self)
        params = json.loads(self.body)
        if params.get("ConfigurationSetName"):
            with _lock:
                _pending.append(_delivery_event(json.loads(answer)["MessageId"], params))
        return answer

    send_email._publishes_events = True  # type: ignore[attr-defined]
    SESV2Response.send_email = send_email  # type: ignore[method-assign]


def drain_as_sns_event() -> dict[str, Any] | None:
    """The queued events as one SNS delivery to the DeliveryEvents function, or None."""
    with _lock:
        events, _pending[:] = list(_pending), []
    if not events:
        return None
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "Sns": {"Message": json.dumps(event), "MessageId": event["mail"]["messageId"]},
            }
            for event in events
        ]
    }
