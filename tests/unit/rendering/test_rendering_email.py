"""The invoice e-mail: personalised, in the customer's language, and safe to display."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from rendering_samples import (
    BIDI_CONTROLS,
    BIDI_OVERRIDE_NAME,
    BIDI_OVERRIDE_NAME_AS_TYPED,
    HOSTILE_NAME,
    normalise_spaces,
)

from invoice_dispatch.invoice import Invoice
from invoice_dispatch.legal_entity import LegalEntity
from invoice_dispatch.rendering import NotFinalizedError, RenderedEmail, render_invoice_email

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


def test_portal_link_replaces_attachment_wording_and_is_escaped_in_html(
    invoice_for: InvoiceFor, legal_entity: LegalEntity
) -> None:
    portal_url = "https://docs.example/inv.pdf?X-Amz-Expires=604800&X-Amz-Signature=abc"
    email = _email(invoice_for("usd_en"), legal_entity, portal_url=portal_url)

    assert portal_url in email.text_body
    assert "attached" not in email.text_body
    assert 'href="https://docs.example/inv.pdf?X-Amz-Expires=604800&amp;X-Amz-Signature=abc"' in (
        email.html_body
    )


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
