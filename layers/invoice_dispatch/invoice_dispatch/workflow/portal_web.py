"""The customer's portal: one page of their documents (GET), each document's PDF (GET),
and, with a payment gateway, "Pay online" for an open invoice (POST).

Plain functions of (request, platform) -> page, like the approval pages. Nothing here
writes: a mail scanner that opens the link, or a person who reloads, changes nothing,
and the portal's Lambda has no write permission at all (``infra/template.yaml``). The
one action, "Pay online", is a POST from a button (scanners follow links, not forms)
and writes nothing of ours either: it asks the gateway for a hosted checkout under a
key that makes repeated clicks one checkout, and sends the customer there. The payment
comes back through the payments webhook like any card payment.

Who may see what: the signed link names the account (``portal/links.py``); every read
starts from that account's own GSI5 partition, and every document read is checked to
belong to it again, so no edit of the address reaches another customer's data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from urllib.parse import quote, unquote, urlencode
from zoneinfo import ZoneInfo

from invoice_dispatch.approval.errors import LinkRejected
from invoice_dispatch.approval.models import as_utc_text
from invoice_dispatch.approval.page import render_error_page
from invoice_dispatch.autopay import CheckoutUnavailable
from invoice_dispatch.invoice import Invoice, InvoiceStatus
from invoice_dispatch.observability import logger
from invoice_dispatch.platform import Platform, origin_of
from invoice_dispatch.portal.checkout import checkout_refusal, checkout_request
from invoice_dispatch.portal.links import PortalClaims, portal_path, verify_portal_link
from invoice_dispatch.portal.page import render_portal_page
from invoice_dispatch.portal.statement import (
    PortalRow,
    PortalView,
    Wording,
    credit_note_row,
    invoice_row,
    standing,
)
from invoice_dispatch.workflow.approval_web import SECURITY_HEADERS, Page

#: Documents per page: a year of monthly invoices and their credit notes.
PAGE_SIZE = 24
INVOICES = "invoices"
CREDIT_NOTES = "credit-notes"
#: ``POST /portal/<account>/pay/<invoice id>``: the "Pay online" button's target.
PAY = "pay"
_REFUSAL = "This link cannot be used"
#: ``before``: a GSI5 sort key (issue date and number) of the previous page's last document.
_BEFORE = re.compile(r"^\d{4}-\d{2}-\d{2}#[A-Za-z0-9._/-]{1,60}$")


_HELP = "If you need help, reply to the e-mail that brought you this link."


def _error(
    status_code: int, title: str, message: str, headers: Mapping[str, str] | None = None
) -> Page:
    return Page(status_code, render_error_page(title, message, _HELP), headers=headers or {})


def _page_headers(platform: Platform) -> dict[str, str]:
    """With a gateway, the page's CSP lets its forms lead to the hosted checkout's origin.

    ``form-action`` governs where a form's submission may end up after redirects too
    (Chromium enforces it on the 303), so with ``'self'`` alone the browser would refuse
    the gateway's page the "Pay online" POST sends the customer to.
    """
    origin = platform.checkout_origin
    if not origin:
        return {}
    csp = SECURITY_HEADERS["Content-Security-Policy"]
    return {
        "Content-Security-Policy": csp.replace("form-action 'self'", f"form-action 'self' {origin}")
    }


def _seller_today(platform: Platform, now: datetime) -> date:
    """ "Overdue" from the day after the due date where the seller is, as reminders count it."""
    return now.astimezone(ZoneInfo(platform.legal_entity.timezone)).date()


def _verified(
    account_id: str, query: Mapping[str, str], platform: Platform, now: datetime
) -> PortalClaims:
    return verify_portal_link(
        account_id, query.get("exp", ""), query.get("sig", ""), platform.portal_key(), now
    )


def _refused(
    account_id: str, query: Mapping[str, str], platform: Platform, now: datetime
) -> Page | None:
    """The refusal page of a link that does not open this account, or None if it does."""
    try:
        _verified(account_id, query, platform, now)
    except LinkRejected as rejected:
        return _error(rejected.status_code, _REFUSAL, rejected.reason)
    return None


def _signed_url(
    account_id: str, query: Mapping[str, str], platform: Platform, suffix: str = "", **extra: str
) -> str:
    signed = {name: query[name] for name in ("exp", "sig") if name in query}
    base = platform.settings.approval_base_url.rstrip("/")
    return f"{base}{portal_path(account_id)}{suffix}?{urlencode({**signed, **extra})}"


def _belongs(document: Invoice, account_id: str) -> bool:
    """Defence in depth: the index said so, the document must say so too."""
    return document.account_id == account_id and document.mode == "live"


def _rows(
    account_id: str,
    keys: list[tuple[str, str]],
    query: Mapping[str, str],
    platform: Platform,
    today: date,
) -> tuple[list[PortalRow], Wording, str]:
    """The page's documents in index order (newest first), in the language and with the
    customer's name the newest one states; three batch reads for the whole page."""
    ids_of = {
        prefix: [pk.removeprefix(prefix) for pk, _ in keys if pk.startswith(prefix)]
        for prefix in ("INVOICE#", "CORRECTION#")
    }
    invoices = platform.store.get_invoices(ids_of["INVOICE#"])
    credit_notes = platform.corrections.issued_credit_notes(ids_of["CORRECTION#"])
    receivables = platform.ledger.receivables_collecting(
        [stored.invoice.number for stored in invoices.values() if stored.invoice.number]
    )
    # (document id, document, its PDF's key), each checked to be this account's.
    documents: list[tuple[str, Invoice, str | None]] = []
    for pk, _ in keys:
        document_id = pk.partition("#")[2]
        stored = invoices.get(document_id)
        note = credit_notes.get(document_id)
        if stored is not None and stored.invoice.status is InvoiceStatus.FINALIZED:
            documents.append((document_id, stored.invoice, stored.pdf_key))
        elif note is not None:
            documents.append((document_id, note.document, note.pdf_key))
    documents = [entry for entry in documents if _belongs(entry[1], account_id)]
    newest = documents[0][1].customer if documents else None
    wording = Wording.for_locale(newest.locale if newest else "en")

    def document_url(kind: str, document_id: str) -> str:
        return _signed_url(account_id, query, platform, f"/{kind}/{quote(document_id, safe='')}")

    def pdf_url(kind: str, document_id: str, pdf_key: str | None) -> str | None:
        return document_url(kind, document_id) if pdf_key else None

    online = platform.offers_online_payment

    rows = [
        credit_note_row(document, pdf_url(CREDIT_NOTES, document_id, pdf_key), wording)
        if document.credited_invoice_number
        else invoice_row(
            document,
            receivables.get(document.number or "", (None, False)),
            pdf_url(INVOICES, document_id, pdf_key),
            platform.legal_entity,
            today,
            wording,
            document_url(PAY, document_id) if online else None,
        )
        for document_id, document, pdf_key in documents
    ]
    return rows, wording, newest.name if newest else account_id


def show_portal(
    account_id: str, query: Mapping[str, str], platform: Platform, now: datetime | None = None
) -> Page:
    now = now or datetime.now(UTC)
    account_id = unquote(account_id)  # path segments may arrive percent-encoded, as sent
    try:
        claims = _verified(account_id, query, platform, now)
    except LinkRejected as rejected:
        return _error(rejected.status_code, _REFUSAL, rejected.reason)
    before = query.get("before") or None
    if before is not None and not _BEFORE.match(before):
        return _error(
            400,
            "This page does not exist",
            "The page address was altered; open the link from your e-mail again.",
        )
    page = platform.store.customer_documents(account_id, PAGE_SIZE, before)
    today = _seller_today(platform, now)
    rows, wording, customer_name = _rows(account_id, page.keys, query, platform, today)
    view = PortalView(
        wording=wording,
        account_id=account_id,
        customer_name=customer_name,
        rows=rows,
        seller=platform.legal_entity,
        expires_text=as_utc_text(claims.expires_at),
        first_page_url=_signed_url(account_id, query, platform) if before else None,
        older_url=_signed_url(account_id, query, platform, before=page.older_than)
        if page.older_than
        else None,
    )
    return Page(200, render_portal_page(view), headers=_page_headers(platform))


def download_document(
    account_id: str,
    kind: str,
    document_id: str,
    query: Mapping[str, str],
    platform: Platform,
    now: datetime | None = None,
) -> Page:
    """The PDF of one of the account's documents, read from S3 as it was stored."""
    account_id, document_id = unquote(account_id), unquote(document_id)
    refused = _refused(account_id, query, platform, now or datetime.now(UTC))
    if refused:
        return refused
    pdf_key: str | None = None
    if kind == INVOICES:
        stored = platform.store.get_invoice(document_id)
        if stored is not None and _belongs(stored.invoice, account_id) and stored.invoice.number:
            pdf_key = stored.pdf_key
    elif kind == CREDIT_NOTES:
        note = platform.corrections.issued_credit_notes([document_id]).get(document_id)
        if note is not None and _belongs(note.document, account_id):
            pdf_key = note.pdf_key
    if not pdf_key:
        return _error(
            404,
            "No such document",
            "This account has no such document, or its PDF is still being prepared.",
        )
    return Page(200, platform.documents.get_bytes(pdf_key), "application/pdf")


def start_checkout(
    account_id: str,
    invoice_id: str,
    query: Mapping[str, str],
    platform: Platform,
    now: datetime | None = None,
) -> Page:
    """ "Pay online": a 303 to the gateway's hosted page for what the invoice has open.

    Refusals (a bad link, another account's or an unknown invoice, one that is paid,
    disputed or auto-pay's) are 4xx pages with a sentence, and the gateway is not asked.
    A gateway that is down or slow is a 503 with a sentence; nothing is recorded anywhere,
    so the customer simply tries again, and gets the same checkout if one was made.
    """
    now = now or datetime.now(UTC)
    account_id, invoice_id = unquote(account_id), unquote(invoice_id)
    refused = _refused(account_id, query, platform, now)
    if refused:
        return refused
    if not platform.offers_online_payment:
        return _error(
            404,
            "Online payment is not offered",
            "Please pay by bank transfer with the details shown on your page.",
        )
    stored = platform.store.get_invoice(invoice_id)
    invoice = stored.invoice if stored else None
    if (
        invoice is None
        or not _belongs(invoice, account_id)
        or invoice.status is not InvoiceStatus.FINALIZED
        or not invoice.number
    ):
        return _error(404, "No such invoice", "This account has no such invoice to pay.")
    ledger = platform.ledger.receivables_collecting([invoice.number])
    current = standing(
        invoice, ledger.get(invoice.number, (None, False)), _seller_today(platform, now)
    )
    refusal = checkout_refusal(invoice.number, current)
    if refusal:
        return _error(409, "Nothing to pay online", refusal)
    return_url = f"{_signed_url(account_id, query, platform)}#pay-{invoice.number}"
    try:
        session = platform.payment_gateway.create_checkout(
            checkout_request(invoice, current, return_url)
        )
        if origin_of(session.url) != platform.checkout_origin:
            raise CheckoutUnavailable(
                f"the gateway's hosted page {session.url} is outside {platform.checkout_origin}"
            )
    except CheckoutUnavailable as unavailable:
        logger.warning(
            "Checkout unavailable", extra={"invoice": invoice.number, "reason": str(unavailable)}
        )
        return _error(
            503,
            "Online payment is not available right now",
            "Our payment provider did not answer, so nothing was charged. Please try again "
            "in a few minutes, or pay by bank transfer with the details shown on your page.",
            {"Retry-After": "60"},
        )
    return Page(303, "", headers={"Location": session.url})
