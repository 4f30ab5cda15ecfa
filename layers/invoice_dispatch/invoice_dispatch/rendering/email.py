"""The e-mail that carries an invoice: subject, plain-text and HTML bodies.

Both bodies say the same thing, in the customer's language, with the amount and due date
formatted as the customer writes them. The HTML body is autoescaped (a customer's name
is untrusted text that ends up in mail clients); the text body is never HTML-escaped,
since "&" must stay "&" in plain text.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment
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
from invoice_dispatch.rendering.templates import jinja_environment, templates_dir


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text_body: str
    html_body: str


@lru_cache(maxsize=4)
def _environment(templates_path: Path) -> Environment:
    return jinja_environment(templates_path)


def render_invoice_email(
    invoice: Invoice,
    legal_entity: LegalEntity,
    portal_url: str | None = None,
    templates_path: Path | None = None,
) -> RenderedEmail:
    """Subject and bodies for ``invoice``; with ``portal_url`` the mail links instead of attaching.

    Only finalized invoices are mailed: a draft has no number a customer could pay against.
    """
    if invoice.number is None or invoice.due_date is None:
        raise NotFinalizedError(
            f"Invoice {invoice.invoice_id} is not finalized and cannot be e-mailed"
        )
    environment = _environment(templates_path or templates_dir())
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
    # The HTML greeting isolates the name (<bdi>) inside the escaped sentence; the text
    # body has no markup to isolate with, so its controls are removed (see rendering.bidi).
    text_sentences = {
        **sentences,
        "greeting": labels["email_greeting"].format(name=invoice.customer.name),
    }
    html_sentences = {
        **sentences,
        "greeting": escape(labels["email_greeting"]).format(
            name=Markup("<bdi>{}</bdi>").format(invoice.customer.name)
        ),
    }
    context = {
        "language": language,
        "portal_url": portal_url,
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
    return RenderedEmail(
        subject=subject,
        text_body=neutralise_bidi_controls(
            environment.get_template("email/invoice.txt").render(context, s=text_sentences)
        ),
        html_body=environment.get_template("email/invoice.html").render(context, s=html_sentences),
    )
