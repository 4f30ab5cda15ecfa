"""The SES configuration set's event stream, locally: a *Send* event for every accepted message.

On AWS the configuration set publishes a Send event (with the message's tags) to SNS,
and DeliveryEvents receives it seconds later, after the sender's call returned. moto
publishes nothing, so without this the local stack could never show how a message id
lost in a crash is recovered. Each message SES v2 accepts is queued here with its tags;
the Lambda router delivers the queue to the real DeliveryEvents handler after the
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


def _send_event(message_id: str, params: dict[str, Any]) -> dict[str, Any]:
    tags = {tag["Name"]: [tag["Value"]] for tag in params.get("EmailTags") or []}
    return {
        "eventType": "Send",
        "mail": {
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "messageId": message_id,
            "source": params.get("FromEmailAddress"),
            "destination": params.get("Destination", {}).get("ToAddresses", []),
            "tags": tags,
        },
        "send": {},
    }


def install() -> None:
    """Queue a Send event for every message moto's SES v2 accepts (idempotent)."""
    original = SESV2Response.send_email
    if getattr(original, "_publishes_send_events", False):
        return

    def send_email(self: SESV2Response) -> str:
        answer = original(self)
        params = json.loads(self.body)
        if params.get("ConfigurationSetName"):
            with _lock:
                _pending.append(_send_event(json.loads(answer)["MessageId"], params))
        return answer

    send_email._publishes_send_events = True  # type: ignore[attr-defined]
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
