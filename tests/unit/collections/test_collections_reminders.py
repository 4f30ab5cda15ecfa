"""Reminders as the customer reads them, paced like invoices, tracked on their own record."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from moto.ses.models import ses_backends

from invoice_dispatch.adapters.collections_store import Claim
from invoice_dispatch.adapters.send_rate import SharedSendRate
from invoice_dispatch.events import CollectionsRun
from invoice_dispatch.invoice import DeliveryStatus
from invoice_dispatch.platform import Platform
from invoice_dispatch.receivables import Receivable
from invoice_dispatch.rendering import render_reminder_email
from invoice_dispatch.tracking import INVOICE_TAG, StoredInvoice
from invoice_dispatch.workflow.finalize import finalize_chunk
from invoice_dispatch.workflow.payments_in import receive_payment
from invoice_dispatch.workflow.reminders import (
    REMINDER_TAG,
    reminder_tag_value,
    send_reminder_chunk,
)
from tests.conftest import draft_invoice, ses_sample_event
from tests.unit.payments.payment_factories import bank_payment
from tests.unit.workflow.test_workflow_dispatch import RUN
from tests.unit.workflow.test_workflow_numbering import NOW
from tools.local_run.lambda_router import load_handler
from tools.local_run.wiring import ACCOUNT_ID, REGION, Template

HOSTILE_NAME = 'Acme <script>alert(1)</script> & "Co"'


def _receivable(
    platform: Platform, account_id: str, locale: str, name: str, channel: str = "email"
) -> StoredInvoice:
    """A finalized invoice with its PDF, admitted as a receivable."""
    draft = draft_invoice(
        account_id,
        customer={
            "name": name,
            "email": f"ap@{account_id.lower()}.example.com",
            "locale": locale,
            "channel": channel,
            "address": {"line1": "1 Test Street", "city": "Paris", "country": "FR"},
        },
    )
    platform.store.create_draft(draft)
    finalize_chunk(RUN, [draft.invoice_id], platform, NOW)
    stored = platform.store.get_invoice(draft.invoice_id)
    assert stored is not None
    platform.ledger.open_receivables([Receivable.opened_for(stored.invoice)])
    return stored


def _sent() -> list[Any]:
    return [
        email.message_from_string(m.raw_data, policy=email.policy.default)
        for m in ses_backends[ACCOUNT_ID][REGION].sent_messages
    ]


def _run(day: date) -> CollectionsRun:
    return CollectionsRun(run_id=f"run-{day}", as_of=day)


def test_a_reminder_in_french_states_what_is_open_escapes_the_name_and_carries_pdf_and_link(
    platform: Platform,
) -> None:
    stored = _receivable(platform, "ACC-FR1", "fr", HOSTILE_NAME)
    number, due = str(stored.invoice.number), stored.invoice.due_date
    assert due is not None
    receive_payment(bank_payment("30.00", number), platform)

    result = send_reminder_chunk(_run(due + timedelta(days=7)), 0, [(number, 7)], platform)

    assert result.sent == [(number, 7)]
    (message,) = _sent()
    assert str(message["Subject"]) == f"Relance : facture {number} en retard de 7 jours"
    text = message.get_body(preferencelist=("plain",)).get_content()
    open_amount = stored.invoice.gross_total - Decimal("30.00")
    assert f"Montant restant dû : {str(open_amount).replace('.', ',')}\xa0€" in text
    assert "IBAN" in text and number in text
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp;" in html
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == f"{number}.pdf"
    assert attachment.get_content() == platform.documents.get_bytes(str(stored.pdf_key))
    # And, as every customer e-mail, the customer's signed portal link
    assert f"{platform.settings.approval_base_url}/portal/ACC-FR1?exp=" in text


def test_a_portal_customers_reminder_carries_a_fresh_portal_link_instead_of_the_pdf(
    platform: Platform,
) -> None:
    stored = _receivable(platform, "ACC-PORTAL", "en", "Portal Ltd", channel="portal")
    number, due = str(stored.invoice.number), stored.invoice.due_date
    assert due is not None

    send_reminder_chunk(_run(due + timedelta(days=7)), 0, [(number, 7)], platform)

    (message,) = _sent()
    assert list(message.iter_attachments()) == []
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert f"{platform.settings.approval_base_url}/portal/ACC-PORTAL?exp=" in text
    assert "customer portal" in text and "attached" not in text


@pytest.mark.parametrize(
    ("locale", "tone", "subject"),
    [
        ("de", "upcoming", "Erinnerung: Rechnung {n} ist am 31.12.2026 fällig"),
        ("de", "final", "Letzte Mahnung: Rechnung {n} ist seit 14 Tagen überfällig"),
        ("en", "due_today", "Invoice {n} is due today"),
        ("en", "overdue", "Overdue: invoice {n} (7 days past due)"),
    ],
)
def test_each_stage_has_its_tone_in_the_customers_language(
    locale: str, tone: str, subject: str
) -> None:
    invoice = draft_invoice(
        customer={
            "name": "Kunde GmbH",
            "email": "a@b.example.com",
            "locale": locale,
            "address": {"line1": "x", "city": "y", "country": "DE"},
        }
    )
    due = date(2026, 12, 31)
    invoice = invoice.model_copy(
        update={"number": "INV-2026-000042", "issue_date": date(2026, 12, 1), "due_date": due}
    )
    days = {"upcoming": -7, "due_today": 0, "overdue": 7, "final": 14}[tone]
    from invoice_dispatch.legal_entity import load_legal_entity

    rendered = render_reminder_email(
        invoice, invoice.gross_total, tone, due + timedelta(days=days), load_legal_entity()
    )
    assert rendered.subject == subject.format(n="INV-2026-000042")


def test_reminders_take_their_turn_from_the_same_shared_ses_pace_as_invoices(
    platform: Platform,
) -> None:
    stored = [_receivable(platform, f"ACC-P{i}", "en", f"Customer {i}") for i in range(3)]
    pacer = platform.mailer._pacer  # the one DispatchInvoices sends invoices through
    assert isinstance(pacer, SharedSendRate) and pacer._key["PK"] == "RATE#ses"
    waits: list[int] = []
    original = pacer.wait
    pacer.wait = lambda: (waits.append(1), original())[1]  # type: ignore[method-assign]
    due = stored[0].invoice.due_date
    assert due is not None

    send_reminder_chunk(_run(due), 0, [(str(s.invoice.number), 0) for s in stored], platform)

    assert len(waits) == 3
    assert pacer.reservation_writes >= 1  # slots reserved in the account's rate item


def test_a_bounced_reminder_is_recorded_on_the_reminder_and_never_on_the_invoice(
    platform: Platform,
) -> None:
    stored = _receivable(platform, "ACC-B1", "en", "Bounce Ltd")
    number, due = str(stored.invoice.number), stored.invoice.due_date
    assert due is not None
    send_reminder_chunk(_run(due), 0, [(number, 0)], platform)
    (message,) = _sent()
    message_id = ses_backends[ACCOUNT_ID][REGION].sent_messages[0].id
    handler = load_handler(Template().functions()["DeliveryEventsFunction"])

    def event(name: str) -> dict[str, Any]:
        sns = ses_sample_event(name, message_id, stored.invoice_id)
        ses_event = json.loads(sns["Records"][0]["Sns"]["Message"])
        del ses_event["mail"]["tags"][INVOICE_TAG]
        ses_event["mail"]["tags"][REMINDER_TAG] = [reminder_tag_value(number, 0)]
        sns["Records"][0]["Sns"]["Message"] = json.dumps(ses_event)
        return sns

    from tools.approval_server import LocalLambdaContext

    assert handler(event("bounce"), LocalLambdaContext()) == {"applied": 1}
    assert handler(event("delivery"), LocalLambdaContext()) == {"applied": 0}  # too late

    (reminder,) = platform.collections.reminders(number)
    assert (reminder.stage, reminder.status) == ("+0", DeliveryStatus.BOUNCED.value)
    assert "bounce" in reminder.detail.lower()
    invoice = platform.store.get_invoice(stored.invoice_id)
    assert invoice is not None and invoice.delivery_status is stored.delivery_status
    assert message["To"] == "ap@acc-b1.example.com"


def test_two_runs_racing_for_one_stage_claim_it_once(platform: Platform) -> None:
    stored = _receivable(platform, "ACC-R1", "en", "Race Ltd")
    number, due = str(stored.invoice.number), stored.invoice.due_date
    assert due is not None
    first, second = _run(due), CollectionsRun(run_id="second-fire", as_of=due)
    collections = platform.collections
    assert collections.claim_reminder(number, 0, first, "a@example.com") is Claim.CLAIMED
    assert collections.claim_reminder(number, 0, second, "a@example.com") is Claim.TAKEN
    collections.record_reminder(number, 0, due, "msg-1")
    # The first run's chunk, retried after throttling, counts what it sent; nobody re-sends.
    assert collections.claim_reminder(number, 0, first, "a@example.com") is Claim.SENT_BY_THIS_RUN
    assert send_reminder_chunk(second, 0, [(number, 0)], platform).sent == []
    assert _sent() == []
