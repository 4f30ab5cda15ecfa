"""The e-mail that carries an invoice: subject, plain-text and HTML bodies.

Both bodies say the same thing, in the customer's language, with the amount and due date
formatted as the customer writes them. The HTML body is autoescaped (a customer's name
is untrusted text that ends up in mail clients); the text body is never HTML-escaped,
since "&" must stay "&" in plain text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

from invoice_dispatch.invoice import Invoice
from invoice_dispatch.legal_entity import LegalEntity
from invoice_dispatch.rendering.bidi import neutralise_bidi_controls
from invoice_dispatch.rendering.facturx_xml import NotFinalizedError
from invoice_dispatch.rendering.formatting import (
    format_date,
    format_iban,
    format_money,
    format_month,
    language_of,
)
from invoice_dispatch.rendering.labels import is_credit_note, labels_for
from invoice_dispatch.rendering.templates import cached_environment, templates_dir


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text_body: str
    html_body: str


def _with_greeting(
    sentences: dict[str, str], labels: dict[str, str], name: str
) -> tuple[dict[str, str], dict[str, Any]]:
    """The sentences for the text body and for the HTML body, each with its greeting.

    The HTML greeting isolates the name (<bdi>) inside the escaped sentence; the text
    body has no markup to isolate with, so its controls are removed (see rendering.bidi).
    """
    text_sentences = {**sentences, "greeting": labels["email_greeting"].format(name=name)}
    html_sentences = {
        **sentences,
        "greeting": escape(labels["email_greeting"]).format(
            name=Markup("<bdi>{}</bdi>").format(name)
        ),
    }
    return text_sentences, html_sentences


def _render(
    template: str,
    context: dict[str, Any],
    text: dict[str, str],
    html: dict[str, Any],
    templates_path: Path | None = None,
) -> tuple[str, str]:
    environment = cached_environment(templates_path or templates_dir())
    text_body = environment.get_template(f"email/{template}.txt").render(context, s=text)
    html_body = environment.get_template(f"email/{template}.html").render(context, s=html)
    return neutralise_bidi_controls(text_body), html_body


def render_invoice_email(
    invoice: Invoice,
    legal_entity: LegalEntity,
    portal_url: str | None = None,
    templates_path: Path | None = None,
) -> RenderedEmail:
    """Subject and bodies for ``invoice``; with ``portal_url`` the mail carries the customer's
    portal link, beside the attachment or instead of it as the account's channel says.

    Only finalized invoices are mailed: a draft has no number a customer could pay against.
    """
    if invoice.number is None or invoice.due_date is None:
        raise NotFinalizedError(
            f"Invoice {invoice.invoice_id} is not finalized and cannot be e-mailed"
        )
    locale = invoice.customer.locale
    language = language_of(locale)
    labels = labels_for(language)
    amount = format_money(invoice.gross_total, invoice.currency, locale)
    due_date = format_date(invoice.due_date, locale)
    period = format_month(invoice.period_start, locale)
    iban = format_iban(legal_entity.bank.iban)
    credit_note = is_credit_note(invoice)
    if credit_note:
        amount = format_money(-invoice.gross_total, invoice.currency, locale)
    suffix = "_credit" if credit_note else ""
    sentences = {
        "intro": labels[f"email_intro{suffix}"].format(number=invoice.number, period=period),
        "amount": labels[f"email_amount{suffix}"].format(amount=amount, due_date=due_date),
        "attached": labels["email_attached"],
        "portal": labels["email_portal"],
        "payment": labels["email_payment"].format(
            iban=iban, bic=legal_entity.bank.bic, reference=invoice.number
        ),
        "questions": labels["email_questions"],
        "closing": labels["email_closing"],
    }
    text_sentences, html_sentences = _with_greeting(sentences, labels, invoice.customer.name)
    context = {
        "language": language,
        "portal_url": portal_url,
        "attached": invoice.customer.channel.attaches_pdf,
        "seller": legal_entity,
        "invoice": invoice,
        "amount": amount,
        "due_date": due_date,
        "labels": labels,
        "is_credit_note": credit_note,
        "document_name": labels["credit_note"] if credit_note else labels["invoice"],
    }
    subject = labels[f"email_subject{suffix}"].format(
        number=invoice.number, seller=legal_entity.name, period=period
    )
    text_body, html_body = _render(
        "invoice", context, text_sentences, html_sentences, templates_path
    )
    return RenderedEmail(subject=subject, text_body=text_body, html_body=html_body)


#: The reminder's left rule, from calm to firm (the seller's accent colour first).
_TONE_COLOURS = {"overdue": "#c2410c", "final": "#b91c1c"}


def render_reminder_email(
    invoice: Invoice,
    open_amount: Decimal,
    tone: str,
    as_of: date,
    legal_entity: LegalEntity,
    portal_url: str | None = None,
) -> RenderedEmail:
    """A payment reminder for ``invoice`` in the customer's language, in the stage's tone.

    It states what is still open (not the invoice total: a partial payment must be
    acknowledged, or the customer pays twice), repeats the payment instructions with the
    invoice number as reference, and carries the invoice as the invoice e-mail did.
    """
    if invoice.number is None or invoice.due_date is None:
        raise NotFinalizedError(f"Invoice {invoice.invoice_id} is not finalized: no reminder")
    locale = invoice.customer.locale
    labels = labels_for(language_of(locale))
    due_date = format_date(invoice.due_date, locale)
    values = {
        "number": invoice.number,
        "due_date": due_date,
        "days": (as_of - invoice.due_date).days,
        "open_amount": format_money(open_amount, invoice.currency, locale),
        "gross": format_money(invoice.gross_total, invoice.currency, locale),
    }
    sentences = {
        "intro": labels[f"reminder_intro_{tone}"].format(**values),
        "amount": labels["reminder_amount"].format(**values),
        "attached": labels["email_attached"],
        "portal": labels["email_portal"],
        "payment": labels["email_payment"].format(
            iban=format_iban(legal_entity.bank.iban),
            bic=legal_entity.bank.bic,
            reference=invoice.number,
        ),
        "paid_already": labels["reminder_paid_already"],
        "questions": labels["email_questions"],
        "closing": labels["email_closing"],
    }
    subject = labels[f"reminder_subject_{tone}"].format(**values)
    text, html = _with_greeting(sentences, labels, invoice.customer.name)
    context = {
        "language": language_of(locale),
        "portal_url": portal_url,
        "attached": invoice.customer.channel.attaches_pdf,
        "seller": legal_entity,
        "invoice": invoice,
        "labels": labels,
        "subject": subject,
        "document_name": labels["invoice"],
        "tone_colour": _TONE_COLOURS.get(tone, legal_entity.branding.accent_colour),
        **values,
    }
    text_body, html_body = _render("reminder", context, text, html)
    return RenderedEmail(subject=subject, text_body=text_body, html_body=html_body)
