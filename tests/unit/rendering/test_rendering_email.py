"""The invoice e-mail: personalised, in the customer's language, and safe to display."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from email import message_from_bytes
from email import policy as email_policy
from email.header import decode_header, make_header
from pathlib import Path

import pytest
from rendering_samples import (
    BIDI_CONTROLS,
    BIDI_OVERRIDE_NAME,
    BIDI_OVERRIDE_NAME_AS_TYPED,
    HOSTILE_NAME,
    normalise_spaces,
)

from invoice_dispatch.invoice import Channel, Invoice
from invoice_dispatch.legal_entity import LegalEntity
from invoice_dispatch.rendering import NotFinalizedError, RenderedEmail, render_invoice_email
from invoice_dispatch.workflow.mime import build_message

InvoiceFor = Callable[[str], Invoice]


def _email(
    invoice: Invoice, legal_entity: LegalEntity, portal_url: str | None = None
) -> RenderedEmail:
    rendered = render_invoice_email(invoice, legal_entity, portal_url=portal_url)
    return RenderedEmail(
        subject=normalise_spaces(rendered.subject),
        text_body=normalise_spaces(rendered.text_body),
        html_body=normalise_spaces(rendered.html_body),
    )


def test_german_email_is_personalised_with_amount_and_due_date(
    invoice_for: InvoiceFor, legal_entity: LegalEntity
) -> None:
    email = _email(invoice_for("eur_de"), legal_entity)

    assert email.subject == (
        "Rechnung INV-2026-000123 von Northwind Cloud Services GmbH (November 2026)"
    )
    assert "Guten Tag Müller & Söhne Maschinenbau GmbH," in email.text_body
    assert "Rechnungsbetrag: 2.303,89 €, fällig am 31.12.2026." in email.text_body
    assert "im Anhang" in email.text_body
    assert "Verwendungszweck INV-2026-000123" in email.text_body
    assert "Müller &amp; Söhne Maschinenbau GmbH" in email.html_body
    assert "<strong>2.303,89 €</strong>" in email.html_body


def test_english_and_french_emails_use_their_language(
    invoice_for: InvoiceFor, legal_entity: LegalEntity
) -> None:
    english = _email(invoice_for("usd_en"), legal_entity)
    french = _email(invoice_for("jpy_fr"), legal_entity)

    assert english.subject.startswith("Invoice INV-2026-000124 from")
    assert "Amount due: $2,488.19, payable by Dec 31, 2026." in english.text_body
    assert french.subject == (
        "Facture INV-2026-000125 de Northwind Cloud Services GmbH (novembre 2026)"
    )
    assert "Montant dû : 345 583 JPY, à régler avant le 31 déc. 2026." in french.text_body
    assert '<html lang="fr">' in french.html_body


PORTAL_URL = "https://pay.example/portal/ACC-1?exp=1796606362&sig=abc"


def _portal_email(invoice: Invoice, legal_entity: LegalEntity, channel: Channel) -> RenderedEmail:
    customer = invoice.customer.model_copy(update={"channel": channel})
    return _email(
        invoice.model_copy(update={"customer": customer}), legal_entity, portal_url=PORTAL_URL
    )


def test_portal_link_replaces_attachment_wording_and_is_escaped_in_html(
    invoice_for: InvoiceFor, legal_entity: LegalEntity
) -> None:
    email = _portal_email(invoice_for("usd_en"), legal_entity, Channel.PORTAL)

    assert PORTAL_URL in email.text_body
    assert "attached" not in email.text_body
    assert 'href="https://pay.example/portal/ACC-1?exp=1796606362&amp;sig=abc"' in email.html_body


def test_both_channel_email_says_the_pdf_is_attached_and_links_the_portal(
    invoice_for: InvoiceFor, legal_entity: LegalEntity
) -> None:
    email = _portal_email(invoice_for("usd_en"), legal_entity, Channel.BOTH)

    assert "attached to this e-mail as a PDF" in email.text_body
    assert PORTAL_URL in email.text_body and "customer portal" in email.html_body


def test_hostile_customer_name_is_escaped_in_html_but_literal_in_text(
    invoice_for: InvoiceFor, legal_entity: LegalEntity
) -> None:
    email = _email(invoice_for("hostile_name_en"), legal_entity)

    assert "<script>" not in email.html_body
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;Co&#34;" in email.html_body
    assert f"Hello {HOSTILE_NAME}," in email.text_body


def test_bidi_override_in_a_customer_name_is_isolated_in_html_and_removed_from_text(
    invoice_for: InvoiceFor, legal_entity: LegalEntity
) -> None:
    email = _email(invoice_for("bidi_override_name_en"), legal_entity)

    assert BIDI_CONTROLS.search(email.text_body) is None
    assert f"Hello {BIDI_OVERRIDE_NAME_AS_TYPED}," in email.text_body
    assert f"Hello <bdi>{BIDI_OVERRIDE_NAME}</bdi>," in email.html_body


def test_credit_note_email_names_the_credit_and_asks_for_no_transfer(
    invoice_for: InvoiceFor, legal_entity: LegalEntity
) -> None:
    email = _email(invoice_for("credit_note_en"), legal_entity)

    assert email.subject.startswith("Credit note INV-2026-000130 from")
    assert "Credited amount: $2,488.19." in email.text_body
    assert "Please transfer" not in email.text_body
    assert "Please transfer" not in email.html_body


def test_draft_cannot_be_emailed(invoice_for: InvoiceFor, legal_entity: LegalEntity) -> None:
    with pytest.raises(NotFinalizedError):
        render_invoice_email(invoice_for("draft_de"), legal_entity)


def test_email_rendering_does_not_load_the_pdf_renderer() -> None:
    """The dispatch function mails invoices; it must not pay the fonts' set-up at cold start."""
    layer = Path(__file__).resolve().parents[3] / "layers" / "invoice_dispatch"
    probe = (
        "import sys\n"
        "from invoice_dispatch.rendering import render_invoice_email, format_money\n"
        "print(any(m in sys.modules for m in ('fontTools', 'pydyf', 'weasyprint')))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(layer)},
    )

    assert completed.stdout.strip() == "False"


@pytest.mark.parametrize(
    "subject",
    [
        "Rechnung INV-2026-000123 von Northwind Cloud Services GmbH (März 2026)",
        "Invoice INV-2026-000123 from Northwind Cloud Services GmbH and Partners "
        "International Limited (November 2026)",
        "Facture INV-2026-000123 de Northwind (décembre 2026)",
        "Invoice INV-2026-000123 from Northwind (November 2026)",
    ],
)
def test_subject_reads_back_exactly_after_folding(subject: str) -> None:
    """Issue 16: a non-ASCII month gave "GmbH  (März 2026)" and a long subject a line
    starting with a space, depending on how the client unfolds the header."""
    raw = build_message(
        sender="billing@northwind.example",
        recipient="ap@customer.example",
        subject=subject,
        text_body="x",
        html_body="<p>x</p>",
    )
    headers = raw.split(b"\n\n", 1)[0].decode("ascii")

    assert all(len(line) <= 78 for line in headers.splitlines())
    assert str(message_from_bytes(raw, policy=email_policy.default)["Subject"]) == subject
    unfolded_by_hand = message_from_bytes(raw, policy=email_policy.compat32)["Subject"]
    assert str(make_header(decode_header(unfolded_by_hand))) == subject


def test_long_german_subject_of_a_real_invoice_has_single_spaces(
    invoice_for: InvoiceFor, legal_entity: LegalEntity
) -> None:
    march = invoice_for("eur_de").model_copy(
        update={"period_start": date(2026, 3, 1), "period": "2026-03"}
    )
    subject = render_invoice_email(march, legal_entity).subject
    raw = build_message(
        sender="b@n.example", recipient="a@c.example", subject=subject, text_body="x", html_body="x"
    )

    decoded = str(message_from_bytes(raw, policy=email_policy.default)["Subject"])
    assert decoded == "Rechnung INV-2026-000123 von Northwind Cloud Services GmbH (März 2026)"
