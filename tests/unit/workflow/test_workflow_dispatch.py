"""E-mail each invoice once; 'sent' only after SES accepted; SES events move delivery state."""

from __future__ import annotations

import email
import email.policy
import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.ses.models import ses_backends

from invoice_dispatch.adapters.send_rate import SharedSendRate
from invoice_dispatch.adapters.ses_mailer import SesMailer
from invoice_dispatch.errors import TransientError
from invoice_dispatch.invoice import DeliveryStatus
from invoice_dispatch.platform import Platform
from invoice_dispatch.run import RunContext
from invoice_dispatch.tracking import INVOICE_TAG
from invoice_dispatch.workflow.delivery_events import apply_ses_event
from invoice_dispatch.workflow.dispatch import dispatch_chunk
from invoice_dispatch.workflow.finalize import finalize_chunk
from tests.conftest import SES_EVENTS, draft_invoice, ses_sample_event
from tests.unit.workflow.test_workflow_numbering import NOW
from tools.local_run.lambda_router import load_handler
from tools.local_run.wiring import ACCOUNT_ID, REGION, Template

RUN = RunContext(run_id="run-1", period="2026-11", mode="live", approval_timeout_seconds=3600)


class FlakySes:
    """Throttles calls whose index ``throttle(index)`` says, delegating the rest to moto."""

    def __init__(self, real: Any, throttle: Any) -> None:
        self.real = real
        self.throttle = throttle
        self.calls = 0

    def send_email(self, **request: Any) -> Any:
        self.calls += 1
        if self.throttle(self.calls):
            raise ClientError(
                {
                    "Error": {
                        "Code": "TooManyRequestsException",
                        "Message": "Maximum sending rate exceeded.",
                    }
                },
                "SendEmail",
            )
        return self.real.send_email(**request)


def sent_emails() -> list[Any]:
    """What moto's SES accepted, raw MIME in ``raw_data``."""
    return list(ses_backends[ACCOUNT_ID][REGION].sent_messages)


def finalized_invoices(platform: Platform, count: int) -> list[str]:
    """``count`` finalized invoices with a PDF, each to its own customer's address."""
    ids = []
    for index in range(count):
        draft = draft_invoice(
            f"ACC-{index:03d}",
            customer={
                "name": f"Kunde {index} GmbH",
                "email": f"ap{index}@kunde.example.com",
                "address": {"line1": "Teststraße 1", "city": "Berlin", "country": "DE"},
            },
        )
        platform.store.create_draft(draft)
        ids.append(draft.invoice_id)
    finalize_chunk(RUN, ids, platform, NOW)
    return ids


def _use_flaky_ses(platform: Platform, throttle: Any) -> FlakySes:
    """SES throttles whatever the pace here; a fast shared pacer keeps the test quick."""
    flaky = FlakySes(platform.clients.client("sesv2"), throttle)
    pacer = SharedSendRate(platform.clients.dynamodb_table(platform.settings.table_name), 1000)
    platform.mailer = SesMailer(
        flaky, platform.settings.ses_configuration_set, pacer, sleep=lambda _: None
    )
    return flaky


def test_each_invoice_goes_to_its_customer_with_the_pdf_attached(platform: Platform) -> None:
    ids = finalized_invoices(platform, 3)

    outcome = dispatch_chunk(RUN, ids, platform)

    assert sorted(outcome.done) == sorted(ids)
    for message in sent_emails():
        parsed = email.message_from_string(message.raw_data, policy=email.policy.default)
        attachments = list(parsed.iter_attachments())
        number = attachments[0].get_filename().removesuffix(".pdf")
        stored = next(
            platform.store.get_invoice(i)
            for i in ids
            if platform.store.get_invoice(i).invoice.number == number
        )  # type: ignore[union-attr]
        assert parsed["To"] == stored.invoice.customer.email
        assert attachments[0].get_content().startswith(b"%PDF")


def test_retried_dispatch_sends_no_second_email(platform: Platform) -> None:
    ids = finalized_invoices(platform, 2)

    dispatch_chunk(RUN, ids, platform)
    again = dispatch_chunk(RUN, ids, platform)

    assert len(sent_emails()) == 2
    assert sorted(again.skipped) == sorted(ids)


def test_throttling_on_every_other_call_still_sends_each_invoice_exactly_once(
    platform: Platform,
) -> None:
    ids = finalized_invoices(platform, 6)
    flaky = _use_flaky_ses(platform, throttle=lambda call: call % 2 == 0)

    outcome = dispatch_chunk(RUN, ids, platform)

    assert sorted(outcome.done) == sorted(ids)
    assert len(sent_emails()) == 6 and flaky.calls > 6
    assert {platform.store.get_invoice(i).delivery_status for i in ids} == {DeliveryStatus.SENT}  # type: ignore[union-attr]


def test_throttled_invoices_stay_queued_with_the_reason_until_the_retry(platform: Platform) -> None:
    ids = finalized_invoices(platform, 3)
    _use_flaky_ses(platform, throttle=lambda call: True)

    with pytest.raises(TransientError, match="still queued"):
        dispatch_chunk(RUN, ids, platform)

    for invoice_id in ids:
        stored = platform.store.get_invoice(invoice_id)
        assert stored is not None and stored.delivery_status is DeliveryStatus.QUEUED
        assert stored.ses_message_id is None and "SES is throttling sends" in (
            stored.delivery_detail or ""
        )
    assert sent_emails() == []

    _use_flaky_ses(platform, throttle=lambda call: False)
    retried = dispatch_chunk(RUN, ids, platform)
    assert sorted(retried.done) == sorted(ids) and len(sent_emails()) == 3


class RejectingSes:
    """SES refusing a message for good (a blocked recipient): no retry sends it."""

    def send_email(self, **request: Any) -> Any:
        raise ClientError(
            {"Error": {"Code": "MessageRejected", "Message": "Email address is on the block list"}},
            "SendEmail",
        )


def test_a_message_ses_refuses_for_good_is_recorded_failed_with_its_reason(
    platform: Platform,
) -> None:
    (invoice_id,) = finalized_invoices(platform, 1)
    pacer = SharedSendRate(platform.clients.dynamodb_table(platform.settings.table_name), 1000)
    platform.mailer = SesMailer(
        RejectingSes(), platform.settings.ses_configuration_set, pacer, sleep=lambda _: None
    )

    outcome = dispatch_chunk(RUN, [invoice_id], platform)

    assert "block list" in outcome.failed[invoice_id]
    stored = platform.store.get_invoice(invoice_id)
    assert stored is not None and stored.delivery_status is DeliveryStatus.FAILED
    assert "block list" in (stored.delivery_detail or "") and stored.ses_message_id is None
    assert sent_emails() == []


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        ("delivery", DeliveryStatus.DELIVERED),
        ("bounce", DeliveryStatus.BOUNCED),
        ("complaint", DeliveryStatus.COMPLAINED),
        ("reject", DeliveryStatus.REJECTED),
    ],
)
def test_each_ses_event_sample_moves_the_delivery_state(
    platform: Platform, sample: str, expected: DeliveryStatus
) -> None:
    (invoice_id,) = finalized_invoices(platform, 1)
    dispatch_chunk(RUN, [invoice_id], platform)
    message_id = platform.store.get_invoice(invoice_id).ses_message_id  # type: ignore[union-attr]
    sns_event = ses_sample_event(sample, message_id, invoice_id)
    event = json.loads(sns_event["Records"][0]["Sns"]["Message"])

    first = apply_ses_event(event, platform)
    repeated = apply_ses_event(event, platform)

    assert first.applied and first.new_status is expected
    assert not repeated.applied
    stored = platform.store.get_invoice(invoice_id)
    assert stored is not None and stored.delivery_status is expected


def test_late_delivery_event_does_not_overwrite_a_bounce(platform: Platform) -> None:
    (invoice_id,) = finalized_invoices(platform, 1)
    dispatch_chunk(RUN, [invoice_id], platform)
    message_id = platform.store.get_invoice(invoice_id).ses_message_id  # type: ignore[union-attr]
    for sample in ("bounce", "delivery"):
        sns_event = ses_sample_event(sample, message_id, invoice_id)
        apply_ses_event(json.loads(sns_event["Records"][0]["Sns"]["Message"]), platform)

    assert platform.store.get_invoice(invoice_id).delivery_status is DeliveryStatus.BOUNCED  # type: ignore[union-attr]


def test_bounce_increments_the_failed_deliveries_metric(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    from invoice_dispatch.observability import metrics

    (invoice_id,) = finalized_invoices(platform, 1)
    dispatch_chunk(RUN, [invoice_id], platform)
    message_id = platform.store.get_invoice(invoice_id).ses_message_id  # type: ignore[union-attr]
    handler = load_handler(Template().functions()["DeliveryEventsFunction"])
    recorded: list[tuple[str, float]] = []
    real_add_metric = metrics.add_metric

    def spy(name: str, unit: Any, value: float, **kwargs: Any) -> None:
        recorded.append((name, value))
        real_add_metric(name=name, unit=unit, value=value, **kwargs)

    monkeypatch.setattr(metrics, "add_metric", spy)

    delivered = handler(ses_sample_event("delivery", message_id, invoice_id), _context())
    bounced = handler(ses_sample_event("bounce", message_id, invoice_id), _context())

    assert delivered == {"applied": 1} and bounced == {"applied": 1}
    assert recorded.count(("FailedDeliveries", 1)) == 1


def _context() -> Any:
    from tools.approval_server import LocalLambdaContext

    return LocalLambdaContext(function_name="DeliveryEventsFunction")


def test_sample_events_are_real_shaped_sns_notifications() -> None:
    for path in Path(SES_EVENTS).glob("*.json"):
        record = json.loads(path.read_text())["Records"][0]
        assert record["EventSource"] == "aws:sns"
        mail = json.loads(record["Sns"]["Message"])["mail"]
        assert mail["messageId"] and mail["tags"][INVOICE_TAG]


def _dispatched_to(platform: Platform, account_id: str, channel: str) -> Any:
    draft = draft_invoice(
        account_id,
        customer={
            "name": "Portal Kunde GmbH",
            "email": "ap@portal.example.com",
            "channel": channel,
            "address": {"line1": "Teststraße 1", "city": "Berlin", "country": "DE"},
        },
    )
    platform.store.create_draft(draft)
    finalize_chunk(RUN, [draft.invoice_id], platform, NOW)
    dispatch_chunk(RUN, [draft.invoice_id], platform)
    (message,) = sent_emails()
    return email.message_from_string(message.raw_data, policy=email.policy.default)


def test_portal_customers_get_their_signed_portal_link_instead_of_an_attachment(
    platform: Platform,
) -> None:
    parsed = _dispatched_to(platform, "ACC-PORTAL", "portal")

    assert list(parsed.iter_attachments()) == []
    body = parsed.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert f"{platform.settings.approval_base_url}/portal/ACC-PORTAL?exp=" in body
    assert "&sig=" in body and "attached" not in body


@pytest.mark.parametrize("channel", ["email", "both"])
def test_email_and_both_channel_customers_get_the_pdf_and_the_portal_link(
    platform: Platform, channel: str
) -> None:
    parsed = _dispatched_to(platform, "ACC-MAIL", channel)

    (attachment,) = parsed.iter_attachments()
    assert attachment.get_filename() == "INV-2026-000001.pdf"
    html = parsed.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert "/portal/ACC-MAIL?exp=" in html and "customer portal" in html
