"""The payments webhook through its Lambda handler: refusals say why, replays change nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from decimal import Decimal
from typing import Any

import pytest

from invoice_dispatch.payments.webhook import MAX_BODY_BYTES
from invoice_dispatch.platform import Platform
from tests.unit.receivables.receivable_factories import receivable
from tools.approval_server import LocalLambdaContext
from tools.local_run.lambda_router import load_handler
from tools.local_run.wiring import REPO_ROOT, Template

SAMPLE = (REPO_ROOT / "events" / "payments" / "webhook-payment-succeeded.json").read_bytes()
HANDLER = load_handler(Template().functions()["PaymentsWebhookFunction"])


def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    """Computed here from the convention, not with the code under test."""
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def post(body: bytes, header: str | None) -> tuple[int, dict[str, Any]]:
    headers = {"content-type": "application/json"}
    if header is not None:
        headers["webhook-signature"] = header
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/payments/webhook",
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "http": {"method": "POST", "path": "/payments/webhook", "sourceIp": "203.0.113.9"},
            "requestId": "r1",
            "stage": "$default",
        },
        "isBase64Encoded": True,
        "body": base64.b64encode(body).decode(),
    }
    response = HANDLER(event, LocalLambdaContext())
    return response["statusCode"], json.loads(response["body"])


@pytest.fixture
def secret(platform: Platform) -> bytes:
    platform.ledger.open_receivables([receivable("INV-2026-000012", "4209.95")])
    return platform.payments_webhook_secret()


def test_a_signed_payment_is_applied_and_its_replay_changes_nothing(
    platform: Platform, secret: bytes
) -> None:
    status, answer = post(SAMPLE, signature(secret, int(time.time()), SAMPLE))
    assert (status, answer["status"]) == (200, "applied")
    paid = platform.ledger.receivable("INV-2026-000012")

    status, replay = post(SAMPLE, signature(secret, int(time.time()), SAMPLE))

    assert (status, replay["status"]) == (200, "duplicate")
    assert replay["message"].startswith("Already recorded: 4209.95 EUR from Brightwater")
    assert platform.ledger.receivable("INV-2026-000012") == paid
    assert paid is not None and paid.open_amount == Decimal("0.00")
    assert len(platform.ledger.entries("INV-2026-000012")) == 1


def test_a_tampered_body_is_refused(platform: Platform, secret: bytes) -> None:
    header = signature(secret, int(time.time()), SAMPLE)
    tampered = SAMPLE.replace(b"420995", b"999999")
    assert post(tampered, header) == (
        401,
        {
            "status": "refused",
            "reason": "The signature does not match the body: check the endpoint's signing secret",
        },
    )
    assert platform.ledger.entries("INV-2026-000012") == []


def test_an_old_timestamp_is_refused_even_with_a_good_signature(
    platform: Platform, secret: bytes
) -> None:
    status, answer = post(SAMPLE, signature(secret, int(time.time()) - 301, SAMPLE))
    assert status == 401
    assert "more than 300 s away from our clock" in answer["reason"]
    assert platform.ledger.entries("INV-2026-000012") == []


def test_a_body_too_large_is_refused_before_anything_else(secret: bytes) -> None:
    body = b"{" + b" " * MAX_BODY_BYTES + b"}"
    status, answer = post(body, signature(secret, int(time.time()), body))
    assert status == 413
    assert (
        answer["reason"] == f"The body is {len(body)} bytes; a payment event may be at most 65536"
    )


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (b'{"id": "evt_1", "type": ', 400, "The body is not valid JSON"),
        (
            b'{"id": "evt_1", "type": "payment.succeeded", "created": 1, "data": '
            b'{"invoice_number": "INV-2026-000012", "amount_minor": 4209.95, "currency": "EUR"}}',
            422,
            "The payment event is not valid: amount_minor: Input should be a valid integer "
            "(got 4209.95)",
        ),
        (b'{"type": "payment.succeeded", "created": 1}', 422, "id: Field required"),
    ],
)
def test_a_malformed_event_gets_a_4xx_with_the_reason(
    secret: bytes, body: bytes, status: int, reason: str
) -> None:
    got_status, answer = post(body, signature(secret, int(time.time()), body))
    assert got_status == status
    assert reason in answer["reason"]


def test_a_missing_or_garbled_signature_header_is_a_400(secret: bytes) -> None:
    assert post(SAMPLE, None)[0] == 400
    status, answer = post(SAMPLE, "sha256=abc")
    assert status == 400
    assert answer["reason"].startswith("The webhook-signature header must look like t=")


def test_an_event_that_is_no_payment_is_acknowledged_and_ignored(secret: bytes) -> None:
    body = b'{"id": "evt_9", "type": "customer.updated", "created": 1796464800, "data": {}}'
    assert post(body, signature(secret, int(time.time()), body)) == (
        200,
        {
            "status": "ignored",
            "message": "Event type customer.updated is not a payment; nothing was done",
        },
    )


def test_a_payment_for_an_unknown_invoice_goes_to_the_exception_list(
    platform: Platform, secret: bytes
) -> None:
    body = SAMPLE.replace(b"INV-2026-000012", b"INV-2026-000999")
    status, answer = post(body, signature(secret, int(time.time()), body))
    assert (status, answer["status"]) == (200, "unmatched")
    (exception,) = platform.ledger.payment_exceptions()
    assert exception.key == "webhook:evt_2026_12_05_card_000012"
