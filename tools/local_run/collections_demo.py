"""``make demo ARGS="--collections --as-of 2026-12-30"``: the daily collections run, day by day.

The demo bills the sample accounts (the monthly run, fresh, so its invoice numbers are the
ones the bundled payments name), then moves a simulated clock one day at a time up to
``--as-of``: each day it first feeds the payments dated that day (``events/payments/``:
the card webhook on its day, each bank statement the morning after its last booking) to
the real webhook and import handlers, then runs the real collections state machine with
``{"as_of": day}``. It prints what each day did (reminders with their subject, in the
customer's language; payments; escalations) and the KPIs of the last day, and writes the
report, the reminder e-mails and the escalation to ``out/collections/``.

Five sample accounts store a payment means (``auto_pay``); the demo starts the local
payment gateway (``tools/payment_gateway_server.py``) scripted per means
(``GATEWAY_SCRIPT``), and prints what the payment run did each day: collected, declined
and retried, down or timed out and asked again with the same key, handed to reminders.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import boto3

from invoice_dispatch.payments.webhook import sign
from invoice_dispatch.platform import get_platform
from invoice_dispatch.workflow import keys
from invoice_dispatch.workflow.payments_in import parse_statement
from tools.approval_server import LocalLambdaContext, build_http_api_event
from tools.local_run.runner import LocalEnvironment
from tools.local_run.stack import LOCAL_GATEWAY_API_KEY
from tools.local_run.wiring import REGION, REPO_ROOT
from tools.payment_gateway_server import PaymentGatewayState, running_payment_gateway

#: What the local gateway answers for each sample account's means, one outcome per new
#: charge (the last repeats); unscripted means (ACC-1022's card) are collected at once.
GATEWAY_SCRIPT = {
    "pm_card_visa_low_funds": ["declined:insufficient_funds", "succeeded"],
    "NW-SEPA-1024-2026": ["down", "succeeded"],
    "pm_card_expired": ["declined:expired_card"],
    "pm_card_amex_slow": ["timeout", "succeeded"],
}
PAYMENTS = REPO_ROOT / "events" / "payments"
WEBHOOK_EVENTS = ("webhook-payment-succeeded.json", "webhook-payment-refunded.json")
STATEMENTS = ("statement-2026-12-eur.camt053.xml", "statement-2026-12-usd.csv")


@dataclass(frozen=True)
class PaymentArrival:
    day: date
    label: str
    kind: str  # "webhook" or "statement"
    path: Path


def payment_arrivals() -> list[PaymentArrival]:
    """The bundled payments, each on the day it reaches us."""
    arrivals = []
    for name in WEBHOOK_EVENTS:
        event = json.loads((PAYMENTS / name).read_text())
        paid_on = date.fromisoformat(event["data"]["paid_on"])
        arrivals.append(
            PaymentArrival(paid_on, f"webhook {event['id']}", "webhook", PAYMENTS / name)
        )
    for name in STATEMENTS:
        booked = [p.received_on for p in parse_statement((PAYMENTS / name).read_bytes()).payments]
        arrivals.append(
            PaymentArrival(
                max(booked) + timedelta(days=1), f"statement {name}", "statement", PAYMENTS / name
            )
        )
    return sorted(arrivals, key=lambda arrival: arrival.day)


@contextlib.contextmanager
def demo_gateway() -> Iterator[tuple[dict[str, Any], PaymentGatewayState]]:
    """The local payment gateway, scripted; yields the stack parameters that point at it
    and its state (``connect_webhook`` points its checkouts' events at the stack).

    A charge that "times out" is answered after 2 s to a client that waits 1 s.
    """
    with running_payment_gateway(LOCAL_GATEWAY_API_KEY, slow_seconds=2) as (url, gateway):
        for reference, outcomes in GATEWAY_SCRIPT.items():
            gateway.script(reference, outcomes)
        yield {"PaymentGatewayUrl": url, "PaymentGatewayTimeoutSeconds": 1}, gateway


def connect_webhook(gateway: PaymentGatewayState, env: LocalEnvironment) -> None:
    """A checkout paid on the local gateway's page reaches the stack's payments webhook
    (``POST /payments/webhook`` on the local HTTP API), signed with the stack's secret."""
    gateway.webhook_url = f"{env.stack.approval_base_url}/payments/webhook"
    gateway.webhook_secret = get_platform().payments_webhook_secret()


def post_webhook(env: LocalEnvironment, body: bytes) -> dict[str, str]:
    """POST a payment event to the webhook handler, signed as the provider signs it now."""
    sent_at = int(time.time())
    header = f"t={sent_at},v1={sign(get_platform().payments_webhook_secret(), sent_at, body)}"
    event = build_http_api_event(
        "POST",
        "/payments/webhook",
        {"content-type": "application/json", "webhook-signature": header},
        body,
        "127.0.0.1",
        "localhost",
    )
    handler = env.router.handler_for("PaymentsWebhookFunction")[1]
    return json.loads(handler(event, LocalLambdaContext())["body"])  # type: ignore[no-any-return]


def import_statement(env: LocalEnvironment, name: str, content: str) -> list[dict[str, Any]]:
    """Hand a statement to the import handler, as its on-demand input carries one."""
    handler = env.router.handler_for("ImportStatementFunction")[1]
    reports = handler({"name": name, "content": content}, LocalLambdaContext())
    return [payment for report in reports for payment in report["payments"]]


def feed(arrival: PaymentArrival, env: LocalEnvironment) -> list[str]:
    if arrival.kind == "statement":
        content = arrival.path.read_text(encoding="utf-8")
        payments = import_statement(env, arrival.path.name, content)
        return [f"{payment['outcome']}: {payment['explanation']}" for payment in payments]
    answer = post_webhook(env, arrival.path.read_bytes())
    return [f"{answer['status']}: {answer.get('message') or answer.get('reason', '')}"]


def _day_lines(day: date, env: LocalEnvironment, first_message: int) -> list[str]:
    """What the day's run did: each auto-pay charge, each reminder with its subject, each
    escalation."""
    lines = [
        f"auto-pay {line['sentence']}"
        for result in get_platform().documents.get_json_under(
            keys.collections_autopay_prefix(str(day))
        )
        for line in result["lines"]
    ]
    for message in env.sent_messages()[first_message:]:
        parsed = email.message_from_string(
            getattr(message, "raw_data", ""), policy=email.policy.default
        )
        subject = str(parsed["Subject"])
        if subject.startswith("Collections: "):
            lines.append(f"ESCALATION to {parsed['To']}: {subject}")
        else:
            lines.append(f"reminder to {parsed['To']}: {subject}")
    return lines


def run_collections_days(
    env: LocalEnvironment, first_day: date, as_of: date, out_dir: Path
) -> dict[str, Any]:
    """Walk the days, print each, and export the last day's report and every e-mail."""
    arrivals = payment_arrivals()
    outbox = out_dir / "outbox"
    if out_dir.exists():
        shutil.rmtree(out_dir)
    outbox.mkdir(parents=True)
    day = first_day
    while day <= as_of:
        for arrival in [a for a in arrivals if a.day <= day]:
            arrivals.remove(arrival)
            for line in feed(arrival, env):
                print(f"  {day}  payment ({arrival.label}) {line}")
        first_message = len(env.sent_messages())
        status, _output, error = env.run_collections(
            {"as_of": day.isoformat()}, f"collections-{day}"
        )
        if status != "SUCCEEDED":
            raise RuntimeError(f"The collections run of {day} ended {status}: {error}")
        for index, message in enumerate(env.sent_messages()[first_message:], start=1):
            (outbox / f"{day}-{index:03d}.eml").write_text(getattr(message, "raw_data", ""))
        for line in _day_lines(day, env, first_message):
            print(f"  {day}  {line}")
        day += timedelta(days=1)
    s3 = boto3.client("s3", region_name=REGION)
    bucket = env.stack.names.bucket
    for extension in ("json", "txt", "html"):
        body = s3.get_object(Bucket=bucket, Key=keys.collections_report(str(as_of), extension))
        (out_dir / f"report.{extension}").write_bytes(body["Body"].read())
    return json.loads((out_dir / "report.json").read_text())
